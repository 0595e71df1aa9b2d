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
from typing import NamedTuple


def log(*args: object) -> None:
    """Diagnostics go to stderr; stdout carries only the JSON result lines."""
    print(*args, file=sys.stderr, flush=True)


def emit(
    bench: str,
    value: float,
    target: float,
    baseline: float | None,
    *,
    unit: str = "s",
    higher_is_better: bool = False,
) -> None:
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
    proc = subprocess.run(
        cmd, env=env, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout
    )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        log(f"command failed (exit {proc.returncode}): {cmd}\nstdout: {proc.stdout}\nstderr: {proc.stderr}")
        raise SystemExit(1)
    return elapsed, proc.stdout


# -- wallboard benchmarks: demo store, simulator process, pseudo-terminal, /proc ----------------------

HERE = os.path.dirname(os.path.abspath(__file__))
CLK_TCK = os.sysconf("SC_CLK_TCK")


def kiosk_cmd(data_dir: str, port: int) -> list[str]:
    """The real kiosk as a wall TV runs it: user tv, the simulator's address, full screen."""
    return [sys.executable, "-m", "contiple_tui", "--data-dir", data_dir, "--user", "tv"] + [
        "--cti-url",
        f"ws://127.0.0.1:{port}",
        "wallboard",
        "--kiosk",
    ]


def short_mode() -> bool:
    """BENCH_SHORT=1: shorter runs for a quick check (the figures in docs come from full runs)."""
    return os.environ.get("BENCH_SHORT") == "1"


def seed_cmd(tmp: str, callbacks: int) -> list[str]:
    """`contiple-tui --data-dir TMP demo --seed-only --callbacks N`: the demo store in TMP/demo."""
    return [
        sys.executable,
        "-m",
        "contiple_tui",
        "--data-dir",
        tmp,
        "demo",
        "--seed-only",
        "--callbacks",
        str(callbacks),
    ]


