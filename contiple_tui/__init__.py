"""Contiple supervisor console (terminal UI) for Korean contact centers.

Kept import-free on purpose: ``contiple-tui --version`` must stay fast and must not import textual.
"""

__version__ = "0.1.0"
