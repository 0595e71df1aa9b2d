"""Run the real program in a pseudo-terminal, as a person at a terminal would, and read its screen."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time


class PtyProgram:
    def __init__(
        self,
        args: list[str],
        *,
        env: dict[str, str],
        size: tuple[int, int] = (80, 24),
        controlling: bool = False,
        keep_slave: bool = False,
    ) -> None:
        """``controlling``: the pty becomes the program's controlling terminal, as under sshd, so closing
        the master (the client leaving) also sends it SIGHUP. ``keep_slave``: the test keeps the
        program's own open terminal (``self.slave``, the same open file, flags shared)."""
        master, slave = pty.openpty()
        self.slave_name = os.ttyname(slave)
        cols, rows = size
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        full_env = {k: v for k, v in os.environ.items() if not k.startswith(("CONTIPLE_TUI_", "TEXTUAL"))}
        # A demo's simulator outlives its console: in tests it ends 2 s after the last console left.
        full_env.update(
            {"TERM": "xterm-256color", "LANG": "en_US.UTF-8", "CONTIPLE_TUI_DEMO_SIM_IDLE_S": "2"} | env
        )
        full_env.pop("COLUMNS", None)
        full_env.pop("LINES", None)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "contiple_tui", *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=full_env,
            start_new_session=True,
            close_fds=True,
            preexec_fn=(lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0)) if controlling else None,
        )
        self.slave = slave if keep_slave else -1
        if not keep_slave:
            os.close(slave)
        self.master = master
        self.output = bytearray()

    def read_until(self, *needles: bytes, timeout: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout
        while not all(n in self.output for n in needles):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            if self.master < 0:  # closed: nothing more to read
                time.sleep(min(remaining, 0.05))
                return False
            ready, _, _ = select.select([self.master], [], [], remaining)
            if ready:
                try:
                    data = os.read(self.master, 65536)
                except OSError:
                    return False
                if not data:
                    return False
                self.output += data
        return True

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    def wait(self, timeout: float = 10.0) -> int | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.read_until(b"\x00never", timeout=0.2)  # keep draining so the child never blocks
            if self.proc.poll() is not None:
                return self.proc.returncode
        return None

    def wait_with_usage(self, timeout: float = 10.0, *, drain: bool = True) -> tuple[int | None, float]:
        """(exit code, CPU seconds the program used in all), reaping it with wait4; (None, 0) on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if drain:
                self.read_until(b"\x00never", timeout=0.05)
            else:
                time.sleep(0.05)
            pid, status, usage = os.wait4(self.proc.pid, os.WNOHANG)
            if pid:
                self.proc.returncode = os.waitstatus_to_exitcode(status)
                return self.proc.returncode, usage.ru_utime + usage.ru_stime
        return None, 0.0

    def cpu_seconds(self) -> float:
        """CPU time the running program used so far (user + system, from /proc)."""
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def close_master(self) -> None:
        """The other side of the terminal goes away (a dropped SSH client)."""
        if self.master >= 0:
            os.close(self.master)
            self.master = -1

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        self.close_master()
        if self.slave >= 0:
            os.close(self.slave)
            self.slave = -1
