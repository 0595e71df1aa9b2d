"""A real PostgreSQL server for the tests and benchmarks: Debian's PostgreSQL binaries, a throw-away
cluster in a temporary directory, listening on a loopback port.

PostgreSQL refuses to run as root, so under root (CI) the cluster belongs to `nobody` and every
command runs through `runuser`. Durability is switched off (fsync, full-page writes): the tests test
the program's rules, not the disk.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

SUPERUSER = "contiple"
# Set by .ci/run: PostgreSQL must be there, and a run without it fails instead of skipping.
REQUIRED_ENV = "CONTIPLE_TUI_TEST_PG_REQUIRED"


def pg_bindir() -> Path | None:
    """The newest installed PostgreSQL's bin directory (Debian: /usr/lib/postgresql/N/bin)."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parent.parent.name)
    )
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def unavailable_reason() -> str | None:
    """Why no PostgreSQL can be started here (None: it can)."""
    if pg_bindir() is None:
        return "PostgreSQL is not installed (Debian: apt install postgresql)"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install 'contiple-tui[postgres]')"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser to start PostgreSQL as another user"
    return None


def skip_unless_available() -> None:
    """Skip the calling test when no PostgreSQL can start here, saying why, or fail it when CI requires
    PostgreSQL (REQUIRED_ENV=1): the PostgreSQL half of the suite never passes by not running."""
    import pytest

    reason = unavailable_reason()
    if reason is None:
        return
    if os.environ.get(REQUIRED_ENV) == "1":
        pytest.fail(f"PostgreSQL is required ({REQUIRED_ENV}=1) but {reason}")
    pytest.skip(f"PostgreSQL tests not run: {reason}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PgServer:
    """One throw-away cluster. ``url(db)`` gives a connection URL; ``create_database`` a fresh one."""

    def __init__(self) -> None:
        bindir = pg_bindir()
        if bindir is None:
            raise RuntimeError(unavailable_reason() or "no PostgreSQL")
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="contiple-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self._as_root = os.geteuid() == 0
        self._counter = 0
        self.proc: subprocess.Popen[bytes] | None = None

    def _cmd(self, *args: str) -> list[str]:
        return ["runuser", "-u", "nobody", "--", *args] if self._as_root else list(args)

    def start(self) -> PgServer:
        self.data.mkdir()
        if self._as_root:
            os.chmod(self.root, 0o755)
            shutil.chown(self.data, "nobody", "nogroup")
        subprocess.run(
            self._cmd(
                str(self.bindir / "initdb"),
                "-D",
                str(self.data),
                "-U",
                SUPERUSER,
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ),
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self.launch()
        return self

    def launch(self) -> None:
        """Start the server on the existing cluster and wait until it accepts connections."""
        log = open(self.root / "server.log", "ab")  # noqa: SIM115 - the server keeps it
        self.proc = subprocess.Popen(
            self._cmd(
                str(self.bindir / "postgres"),
                "-D",
                str(self.data),
                "-p",
                str(self.port),
                "-h",
                "127.0.0.1",
                "-k",
                str(self.data),
                "-c",
                "fsync=off",
                "-c",
                "full_page_writes=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "max_connections=300",
            ),
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"PostgreSQL did not start: {self.log_tail()}") from None
                time.sleep(0.05)
        import psycopg

        while True:  # listening is not yet accepting: "the database system is starting up"
            try:
                psycopg.connect(self.url("postgres"), connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self, fast: bool = True) -> None:
        """Stop the server (a fast shutdown: open connections are cut, as a restart cuts them)."""
        if self.proc is not None and self.proc.poll() is None:
            # The postmaster itself (under root, self.proc is runuser, which does not pass signals on).
            try:
                pid = int((self.data / "postmaster.pid").read_text().split()[0])
                os.kill(pid, signal.SIGINT if fast else signal.SIGTERM)  # fast / smart shutdown
            except (OSError, ValueError, IndexError):
                self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.launch()

    def log_tail(self) -> str:
        try:
            return (self.root / "server.log").read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    def url(self, database: str) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, prefix: str = "t", template: str | None = None) -> str:
        """A new, empty (or copied from ``template``) database; its URL."""
        import psycopg

        self._counter += 1
        name = f"{prefix}{os.getpid()}_{self._counter}"
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            if template:
                conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
            else:
                conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        import psycopg

        name = url.rsplit("/", 1)[1]
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
