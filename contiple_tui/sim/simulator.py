"""The phone-system simulator: a websocket server speaking CTI protocol v1 (docs/cti-protocol.md).

The simulated world lives in :mod:`contiple_tui.sim.engine`; this module runs it on a clock
(``sim_time = start + real_elapsed * speed``) and serves it: handshake, snapshot or resume, broadcast
in seq order, heartbeats, commands. Every client has its own bounded send queue, so a slow client is
dropped (it reconnects and resumes) instead of slowing the others or growing memory.

Headless: never imports textual.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import itertools
import json
import logging
import os
import secrets
import time
from collections import deque
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode

from contiple_tui.cti.protocol import PROTOCOL_VERSION, encode
from contiple_tui.sim.engine import CALLBACK_TAKE_RATE, SimDirectory, SimEngine, iso_time, load_directory
from contiple_tui.store import Store

__all__ = ["SimClock", "Simulator", "load_directory", "serve_from_store"]

log = logging.getLogger(__name__)

HELLO_TIMEOUT_S = 10.0
MAX_CLIENT_FRAME = 64 * 1024  # client frames are small commands; anything bigger is refused
MAX_TICK_S = 1.0  # the world is advanced at least this often (real seconds)
STATS_EVERY_S = 1.0


class SimClock:
    """Simulated time that runs ``speed`` times faster than the real (monotonic) clock; can pause."""

    def __init__(self, start: float, speed: float = 1.0, real: Callable[[], float] = time.monotonic) -> None:
        self.speed = speed
        self._real = real
        self._base_sim, self._base_real = start, real()
        self._paused_at: float | None = None

    @property
    def paused(self) -> bool:
        return self._paused_at is not None

    def now(self) -> float:
        if self._paused_at is not None:
            return self._paused_at
        return self._base_sim + (self._real() - self._base_real) * self.speed

    def pause(self) -> None:
        if self._paused_at is None:
            self._paused_at = self.now()

    def resume(self) -> None:
        if self._paused_at is not None:
            self._base_sim, self._base_real = self._paused_at, self._real()
            self._paused_at = None


class _Client:
    def __init__(
        self, ws: ServerConnection, first: list[str], max_queue: int, events: frozenset[str] | None = None
    ) -> None:
        self.ws = ws
        self.first = first  # welcome + snapshot or replay: sent before the queue, never counted in it
        self.queue: asyncio.Queue[str] = asyncio.Queue(max_queue)
        self.writer: asyncio.Task[None] | None = None
        self.events = events  # the event names it subscribed to; None: all
        self.login = ""  # the console's user, when the simulator lets consoles drive their agents

    def wants(self, name: str) -> bool:
        return self.events is None or name in self.events


def _event_filter(value: Any) -> frozenset[str] | None:
    """The "events" of a hello or subscribe: a list of names, or anything else for all of them."""
    if isinstance(value, list) and len(value) <= 100 and all(isinstance(v, str) for v in value):
        return frozenset(value)
    return None


class Simulator:
    """A simulated contact center served over websockets. Start with :meth:`start`, end with :meth:`stop`."""

    def __init__(
        self,
        directory: SimDirectory,
        *,
        seed: int | None = None,
        speed: float = 1.0,
        token: str | None = None,
        heartbeat_s: float = 5.0,
        backlog: int = 10_000,
        arrival_scale: float = 1.0,
        callback_rate: float = CALLBACK_TAKE_RATE,
        warmup_s: float = 0.0,
        stats_file: str | os.PathLike[str] | None = None,
        max_client_queue: int = 10_000,
        start_time: datetime | None = None,
        attend_consoles: bool = False,
        first_callback_s: float | None = None,
    ) -> None:
        if not 0 < speed <= 10_000:
            raise ValueError("speed must be above 0 and at most 10000")  # what clients accept as time_scale
        if not 0.05 <= heartbeat_s <= 300:
            raise ValueError("heartbeat_s must be between 0.05 and 300")  # what clients accept
        if max_client_queue < 1:
            raise ValueError("max_client_queue must be at least 1")  # 0 would mean unbounded
        self.epoch = (
            f"sim-{secrets.token_hex(4)}"  # random per run even with a seed: resumes never cross runs
        )
        self.heartbeat_s = heartbeat_s
        self.malformed_frames = 0
        self.dropped_clients = 0
        self._token = token
        self._stats_file = Path(stats_file) if stats_file else None
        self._max_client_queue = max_client_queue
        # The demo: a console's user drives their own agent (SimEngine.attend); benchmarks keep the mix.
        self._attend_consoles = attend_consoles
        start = (start_time or datetime.now(UTC)).timestamp()
        self.clock = SimClock(start, speed)
        # warmup_s: the world starts that long before now and is run up to now at once (nobody is
        # connected yet), so a fresh simulator already has today's counters, busy agents and queues.
        self.engine = SimEngine(
            directory,
            start=start - max(0.0, warmup_s),
            seed=seed,
            arrival_scale=arrival_scale,
            callback_rate=callback_rate,
            run_id=self.epoch.removeprefix("sim-"),
        )
        if warmup_s > 0:
            self.engine.advance(start)
        if first_callback_s is not None:  # the demo: a callback request soon after it starts
            self.engine.callback_at(start + first_callback_s)
        self._backlog: deque[tuple[int, str, str]] = deque(maxlen=backlog)  # (seq, event name, frame)
        self._clients: set[_Client] = set()
        self._server: Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()  # the schedule changed: the ticker recomputes its sleep
        self._closing = False
        self._stopped = asyncio.Event()

    # -- lifecycle ----------------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Listen (on loopback unless told otherwise); returns the bound port."""
        # No permessage-deflate: it would cost CPU per client and per frame for small frames on a local link.
        self._server = await serve(
            self._serve_client, host, port, max_size=MAX_CLIENT_FRAME, compression=None, close_timeout=2
        )
        self._spawn(self._tick_loop())
        if self._stats_file:
            self._spawn(self._stats_loop())
        return self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Close every connection, stop the clock's work, and write the stats file a last time."""
        if self._closing:
            await self._stopped.wait()
            return
        self._closing = True
        for task in list(self._tasks):
            task.cancel()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._stats_file:
            self._write_stats()
        self._stopped.set()

    async def run_forever(self) -> None:
        """Serve until :meth:`stop` is called or this task is cancelled (Ctrl+C); always stops cleanly."""
        try:
            await self._stopped.wait()
        finally:
            await self.stop()

    # -- control (tests, benchmarks) -----------------------------------------------------------------

    def pause(self) -> None:
        """Freeze the simulated clock: no arrivals, no timers, counters stay put (commands still work)."""
        self._sync()
        self.clock.pause()

    def resume(self) -> None:
        self.clock.resume()
        self._wake.set()

    def stats(self) -> dict[str, Any]:
        """The exact counters, as in a ``stats`` reply."""
        self._sync()
        return self.engine.stats()

    def burst(self, n: int) -> int:
        """Broadcast ``n`` valid events at once (queued + abandoned callers); returns the last seq."""
        self._sync()
        self._broadcast(self.engine.burst(n))
        self._wake.set()
        return self.engine.seq

    def burst_callbacks(self, n: int) -> int:
        """Broadcast ``n`` callback requests at once (SimEngine.burst_callbacks); returns the last seq."""
        self._sync()
        self._broadcast(self.engine.burst_callbacks(n))
        self._wake.set()
        return self.engine.seq

    @property
    def client_count(self) -> int:
        return len(self._clients)

    # -- the world's clock --------------------------------------------------------------------------

    def _sync(self) -> None:
        """Bring the world up to the clock's time and broadcast what happened."""
        self._broadcast(self.engine.advance(self.clock.now()))

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _tick_loop(self) -> None:
        """Advance the world when its next timer is due (or every MAX_TICK_S), woken early by commands."""
        while True:
            self._sync()
            delay = MAX_TICK_S
            due = self.engine.next_due()
            if due is not None and not self.clock.paused:
                delay = min(delay, max(0.0, (due - self.clock.now()) / self.clock.speed))
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._wake.wait()

    async def _stats_loop(self) -> None:
        while True:
            self._sync()
            self._write_stats()
            await asyncio.sleep(STATS_EVERY_S)

    def _write_stats(self) -> None:
        """Atomically (temp file + rename), so a reader never sees half a file."""
        assert self._stats_file is not None
        data = {"epoch": self.epoch, "server_time": iso_time(self.engine.now), **self.engine.stats()}
        tmp = self._stats_file.with_name(self._stats_file.name + ".tmp")
        try:
            tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, self._stats_file)
        except OSError as exc:  # a full disk must not stop the simulation
            log.warning("cannot write the stats file %s: %s", self._stats_file, exc)

    # -- fan-out ------------------------------------------------------------------------------------

    def _broadcast(self, events: list[dict[str, Any]]) -> None:
        for event in events:
            frame, name = encode(event), event["event"]
            self._backlog.append((event["seq"], name, frame))
            for client in list(self._clients):
                if client.wants(name):
                    self._send(client, frame)

    def _send(self, client: _Client, frame: str) -> None:
        try:
            client.queue.put_nowait(frame)
        except asyncio.QueueFull:
            self._drop(client)

    def _drop(self, client: _Client) -> None:
        """A client that cannot keep up is closed; it reconnects and resumes or gets a snapshot."""
        log.warning("dropping a CTI client that is %d frames behind", client.queue.qsize())
        self.dropped_clients += 1
        self._clients.discard(client)
        if client.writer is not None:
            client.writer.cancel()
        self._spawn(client.ws.close(CloseCode.TRY_AGAIN_LATER, "client too slow"))

    # -- one connection -----------------------------------------------------------------------------

    async def _serve_client(self, ws: ServerConnection) -> None:
        client = await self._handshake(ws)
        if client is None:
            return
        client.writer = asyncio.create_task(self._write(client))
        try:
            async for frame in ws:
                self._on_frame(client, frame)
        except ConnectionClosed:
            pass
        finally:
            self._clients.discard(client)
            if client.login:
                self._broadcast(self.engine.attend(client.login, -1))
            client.writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                await client.writer

    async def _handshake(self, ws: ServerConnection) -> _Client | None:
        try:
            async with asyncio.timeout(HELLO_TIMEOUT_S):
                hello = await self._receive_hello(ws)
        except TimeoutError:
            await ws.close(CloseCode.POLICY_VIOLATION, "no hello")
            return None
        except ConnectionClosed:
            return None
        version = hello.get("protocol")
        if type(version) is not int or version != PROTOCOL_VERSION:
            await self._refuse(ws, "unsupported_protocol")
            return None
        token = hello.get("token")
        if self._token is not None and not (
            isinstance(token, str) and hmac.compare_digest(token.encode(), self._token.encode())
        ):
            await self._refuse(ws, "unauthorized")
            return None
        # From here to registration nothing awaits, so no event can fall between the snapshot
        # (or replay) and the live broadcast.
        self._sync()
        events = _event_filter(hello.get("events"))
        replay = self._replay_after(hello.get("epoch"), hello.get("last_seq"), events)
        welcome = {
            "type": "welcome",
            "protocol": PROTOCOL_VERSION,
            "heartbeat_s": self.heartbeat_s,
            "server_time": iso_time(self.engine.now),
            "epoch": self.epoch,
            "resume": replay is not None,
            "time_scale": self.clock.speed,
            "events": None if events is None else sorted(events),
        }
        first = [encode(welcome), *(replay if replay is not None else [encode(self.engine.snapshot())])]
        client = _Client(ws, first, self._max_client_queue, events)
        self._clients.add(client)
        console = hello.get("console")
        user = console.get("user") if isinstance(console, dict) else None
        if self._attend_consoles and isinstance(user, str) and user:
            client.login = user
            self._broadcast(self.engine.attend(user, +1))
        return client

    async def _receive_hello(self, ws: ServerConnection) -> dict[str, Any]:
        """The first well-formed ``hello``; malformed frames before it are counted and skipped."""
        while True:
            message = self._parse(await ws.recv())
            if message is not None and message.get("type") == "hello":
                return message

    async def _refuse(self, ws: ServerConnection, reason: str) -> None:
        with contextlib.suppress(ConnectionClosed):
            await ws.send(encode({"type": "error", "reason": reason}))
        await ws.close(CloseCode.POLICY_VIOLATION, reason)

    def _replay_after(
        self, epoch: Any, last_seq: Any, events: frozenset[str] | None = None
    ) -> list[str] | None:
        """The events after ``last_seq`` (those of ``events``; None: all) when this run's backlog still holds
        all of them, else None."""
        if epoch != self.epoch or isinstance(last_seq, bool) or not isinstance(last_seq, int):
            return None
        if not 0 <= last_seq <= self.engine.seq:
            return None
        if last_seq == self.engine.seq:
            return []
        if not self._backlog or self._backlog[0][0] > last_seq + 1:
            return None  # the backlog no longer reaches back that far
        skip = last_seq + 1 - self._backlog[0][0]
        return [
            frame
            for _, name, frame in itertools.islice(self._backlog, skip, None)
            if events is None or name in events
        ]

    async def _write(self, client: _Client) -> None:
        """Send the opening frames, then the queue; a heartbeat whenever there was nothing to say."""
        for frame in client.first:
            await client.ws.send(frame)
        client.first = []
        while True:
            try:
                async with asyncio.timeout(self.heartbeat_s):
                    frame = await client.queue.get()
            except TimeoutError:
                self._sync()
                if not client.queue.empty():
                    continue  # the world moved on meanwhile: those events say more than a heartbeat
                frame = encode(
                    {"type": "heartbeat", "server_time": iso_time(self.engine.now), "seq": self.engine.seq}
                )
            await client.ws.send(frame)

    def _on_frame(self, client: _Client, frame: str | bytes) -> None:
        if client not in self._clients:
            return  # dropped, closing: it gets nothing more, so it may command nothing more
        message = self._parse(frame)
        if message is None:
            return
        kind = message.get("type")
        if kind == "resync":
            self._sync()
            self._send(client, encode(self.engine.snapshot()))
        elif kind == "subscribe":
            # Synchronous from here to the snapshot: every event before it was filtered by the old
            # subscription, every one after by the new one, and the snapshot covers what was left out.
            events = _event_filter(message.get("events"))
            widened = client.events is not None and (events is None or not events <= client.events)
            client.events = events
            if widened:
                self._sync()
                self._send(client, encode(self.engine.snapshot()))
        elif kind == "command":
            self._sync()
            reply, events = self.engine.execute(message)
            if reply is None:
                self._count_malformed("command without an id")
                return
            self._send(client, encode(reply))  # the reply goes before the events it caused
            self._broadcast(events)
            self._wake.set()
        # Any other type (a second hello, a newer client's message) is ignored, as the protocol says.

    def _parse(self, frame: str | bytes) -> dict[str, Any] | None:
        if isinstance(frame, bytes):
            self._count_malformed("binary frame")
            return None
        try:
            message = json.loads(frame)
        except (ValueError, RecursionError):
            self._count_malformed("invalid JSON")
            return None
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            self._count_malformed("not a typed object")
            return None
        return message

    def _count_malformed(self, why: str) -> None:
        self.malformed_frames += 1
        log.info("malformed frame from a CTI client (%s)", why)


async def serve_from_store(
    store_path: str | os.PathLike[str],
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    on_listening: Callable[[int], None] | None = None,
    **options: Any,
) -> None:
    """Simulate the CTI-enabled services and agents of a store until cancelled (the ``cti-sim`` command).

    ``store_path`` is the SQLite file; ``options`` are :class:`Simulator`'s keyword arguments (seed, speed,
    token, heartbeat_s, backlog, arrival_scale, stats_file). ``on_listening`` gets the bound port."""
    store = Store(store_path)
    try:
        directory = load_directory(store)
    finally:
        store.close()
    simulator = Simulator(directory, **options)
    bound = await simulator.start(host, port)
    if on_listening is not None:
        on_listening(bound)
    await simulator.run_forever()
