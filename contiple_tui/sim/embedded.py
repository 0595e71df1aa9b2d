"""The demo's simulated phone system: a process of its own that outlives the console that started it.

The first ``demo`` of a data directory starts it (detached: its own session, no terminal) and every
console of that directory joins it through a small JSON file (``cti-sim.json``: pid and port). Quitting
any console, the first included, leaves the others connected. While a demo console runs it keeps the
simulator there: if the simulator is gone (killed, crashed) it starts another on the same port, so every
console's link comes back by itself. The simulator ends once no console has been connected for
``idle_exit_s`` (30 s), so a demo leaves nothing running for long.

    python -m contiple_tui.sim.embedded DATA_DIR STORE [--port P] [--idle-exit S] [--arrival-scale X]
                                        [--callback-rate X] [--warmup S]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from contiple_tui.store.engine import is_database_url

SIM_FILE = "cti-sim.json"
LOCK_FILE = "cti-sim.lock"
LOG_FILE = "cti-sim.log"
IDLE_EXIT_S = 30.0
START_TIMEOUT_S = 15.0
KEEP_EVERY_S = 2.0  # how often a demo console looks whether its simulator is still there


# -- finding it ------------------------------------------------------------------------------------


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _marker(data_dir: Path) -> dict[str, int] | None:
    try:
        info = json.loads((data_dir / SIM_FILE).read_text())
        return {"pid": int(info["pid"]), "port": int(info["port"])}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def running_simulator_url(data_dir: Path) -> str | None:
    """The URL of a demo simulator already running for this data directory, if any."""
    info = _marker(data_dir)
    if info is not None and _alive(info["pid"]) and _port_open(info["port"]):
        return f"ws://127.0.0.1:{info['port']}"
    return None


# -- starting it -----------------------------------------------------------------------------------


def join_or_start(
    data_dir: Path,
    store_path: Path | str,
    *,
    port: int | None = None,
    idle_exit_s: float | None = None,
    **options: Any,
) -> str:
    """The URL of the demo's simulator; starts it (detached) unless one is running. ``port``: the one to
    use when starting (a restarted simulator takes the old one's, so links come back by themselves);
    otherwise the port of the last one, or any free port."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / LOCK_FILE, "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two consoles starting at once start one simulator
        url = running_simulator_url(data_dir)
        if url is not None:
            return url
        last = _marker(data_dir)
        wanted = port if port is not None else (last["port"] if last else 0)
        return _spawn(data_dir, store_path, wanted, idle_exit_s, options)


# A PostgreSQL store reaches the simulator's process through its environment, not its command line,
# where `ps` would show the URL (and a password in it).
STORE_FROM_ENV = "-"
STORE_ENV = "CONTIPLE_TUI_DEMO_STORE"


def _spawn(
    data_dir: Path, store_path: Path | str, port: int, idle_exit_s: float | None, options: dict
) -> str:
    idle = (
        idle_exit_s
        if idle_exit_s is not None
        else float(os.environ.get("CONTIPLE_TUI_DEMO_SIM_IDLE_S", IDLE_EXIT_S))
    )
    env = dict(os.environ)
    store_arg = str(store_path)
    if is_database_url(store_arg):
        env[STORE_ENV], store_arg = store_arg, STORE_FROM_ENV
    command = [
        sys.executable,
        "-m",
        "contiple_tui.sim.embedded",
        str(data_dir),
        store_arg,
        "--port",
        str(port),
        "--idle-exit",
        str(idle),
    ]
    for name in ("arrival_scale", "callback_rate", "warmup_s"):
        if name in options:
            command += [f"--{name.removesuffix('_s').replace('_', '-')}", str(options[name])]
    with open(data_dir / LOG_FILE, "ab") as log:
        child = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,
            close_fds=True,
            env=env,
        )  # no terminal: it outlives ours
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        info = _marker(data_dir)
        if info is not None and info["pid"] == child.pid and _port_open(info["port"]):
            return f"ws://127.0.0.1:{info['port']}"
        if child.poll() is not None:
            raise OSError(_last_line(data_dir / LOG_FILE) or f"the simulator exited with {child.returncode}")
        time.sleep(0.05)
    child.kill()
    raise TimeoutError("the CTI simulator did not start")


