"""Command line: global options, operator commands, and the console itself.

``main`` (main.py) parses and picks the command; each command group has its module: console.py (the
console and the wallboard), demo.py (``demo``, ``cti-sim``), directory.py (``users``, ``services``),
export.py, sms.py; common.py holds what they share. Imports stay lazy: ``contiple-tui --version``
must be fast and must not import textual.
"""

from contiple_tui.cli.main import main

__all__ = ["main"]
