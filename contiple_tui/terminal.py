"""The terminal is borrowed: start only on one, and always give it back.

- ``require_tty``: a full-screen command refuses to start (one line, exit 2) unless stdin, stdout and
  stderr (where Textual draws) are terminals, or Textual is told to use another driver (textual-serve).
  Without a pty (``ssh -T``, a forced command without ``pty``) the console would otherwise read a pipe
  and, once the client left, spin on its end-of-file.
- ``TerminalGuard`` (used by ``driver.run_app``): SIGTERM, SIGHUP, SIGINT and the end of the
  terminal's input (the SSH client went away: reading the pty gives end-of-file or fails) make the app
  leave through its
  normal exit, where Textual's driver leaves the alternate screen, turns mouse reporting off, shows the
  cursor and puts the terminal's modes back. A second SIGTERM or SIGINT, or a shutdown that takes
  longer than the grace period (a stuck worker thread, a call that does not return), ends the process
  at once after writing the same restore sequence itself.

The grace period is ``GRACE_S`` (3 s) unless the environment variable ``CONTIPLE_TUI_EXIT_GRACE_S``
gives another number of seconds (0.1 to 600; anything else is ignored). It is meant for tests (a
loaded test machine gives Textual's normal shutdown more time) and for operators whose consoles
need longer to close; it is not part of the configuration file.

Exit codes (documented in README "Usage", docs/deployment.md and docs/faults.md):

====  ===========================================================================================
0     the user quit (Ctrl+Q)
1     an unexpected error: a crash inside Textual (Textual prints it) or in the program (one line)
2     refused: no terminal, unknown or disabled user, bad input, ... (one line on stderr)
129   the terminal went away: SIGHUP (sshd sends it when the client leaves) or end of input
130   SIGINT
143   SIGTERM (an administrator stopping consoles, e.g. for an upgrade)
====  ===========================================================================================

This module never imports Textual (``driver.py`` does): ``contiple-tui --version`` stays textual-free.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from typing import Any

from contiple_tui.errors import ContipleError

EXIT_OK = 0
EXIT_REFUSED = 2
EXIT_HANGUP = 128 + signal.SIGHUP  # 129, also when the terminal's input ends
EXIT_INTERRUPTED = 128 + signal.SIGINT  # 130
EXIT_TERMINATED = 128 + signal.SIGTERM  # 143
GRACE_S = 3.0  # after a signal or a hang-up, the normal exit gets this long before the hard one
GRACE_ENV = "CONTIPLE_TUI_EXIT_GRACE_S"  # another grace period, in seconds (tests, operators)


def grace_seconds(environ: Any = None) -> float:
    """The grace period: ``CONTIPLE_TUI_EXIT_GRACE_S`` when it is a number from 0.1 to 600, else GRACE_S."""
    text = (os.environ if environ is None else environ).get(GRACE_ENV, "")
    try:
        value = float(text)
    except ValueError:
        return GRACE_S
    return value if 0.1 <= value <= 600 else GRACE_S  # NaN fails this too


HANDLED_SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)

# What Textual's driver writes when it stops (kitty keys off, mouse modes off, bracketed paste off,
# line wrap on, focus events off, main screen, cursor shown), for the hard exit.
RESTORE_SEQUENCE = (
    b"\x1b[<u"
    b"\x1b[?1000l\x1b[?1003l\x1b[?1015l\x1b[?1006l\x1b[?1016l"
    b"\x1b[?2004l\x1b[?7h\x1b[?1004l"
    b"\x1b[?1049l\x1b[?25h"
)


def elsewhere() -> bool:
    """Textual was told to draw somewhere else than the terminal: textual-serve runs the console with
    ``TEXTUAL_DRIVER`` naming its web driver (which handles SIGINT/SIGTERM itself) and pipes for stdio."""
    return bool(os.environ.get("TEXTUAL_DRIVER"))


def require_tty() -> None:
    """Refuse a full-screen command unless stdin, stdout and stderr are terminals."""
    if elsewhere():
        return
    for stream in (sys.stdin, sys.stdout, sys.stderr):
        try:
            if stream is None or not os.isatty(stream.fileno()):
                raise ContipleError("err.no_tty")
        except (OSError, ValueError, AttributeError):
            raise ContipleError("err.no_tty") from None


class TerminalGuard:
    """Signals and hang-ups of one running app: one way out, bounded in time.

    The signal handler does as little as a signal handler may: it records why the app leaves, wakes
    the watchdog (a thread started beforehand, which hard-exits after the grace period) and asks the
    app's loop to exit. It runs in the main thread whenever Python code runs there, even when the
    loop is stuck; a wakeup fd read by the loop makes sure the loop wakes at once when the kernel hands
    the signal to another thread (Textual's input or output thread).
    """

    def __init__(self, app: Any, *, grace_s: float | None = None, in_fd: int = 0, out_fd: int = 2) -> None:
        self.app = app
        self.grace_s = grace_seconds() if grace_s is None else grace_s
        self.in_fd = in_fd
        self.out_fd = out_fd  # Textual draws on stderr
        self.code: int | None = None  # why the app is leaving, once a signal or hang-up came
        self.loop: Any = None  # the app's event loop, once its driver started
        self._lock = threading.RLock()  # RLock: a signal handler may interrupt the main thread holding it
        self._previous: dict[int, Any] = {}
        self._armed = threading.Event()
        self._watchdog = threading.Thread(target=self._watch, name="terminal-watchdog", daemon=True)
        self._wakeup: tuple[Any, Any] | None = None
        self._previous_wakeup_fd = -1
        self._terminal_gone = False
        try:
            import termios

            self._attrs = termios.tcgetattr(in_fd)
        except Exception:  # not a terminal (tests), nothing to restore
            self._attrs = None

    # -- set-up --------------------------------------------------------------------------------

    def install(self) -> None:
        self._watchdog.start()
        for signum in HANDLED_SIGNALS:
            self._previous[signum] = signal.signal(signum, self._on_signal)

    def uninstall(self) -> None:
        """After the app: the previous handlers again (the terminal is already given back). The
        watchdog, once armed, keeps bounding the time the process takes to end."""
        for signum, handler in self._previous.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
        self._previous.clear()
        if self._wakeup is not None:
            try:
                signal.set_wakeup_fd(self._previous_wakeup_fd)
            except (ValueError, OSError):
                signal.set_wakeup_fd(-1)
            for sock in self._wakeup:
                sock.close()
            self._wakeup = None

    def driver_started(self, loop: Any) -> None:
        """Called by the driver in the app's loop (main thread); a signal that came during start-up
        acts now."""
        with self._lock:
            self.loop = loop
            if self.code is not None:
                loop.call_soon(self._exit_app)
        if self._wakeup is not None:  # started again after a suspension (SIGCONT)
            return
        try:
            import socket

            reader, writer = socket.socketpair()
            reader.setblocking(False)
            writer.setblocking(False)
            self._previous_wakeup_fd = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
            self._wakeup = (reader, writer)

            def drain() -> None:
                try:
                    while reader.recv(512):
                        pass
                except OSError:
                    pass

            loop.add_reader(reader.fileno(), drain)
        except (OSError, ValueError, RuntimeError, NotImplementedError):  # no wakeup: handlers still run
            pass

    # -- the ways out --------------------------------------------------------------------------

    def _on_signal(self, signum: int, frame: object) -> None:
        # A second SIGTERM or SIGINT means "now". SIGHUP never does: when the controlling terminal
        # hangs up, the kernel signals the session leader and the foreground group, often the same
        # process, so it arrives twice, and nobody is left at the terminal to insist.
        self.request_exit(128 + signum, second_is_final=signum != signal.SIGHUP)

    def hangup(self) -> None:
        """The terminal went away (end of input, or writing to it fails): from any thread."""
        with self._lock:
            if not self._terminal_gone:
                self._terminal_gone = True
                # Whatever is still written (the driver's restore, buffered output, a last message)
                # goes nowhere instead of failing: nobody is there to read it.
                try:
                    null = os.open(os.devnull, os.O_WRONLY)
                    for fd in (1, 2):
                        os.dup2(null, fd)
                    os.close(null)
                except OSError:
                    pass
        self.request_exit(EXIT_HANGUP)

    def request_exit(self, code: int, *, second_is_final: bool = False) -> None:
        with self._lock:
            first = self.code is None
            if first:
                self.code = code
                self._armed.set()
            loop = self.loop
        if not first:
            if second_is_final:  # a second signal: nothing more is waited for
                self.hard_exit()
            return
        if loop is not None:
            try:
                loop.call_soon_threadsafe(self._exit_app)
            except RuntimeError:  # the loop is closed: the app has finished, the CLI is cleaning up
                pass

    def _watch(self) -> None:
        self._armed.wait()
        time.sleep(self.grace_s)
        self.hard_exit()

    def _exit_app(self) -> None:
        try:
            self.app.exit(return_code=self.code or 0)
        except Exception:
            self.hard_exit()

    def hard_exit(self) -> None:
        """Give the terminal back ourselves and end the process now."""
        code = self.code if self.code is not None else EXIT_TERMINATED
        if not self._terminal_gone:
            try:
                os.write(self.out_fd, RESTORE_SEQUENCE)
            except OSError:
                pass
            if self._attrs is not None:
                try:
                    import termios

                    termios.tcsetattr(self.in_fd, termios.TCSANOW, self._attrs)
                except Exception:
                    pass
        os._exit(code)
