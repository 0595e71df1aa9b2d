"""Domain rules and services. Headless: never imports textual (tests/test_headless.py checks)."""