def _last_line(path: Path) -> str:
    try:
        lines = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return lines[-1] if lines else ""


class Keeper:
    """While a demo console runs: starts the simulator again (same port) when it is gone."""

    def __init__(self, data_dir: Path, store_path: Path | str, url: str, **options: Any) -> None:
        self.data_dir, self.store_path, self.options = data_dir, store_path, options
        self.port = int(url.rsplit(":", 1)[1])
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cti-sim-keeper", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        # A relative sleep, not Event.wait(timeout): a timed wait on an absolute clock breaks when the
        # clock is shifted (faketime in CI, a clock step), and this look needs no prompt stop.
        while True:
            time.sleep(KEEP_EVERY_S)
            if self._stop.is_set():
                return
            if running_simulator_url(self.data_dir) is None:
                try:
                    join_or_start(self.data_dir, self.store_path, port=self.port, **self.options)
                except (OSError, TimeoutError, ValueError):
                    pass  # tried again on the next look; the header says the link is down meanwhile


DEMO_FIRST_CALLBACK_S = 12.0

# -- the simulator's own process -----------------------------------------------------------------------


async def serve_demo(
    data_dir: Path, store_path: Path | str, port: int, idle_exit_s: float, **options: Any
) -> None:
    """Serve until no client was connected for ``idle_exit_s`` (or SIGTERM); the marker names this
    process while it serves."""
    from contiple_tui.sim.engine import load_directory
    from contiple_tui.sim.simulator import Simulator
    from contiple_tui.store import Store

    store = Store(store_path)
    try:
        directory = load_directory(store)
    finally:
        store.close()
    # The person at a console drives their agent; a first callback request comes soon after the start.
    simulator = Simulator(directory, attend_consoles=True, first_callback_s=DEMO_FIRST_CALLBACK_S, **options)
    try:
        bound = await simulator.start("127.0.0.1", port)
    except OSError:
        if not port:
            raise
        bound = await simulator.start("127.0.0.1", 0)  # the old port is taken by something else
    marker = data_dir / SIM_FILE
    tmp = marker.with_name(f"{SIM_FILE}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"pid": os.getpid(), "port": bound}))
    tmp.replace(marker)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        loop.add_signal_handler(signum, stop.set)
    idle_since: float | None = time.monotonic()
    try:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(1.0):
                    await stop.wait()
            if simulator.client_count:
                idle_since = None
            elif idle_since is None:
                idle_since = time.monotonic()
            elif time.monotonic() - idle_since >= idle_exit_s:
                break
    finally:
        await simulator.stop()
        info = _marker(data_dir)
        if info is not None and info["pid"] == os.getpid():
            marker.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m contiple_tui.sim.embedded")
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("store")  # the SQLite file, or "-": the PostgreSQL URL in STORE_ENV
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--idle-exit", type=float, default=IDLE_EXIT_S)
    parser.add_argument("--arrival-scale", type=float)
    parser.add_argument("--callback-rate", type=float)
    parser.add_argument("--warmup", type=float)
    args = parser.parse_args(argv)
    options = {
        name: value
        for name, value in (
            ("arrival_scale", args.arrival_scale),
            ("callback_rate", args.callback_rate),
            ("warmup_s", args.warmup),
        )
        if value is not None
    }
    store = os.environ[STORE_ENV] if args.store == STORE_FROM_ENV else Path(args.store)
    asyncio.run(serve_demo(args.data_dir, store, args.port, args.idle_exit, **options))
    return 0


if __name__ == "__main__":
    sys.exit(main())
