"""Shared helpers for the benchmark scripts (standard library only)."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import signal
import statistics
import struct
import subprocess
import sys
import termios
import threading
import time


def log(*args: object) -> None:
    """Diagnostics go to stderr; stdout carries only the JSON result lines."""
    print(*args, file=sys.stderr, flush=True)


def emit(bench: str, value: float, target: float, baseline: float | None, *, unit: str = "s",
         higher_is_better: bool = False) -> None:
    """One result line. `higher_is_better` adds "better": "higher" (run.py then checks value >= target)."""
    line = {
        "bench": bench,
        "value": round(value, 4),
        "unit": unit,
        "target": target,
        "baseline": None if baseline is None else round(baseline, 4),
    }
    if higher_is_better:
        line["better"] = "higher"
    print(json.dumps(line), flush=True)


def median(values: list[float]) -> float:
    return statistics.median(values)


def bench_env(data_dir: str) -> dict[str, str]:
    """The current environment without the user's contiple/textual settings.

    CONTIPLE_TUI_HOME points at the benchmark's temporary directory so that nothing can fall back
    to the user's real data dir, even where a command is run without --data-dir.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONTIPLE_TUI_", "TEXTUAL"))}
    env["CONTIPLE_TUI_HOME"] = data_dir
    return env


def timed_run(cmd: list[str], *, env: dict[str, str], cwd: str, timeout: float = 600) -> tuple[float, str]:
    """Run cmd to completion; return (wall seconds, stdout). Raises if it fails."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=timeout)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        log(f"command failed (exit {proc.returncode}): {cmd}\nstdout: {proc.stdout}\nstderr: {proc.stderr}")
        raise SystemExit(1)
    return elapsed, proc.stdout


# -- wallboard benchmarks: demo store, simulator process, pseudo-terminal, /proc ----------------------

HERE = os.path.dirname(os.path.abspath(__file__))
CLK_TCK = os.sysconf("SC_CLK_TCK")


def short_mode() -> bool:
    """BENCH_SHORT=1: shorter runs for a quick check (the figures in docs come from full runs)."""
    return os.environ.get("BENCH_SHORT") == "1"


def seed_demo(tmp: str, env: dict[str, str]) -> str:
    """Seed the demo store (100 callbacks; services cs/sales/care, user `tv`); returns its data dir."""
    timed_run([sys.executable, "-m", "contiple_tui", "--data-dir", tmp, "demo", "--seed-only", "--callbacks", "100"],
              env=env, cwd=tmp)
    return os.path.join(tmp, "demo")


class SimProcess:
    """bench/_simproc.py in its own process; a thread keeps its once-a-second status lines."""

    def __init__(self, store: str, *, env: dict[str, str], cwd: str, **options: object) -> None:
        self.cmd = [sys.executable, os.path.join(HERE, "_simproc.py"), store]
        for key, value in options.items():
            if value is not None:
                self.cmd += [f"--{key.replace('_', '-')}", str(value)]
        self.env, self.cwd = env, cwd
        self.proc: subprocess.Popen[str] | None = None
        self.port: int | None = None
        self.status: list[dict] = []  # status lines, each with "read_at": time.time() when it was read
        self.listening_at = 0.0  # time.monotonic() when the port line was read
        self.epoch: str | None = None

    def start(self, timeout: float = 20.0, on_status=None, extra: list[str] | None = None) -> int:
        """Spawn and wait for the port line; `on_status(line)` runs in the reader thread per status line.

        A restart reuses the port of the first start. `extra`: more helper options for this start."""
        cmd = self.cmd + (["--port", str(self.port)] if self.port is not None else []) + (extra or [])
        self.proc = subprocess.Popen(cmd, env=self.env, cwd=self.cwd, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, start_new_session=True)
        first = _readline_with_timeout(self.proc, timeout)
        self.listening_at = time.monotonic()
        try:
            hello = json.loads(first)
            self.port, self.epoch = hello["port"], hello.get("epoch")
        except (ValueError, KeyError, TypeError):
            log(f"FAIL: simulator process did not report a port: {first!r} (exit {self.proc.poll()})")
            raise SystemExit(1)
        threading.Thread(target=self._read, args=(self.proc, on_status), daemon=True).start()
        return self.port

    def _read(self, proc: subprocess.Popen[str], on_status) -> None:
        for line in proc.stdout:  # type: ignore[union-attr]
            try:
                data = json.loads(line)
            except ValueError:
                continue
            data["read_at"] = time.time()
            if on_status is not None:
                on_status(data)
            self.status.append(data)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def send(self, line: str) -> None:
        """A control line for the helper ("pause", "resume")."""
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def last(self) -> dict:
        """The latest status line (waits up to 5 s for the first)."""
        deadline = time.monotonic() + 5
        while not self.status and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.status[-1] if self.status else {}

    def kill9(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass


def _readline_with_timeout(proc: subprocess.Popen[str], timeout: float) -> str:
    result: list[str] = []
    reader = threading.Thread(target=lambda: result.append(proc.stdout.readline()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    reader.join(timeout)
    return result[0] if result else ""


class PtyProc:
    """A command on the slave side of a pseudo-terminal; a thread drains the master and counts bytes."""

    def __init__(self, cmd: list[str], *, env: dict[str, str], cwd: str, size: tuple[int, int]) -> None:
        cols, rows = size
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        env = dict(env, TERM="xterm-256color", LANG="C.UTF-8")
        env.pop("COLUMNS", None)
        env.pop("LINES", None)
        self.proc = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=cwd,
                                     start_new_session=True, close_fds=True)
        os.close(slave)
        self.master = master
        self.total = 0  # bytes read from the master so far
        self.tail = bytearray()  # the last bytes, for diagnostics and for finding text on screen
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:  # EIO: the child closed the slave side
                return
            if not data:
                return
            with self._lock:
                self.total += len(data)
                self.tail += data
                if len(self.tail) > 1 << 20:
                    del self.tail[: len(self.tail) - (1 << 19)]

    def bytes_read(self) -> int:
        with self._lock:
            return self.total

    def wait_for(self, needle: bytes, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if needle in self.tail:
                    return True
            if self.proc.poll() is not None:
                return False
            time.sleep(0.05)
        return False

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait()
        self._thread.join(2)
        os.close(self.master)


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # fields 14 and 15 of proc(5)


def rss_mb(pid: int) -> float:
    """VmRSS of a process in MB (10**6 bytes), from /proc/PID/status."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024 / 1e6
    raise RuntimeError(f"no VmRSS for {pid}")


def code_fingerprint() -> str:
    """A short hash of the product's source (contiple_tui/**/*.py), to tell which code a run measured.

    The product is edited while benchmarks run; a script logs this at its start and end and warns when
    the two differ (the figures then mix two versions)."""
    import hashlib
    import importlib.util

    spec = importlib.util.find_spec("contiple_tui")
    root = os.path.dirname(spec.origin) if spec and spec.origin else None
    if root is None:
        return "unknown"
    digest = hashlib.sha256()
    for folder, dirs, files in sorted(os.walk(root)):
        dirs.sort()
        for name in sorted(files):
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                digest.update(os.path.relpath(path, root).encode())
                with open(path, "rb") as f:
                    digest.update(f.read())
    return digest.hexdigest()[:12]


def check_code_unchanged(start: str) -> None:
    end = code_fingerprint()
    if end != start:
        log(f"WARNING: the product source changed during this run ({start} -> {end}): "
            "the figures may mix two versions; run again")
    else:
        log(f"product source fingerprint {end} (unchanged during the run)")
