"""Textual's Linux driver, made to notice that its terminal went away.

Textual 8.2's ``LinuxDriver.run_input_thread`` treats an empty read as "stdin is piped" and selects
again: once the pty's other side is closed (the SSH client left) the fd is always readable and always
empty, so the input thread spins a core until something else stops the app. Its writer thread dies
on the first failed write (EIO), after which the app blocks on a full queue. This driver reports the
end of input (empty read or an error) to the ``TerminalGuard`` and stops reading, and its output file
drops writes once the terminal is gone, so the app leaves through its normal exit. A read that would
block (EAGAIN, a non-blocking terminal shared with another reader) or is interrupted (EINTR) is not an
end of input.
"""

from __future__ import annotations

import asyncio
import errno
import os
import select
import selectors
import time
from codecs import getincrementaldecoder
from typing import IO, Any

from textual._loop import loop_last
from textual._parser import ParseError
from textual._xterm_parser import XTermParser
from textual.drivers.linux_driver import LinuxDriver

from contiple_tui.terminal import TerminalGuard, elsewhere

# Read errors that mean the terminal is gone: EIO (the pty's other side closed, or a background
# process group of a hung-up session), ENXIO/ENODEV (the device went away), EBADF (the descriptor was
# closed under us: nothing will ever be read from it again).
TERMINAL_GONE = frozenset({errno.EIO, errno.ENXIO, errno.ENODEV, errno.EBADF})
MAX_ODD_FAILURES = 10  # any other read error, this many times in a row (about a second): gone too


class _TolerantOutput:
    """The driver's output file: a failed write means the terminal is gone, not a dead writer thread.

    A full non-blocking terminal (EAGAIN) is waited for, not taken for a hang-up."""

    def __init__(self, file: IO[str], guard: TerminalGuard) -> None:
        self._file = file
        self._guard = guard
        self._broken = False

    def write(self, text: str) -> int:
        if not self._broken:
            try:
                return self._file.write(text)
            except BlockingIOError:  # what did not fit stays buffered: flushed once writable
                self.flush()
            except (OSError, ValueError):
                self._gone()
        return len(text)

    def flush(self) -> None:
        for _attempt in range(100):
            if self._broken:
                return
            try:
                self._file.flush()
                return
            except BlockingIOError:
                try:
                    select.select([], [self._file.fileno()], [], 0.1)
                except (OSError, ValueError):
                    pass
            except (OSError, ValueError):
                self._gone()

    def _gone(self) -> None:
        self._broken = True
        self._guard.hangup()

    def fileno(self) -> int:
        return self._file.fileno()

    def isatty(self) -> bool:
        return True

    def __getattr__(self, name: str) -> Any:
        return getattr(self._file, name)


class GuardedLinuxDriver(LinuxDriver):
    guard: TerminalGuard  # set by guarded_driver()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._file = _TolerantOutput(self._file, self.guard)

    def _sigcont_application(self, *args: Any) -> None:
        # The kernel sends SIGCONT right after the SIGHUP of a hung-up terminal: once the app is
        # leaving, the terminal is not taken again.
        if self.guard.code is None:
            super()._sigcont_application(*args)

    def start_application_mode(self) -> None:
        super().start_application_mode()
        self.guard.driver_started(asyncio.get_running_loop())

    def run_input_thread(self) -> None:
        """LinuxDriver.run_input_thread, except that end of input ends reading and is reported."""
        selector = selectors.SelectSelector()
        selector.register(self.fileno, selectors.EVENT_READ)
        fileno = self.fileno
        EVENT_READ = selectors.EVENT_READ
        parser = XTermParser(self._debug)
        feed = parser.feed
        tick = parser.tick
        decode = getincrementaldecoder("utf-8")().decode
        read = os.read

        failures = 0  # reads failed in a row with an error that is neither "gone" nor "try again"

        def process_selector_events(selector_events: list, final: bool = False) -> bool:
            """False once the input has ended (empty read, or an error that means the terminal is gone)."""
            nonlocal failures
            for last, (_key, mask) in loop_last(selector_events):
                if mask & EVENT_READ:
                    try:
                        data = read(fileno, 1024 * 4)
                    except (BlockingIOError, InterruptedError):
                        # A non-blocking terminal shared with another reader that took the bytes first,
                        # or a signal: nothing to read now, the terminal is still there.
                        continue
                    except OSError as exc:
                        if exc.errno in TERMINAL_GONE:
                            return False
                        failures += 1  # unknown: not taken for a hang-up at once, nor spun on
                        if failures >= MAX_ODD_FAILURES:
                            return False
                        time.sleep(0.1)
                        continue
                    failures = 0
                    if not data:
                        return False
                    for event in feed(decode(data, final=final and last)):
                        self.process_message(event)
            for event in tick():
                self.process_message(event)
            return True

        ended = False
        try:
            while not self.exit_event.is_set():
                if not process_selector_events(selector.select(0.1)):
                    ended = True
                    break
            if not ended:
                selector.unregister(self.fileno)
                process_selector_events(selector.select(0.1), final=True)
        finally:
            selector.close()
            try:
                for _event in feed(""):
                    pass
            except (EOFError, ParseError):
                pass
        if ended:
            self.guard.hangup()


def guarded_driver(guard: TerminalGuard) -> type[GuardedLinuxDriver]:
    """A driver class bound to one app's guard (Textual instantiates the class itself)."""
    return type("GuardedLinuxDriver", (GuardedLinuxDriver,), {"guard": guard})


def run_app(app: Any, *, mouse: bool) -> int | None:
    """Run a Textual app with the guard; the exit code of a signal or hang-up, else None."""
    if elsewhere():
        app.run(mouse=mouse)
        return None
    guard = TerminalGuard(app)
    app.driver_class = guarded_driver(guard)
    guard.install()
    try:
        app.run(mouse=mouse)
    finally:
        guard.uninstall()
    return guard.code
