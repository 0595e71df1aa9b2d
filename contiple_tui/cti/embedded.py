"""The simulator running beside the console (the demo), in a thread with its own event loop.

The console's UI loop stays free of simulation work, and the demo needs no second terminal. A second
demo process on the same data directory finds the running simulator through a small JSON file and
joins it instead of starting another.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import threading
from pathlib import Path
from typing import Any

from contiple_tui.cti.simulator import serve_from_store

SIM_FILE = "cti-sim.json"


class BackgroundSimulator:
    def __init__(self, store_path: Path, **options: Any) -> None:
        self.store_path = store_path
        self.options = options
        self.port: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="cti-simulator", daemon=True)

    def start(self, timeout: float = 15.0) -> int:
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError("the CTI simulator did not start")
        if self._error is not None:
            raise self._error
        assert self.port is not None
        return self.port

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop

        def listening(port: int) -> None:
            self.port = port
            self._ready.set()

        async def main() -> None:
            self._task = asyncio.current_task()
            await serve_from_store(self.store_path, "127.0.0.1", 0, on_listening=listening, **self.options)

        try:
            loop.run_until_complete(main())
        except asyncio.CancelledError:
            pass
        except BaseException as exc:  # reported to start()
            self._error = exc
            self._ready.set()
        finally:
            loop.close()

    def stop(self) -> None:
        if self._loop is not None and self._task is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._task.cancel)
        self._thread.join(10)


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


def running_simulator_url(data_dir: Path) -> str | None:
    """The URL of a demo simulator already running for this data directory, if any."""
    try:
        info = json.loads((data_dir / SIM_FILE).read_text())
        if _alive(int(info["pid"])) and _port_open(int(info["port"])):
            return f"ws://127.0.0.1:{int(info['port'])}"
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return None


def join_or_start(data_dir: Path, store_path: Path, **options: Any) -> tuple[str, BackgroundSimulator | None]:
    """The URL of the demo's simulator; starts one (returned, to stop later) unless one is running."""
    url = running_simulator_url(data_dir)
    if url is not None:
        return url, None
    marker = data_dir / SIM_FILE
    simulator = BackgroundSimulator(store_path, **options)
    port = simulator.start()
    tmp = marker.with_suffix(".tmp")
    tmp.write_text(json.dumps({"pid": os.getpid(), "port": port}))
    tmp.replace(marker)
    return f"ws://127.0.0.1:{port}", simulator


def release(data_dir: Path, simulator: BackgroundSimulator | None) -> None:
    if simulator is None:
        return
    simulator.stop()
    marker = data_dir / SIM_FILE
    try:
        if json.loads(marker.read_text()).get("pid") == os.getpid():
            marker.unlink()
    except (OSError, ValueError):
        pass
