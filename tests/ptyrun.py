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
    def __init__(self, args: list[str], *, env: dict[str, str], size: tuple[int, int] = (80, 24)) -> None:
        master, slave = pty.openpty()
        cols, rows = size
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        full_env = {k: v for k, v in os.environ.items() if not k.startswith(("CONTIPLE_TUI_", "TEXTUAL"))}
        full_env.update({"TERM": "xterm-256color", "LANG": "C.UTF-8"} | env)
        full_env.pop("COLUMNS", None)
        full_env.pop("LINES", None)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "contiple_tui", *args],
            stdin=slave, stdout=slave, stderr=slave, env=full_env, start_new_session=True, close_fds=True,
        )
        os.close(slave)
        self.master = master
        self.output = bytearray()

    def read_until(self, *needles: bytes, timeout: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout
        while not all(n in self.output for n in needles):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
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

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        os.close(self.master)
