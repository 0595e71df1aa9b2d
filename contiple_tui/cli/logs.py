"""The log file: DATA_DIR/logs/contiple.log, rotated by size, the service account's alone (0600 in a
0700 folder). What goes there: CTI connects, disconnects and their reasons, resyncs, gateway calls and
their result codes (never keys or message bodies), operator commands, and every unexpected error with
its traceback. INFO and up; ``--debug`` (or CONTIPLE_TUI_DEBUG=1) adds DEBUG.

Every console of the data directory appends to the same file; a rotation racing another process's may
lose a few lines, never the file. Only the package's logger is set up (``contiple_tui``), so a program
that embeds it (the tests) keeps its own logging."""

from __future__ import annotations

import logging
import logging.handlers
import os
from pathlib import Path

from contiple_tui.store.connection import private_dir

LOG_DIRNAME = "logs"
LOG_FILENAME = "contiple.log"
MAX_BYTES = 2_000_000
BACKUPS = 5
FORMAT = "%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"

_handler: logging.Handler | None = None


class _PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """Each file it opens (the first and every one after a rotation) is 0600, whatever the umask."""

    def _open(self):  # type: ignore[override]
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.fchmod(fd, 0o600)
        return os.fdopen(fd, "a", encoding=self.encoding, errors=self.errors)

    def handleError(self, record: logging.LogRecord) -> None:
        """A line that cannot be written (the disk is full) is dropped: the log never speaks over the
        screen or the command's own one-line message (logging would print a traceback on stderr)."""


def setup(data_dir: Path, *, debug: bool = False) -> Path | None:
    """Log to ``data_dir``/logs/contiple.log from now on (once per process: a later call moves it). None
    when the folder cannot be written: the program then runs without a log file rather than not at all."""
    global _handler
    package = logging.getLogger("contiple_tui")
    if _handler is not None:
        package.removeHandler(_handler)
        _handler.close()
        _handler = None
    path = Path(data_dir) / LOG_DIRNAME / LOG_FILENAME
    try:
        private_dir(path.parent)
        handler = _PrivateRotatingFileHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8")
    except OSError:
        return None
    handler.setFormatter(logging.Formatter(FORMAT))
    package.addHandler(handler)
    package.setLevel(logging.DEBUG if debug else logging.INFO)
    _handler = handler
    return path


def close() -> None:
    """Stop logging to the file (a program that embeds the command line, such as the tests)."""
    global _handler
    if _handler is not None:
        logging.getLogger("contiple_tui").removeHandler(_handler)
        _handler.close()
        _handler = None
