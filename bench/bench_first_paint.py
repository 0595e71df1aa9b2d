"""Console start to first paint in the demo (target 1.5 s).

The demo store (2000 callbacks) is seeded once, untimed. Each timed run starts
`python -m contiple_tui --data-dir TMP --lang en demo` in an 80x24 pseudo-terminal and reads its
output until both the header brand "Contiple" and the nav label "Callback list" have been written:
that moment is the first paint. Median of 5 runs.

Baseline: the same measurement for a minimal Textual app showing Static("Contiple Callback list"),
i.e. Textual's own start-up cost.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import time

from _common import bench_env, emit, log, median, timed_run

RUNS = 5
TARGET = 1.5
READ_TIMEOUT = 20.0
QUIT_GRACE = 2.0
NEEDLES = (b"Contiple", b"Callback list")

MINIMAL_APP = """\
from textual.app import App
from textual.widgets import Static


class Minimal(App):
    def compose(self):
        yield Static("Contiple Callback list")


if __name__ == "__main__":
    Minimal().run()
"""


def _drain(master: int, until: float, buf: bytearray) -> None:
    """Read whatever the child writes until `until`, so it never blocks on a full pty."""
    while True:
        remaining = until - time.perf_counter()
        if remaining <= 0:
            return
        ready, _, _ = select.select([master], [], [], remaining)
        if not ready:
            return
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the slave side
            return
        if not data:
            return
        buf += data


def first_paint(cmd: list[str], *, env: dict[str, str], cwd: str) -> float:
    """Seconds from spawn until all NEEDLES have appeared in the pty output."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    buf = bytearray()
    found: float | None = None
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=cwd, start_new_session=True, close_fds=True
    )
    os.close(slave)
    try:
        deadline = start + READ_TIMEOUT
        while found is None:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                break
            ready, _, _ = select.select([master], [], [], remaining)
            if not ready:
                continue
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if not data:
                break
            buf += data
            if all(needle in buf for needle in NEEDLES):
                found = time.perf_counter() - start
    finally:
        try:
            os.write(master, b"\x11")  # ctrl+q
        except OSError:
            pass
        end = time.perf_counter() + QUIT_GRACE
        while proc.poll() is None and time.perf_counter() < end:
            _drain(master, min(end, time.perf_counter() + 0.05), buf)
        if proc.poll() is None:
            log(f"  did not exit within {QUIT_GRACE} s of ctrl+q; killing")
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        proc.wait()
        os.close(master)
    if found is None:
        tail = bytes(buf[-2000:])
        log(
            f"FAIL: no first paint within {READ_TIMEOUT} s from {cmd} (exit {proc.returncode}); "
            f"got {len(buf)} bytes, last ones: {tail!r}"
        )
        raise SystemExit(1)
    return found


def main() -> int:
    tmp = tempfile.mkdtemp(prefix="contiple-bench-paint-")
    try:
        env = bench_env(tmp)
        env["TERM"] = "xterm-256color"
        env.pop("COLUMNS", None)
        env.pop("LINES", None)
        py = sys.executable

        seed_time, _ = timed_run(
            [py, "-m", "contiple_tui", "--data-dir", tmp, "demo", "--seed-only"], env=env, cwd=tmp
        )
        log(f"seeded demo store (2000 callbacks) in {seed_time:.2f} s (not timed)")
        minimal = os.path.join(tmp, "minimal_app.py")
        with open(minimal, "w", encoding="utf-8") as f:
            f.write(MINIMAL_APP)

        commands = {
            "demo": [py, "-m", "contiple_tui", "--data-dir", tmp, "--lang", "en", "demo"],
            "baseline": [py, minimal],
        }
        times: dict[str, list[float]] = {name: [] for name in commands}
        for i in range(RUNS):  # interleaved, so drift in machine load hits both alike
            for name, cmd in commands.items():
                elapsed = first_paint(cmd, env=env, cwd=tmp)
                times[name].append(elapsed)
                log(f"run {i + 1} {name}: {elapsed:.3f} s")

        for name, values in times.items():
            log(f"{name}: median {median(values):.3f} s, min {min(values):.3f} s, max {max(values):.3f} s")
        emit("first_paint", median(times["demo"]), TARGET, median(times["baseline"]))
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
