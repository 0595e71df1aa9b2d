"""Contiple supervisor console (terminal UI) for Korean contact centers.

Kept nearly import-free on purpose: ``contiple-tui --version`` must stay fast and must not import
textual. The package's log records go to the log file once the command line sets it up (cli/logs.py),
never to the terminal: without it, Python would print warnings over the screen.
"""

import logging

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())
