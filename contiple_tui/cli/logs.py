"""The log file: DATA_DIR/logs/contiple.log, rotated by size, the service account's alone (0600 in a
0700 folder). What goes there: CTI connects, disconnects and their reasons, resyncs, gateway calls and
their result codes (never keys or message bodies), operator commands, and every unexpected error with
its traceback. INFO and up; ``--debug`` (or CONTIPLE_TUI_DEBUG=1) adds DEBUG.

Every console of the data directory appends to the same file; one of them rotates it, under a lock,
and the others reopen the new file instead of rotating again. Only the package's logger is set up
(``contiple_tui``), so a program that embeds it (the tests) keeps its own logging."""

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


class _SharedRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log that many processes append to: each file it opens is 0600 whatever the umask; a
    rotation happens under a lock, by one process, and the others notice (the file at the path is no
    longer the one they hold) and reopen instead of rotating again."""

    def _open(self):  # type: ignore[override]
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.fchmod(fd, 0o600)
            return os.fdopen(fd, "a", encoding=self.encoding, errors=self.errors)
        except BaseException:
            os.close(fd)
            raise

    def _moved(self) -> bool:
        """Whether the file at the path is not the one this process writes (another rotated it)."""
        if self.stream is None:
            return True
        try:
            return os.stat(self.baseFilename).st_ino != os.fstat(self.stream.fileno()).st_ino
        except OSError:
            return True

    def _reopen(self) -> None:
        if self.stream is not None:
            self.stream.close()
        self.stream = self._open()

    def shouldRollover(self, record: logging.LogRecord) -> bool:
        if self._moved():
            self._reopen()
        try:
            return os.stat(self.baseFilename).st_size >= self.maxBytes > 0
        except OSError:
            return False

    def doRollover(self) -> None:
        import fcntl

        with open(self.baseFilename + ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                # Another process may have rotated while this one waited: then only reopen.
                if not self._moved() and os.stat(self.baseFilename).st_size >= self.maxBytes:
                    if self.stream is not None:
                        self.stream.close()
                        self.stream = None  # type: ignore[assignment]
                    for n in range(self.backupCount - 1, 0, -1):
                        older = f"{self.baseFilename}.{n}"
                        if os.path.exists(older):
                            os.replace(older, f"{self.baseFilename}.{n + 1}")
                    os.replace(self.baseFilename, f"{self.baseFilename}.1")
                self._reopen()
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

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
        handler = _SharedRotatingFileHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8")
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