def seed_demo(tmp: str, env: dict[str, str], callbacks: int = 100, timeout: float = 600) -> str:
    """Seed the demo store (services cs/sales/care, user `tv`), untimed; returns its data dir."""
    timed_run(seed_cmd(tmp, callbacks), env=env, cwd=tmp, timeout=timeout)
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
        self.proc = subprocess.Popen(
            cmd,
            env=self.env,
            cwd=self.cwd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        first = _readline_with_timeout(self.proc, timeout)
        self.listening_at = time.monotonic()
        try:
            hello = json.loads(first)
            self.port, self.epoch = hello["port"], hello.get("epoch")
        except (ValueError, KeyError, TypeError):
            log(f"FAIL: simulator process did not report a port: {first!r} (exit {self.proc.poll()})")
            raise SystemExit(1) from None
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
        self.proc = subprocess.Popen(
            cmd,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            cwd=cwd,
            start_new_session=True,
            close_fds=True,
        )
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
            self._took(data)

    def _took(self, data: bytes) -> None:
        """A chunk the drain thread read; subclasses keep other things of it."""
        with self._lock:
            self.total += len(data)
            self._keep_tail(data)

    def _keep_tail(self, data: bytes) -> None:
        """Add to the tail, cut back to its last 512 KiB past 1 MiB (with the lock held)."""
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


class KioskSample(NamedTuple):
    """A kiosk and its simulator at one moment: a window's figures are the differences of two."""

    at: float  # time.monotonic()
    kiosk_cpu: float
    sim_cpu: float
    bytes_read: int  # the kiosk's output so far
    seq: int  # the simulator's last event


def kiosk_sample(kiosk: PtyProc, sim: SimProcess) -> KioskSample:
    return KioskSample(
        time.monotonic(),
        cpu_seconds(kiosk.proc.pid),
        cpu_seconds(sim.pid),
        kiosk.bytes_read(),
        sim.last()["seq"],
    )


def rss_mb(pid: int) -> float:
    """VmRSS of a process in MB (10**6 bytes), from /proc/PID/status."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024 / 1e6
    raise RuntimeError(f"no VmRSS for {pid}")


def _source_hashes() -> dict[str, str]:
    import hashlib
    import importlib.util

    spec = importlib.util.find_spec("contiple_tui")
    root = os.path.dirname(spec.origin) if spec and spec.origin else None
    hashes: dict[str, str] = {}
    if root is None:
        return hashes
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in files:
            if name.endswith((".py", ".tcss")):
                path = os.path.join(folder, name)
                with open(path, "rb") as f:
                    hashes[os.path.relpath(path, root)] = hashlib.sha256(f.read()).hexdigest()
    return hashes


class CodeState:
    """A fingerprint of the product's source (contiple_tui/**/*.py and *.tcss): which code a run measured.

    The product is edited while benchmarks run; a script logs this at its start and, at its end, which
    files changed meanwhile (the figures may then mix two versions)."""

    def __init__(self) -> None:
        self.hashes = _source_hashes()
        self.fingerprint = _digest(self.hashes)
        log(f"product source fingerprint {self.fingerprint}")

    def check(self) -> None:
        now = _source_hashes()
        changed = sorted(p for p in self.hashes.keys() | now.keys() if self.hashes.get(p) != now.get(p))
        if changed:
            log(
                f"WARNING: product source changed during this run ({self.fingerprint} -> {_digest(now)}): "
                f"{', '.join(changed)}; the figures may mix two versions if those files are on the measured "
                "path"
            )
        else:
            log(f"product source fingerprint {self.fingerprint} (unchanged during the run)")


def _digest(hashes: dict[str, str]) -> str:
    import hashlib

    return hashlib.sha256("".join(f"{p}{h}" for p, h in sorted(hashes.items())).encode()).hexdigest()[:12]


def machine_cpu() -> float:
    """CPU seconds the whole machine has been busy (all cores, /proc/stat: everything but idle and iowait)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / CLK_TCK


class OtherLoad:
    """How busy the rest of the machine was during a window: all CPU time minus our own processes'.

    Benchmarks here share the machine with whatever else runs; this says how much that was."""

    def __init__(self) -> None:
        self.t0, self.busy0 = time.monotonic(), machine_cpu()

    def report(self, what: str, own_cpu_seconds: float) -> float:
        wall = time.monotonic() - self.t0
        other = (machine_cpu() - self.busy0 - own_cpu_seconds) / wall
        log(
            f"{what}: other processes kept {max(other, 0.0):.2f} of {os.cpu_count()} cores busy on average "
            f"(our own processes: {own_cpu_seconds / wall:.2f})"
        )
        return other


# -- the engine under test -------------------------------------------------------------------------------

ENGINE = os.environ.get("BENCH_ENGINE", "sqlite")  # "postgresql": the same bench on a real PostgreSQL


def engine_suffix() -> str:
    """Appended to each result's name when the bench runs on PostgreSQL (bench/bench_postgres.py)."""
    return "_pg" if ENGINE == "postgresql" else ""


class Engine:
    """Where the bench's store lives. SQLite: the demo's file in the data directory. PostgreSQL: a
    database of a throw-away server (tests/pgserver.py: Debian's PostgreSQL, as an unprivileged user),
    given to every console and command through CONTIPLE_TUI_DB_URL in ``env``."""

    def __init__(self, env: dict[str, str]) -> None:
        self.server = None
        self.url: str | None = None
        if ENGINE == "postgresql":
            sys.path.insert(0, os.path.dirname(HERE))
            from tests.pgserver import PgServer  # noqa: PLC0415 - only for this engine

            self.server = PgServer().start()
            self.url = self.server.create_database("bench")
            env["CONTIPLE_TUI_DB_URL"] = self.url
            log(f"engine: PostgreSQL {self.url}")

    def location(self, data_dir: str) -> str:
        """The store as Store() takes it: the URL, or the SQLite file of ``data_dir``."""
        return self.url or os.path.join(data_dir, "contiple.sqlite3")

    def transactions(self) -> int | None:
        """Transactions the PostgreSQL database committed or rolled back so far (None on SQLite)."""
        if self.url is None:
            return None
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            row = conn.execute(
                "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()"
            ).fetchone()
            return int(row[0])

    def close(self) -> None:
        if self.server is not None:
            self.server.close()
