"""The console's CTI client: connects, keeps the live model current, reconnects by itself.

- Resumes with the last epoch and seq it applied; resyncs on a sequence gap; ignores duplicates.
- Marks the data stale two heartbeat periods after the last good data (malformed frames do not count);
  drops and redoes a connection that has sent no valid frame for six periods.
- Reconnects with capped exponential backoff and jitter.
- Malformed frames are counted and logged, never fatal.

Runs as an asyncio task in whatever loop the caller has (the console's, or a test's). Listeners are
called in that loop after each change.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import random
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, WebSocketException

from contiple_tui import __version__
from contiple_tui.cti import protocol as p
from contiple_tui.cti.model import Applied, LiveModel
from contiple_tui.safe_text import clean

log = logging.getLogger(__name__)

STALE_PERIODS = 2  # heartbeat periods without good data before the numbers are marked stale
Why = tuple[str, dict[str, object]]  # why the link is down: a message key under cti.why. and its values


def _without_userinfo(url: str) -> str:
    """The address for the log, without a user name or password it may carry (ws://user:pass@host)."""
    scheme, sep, rest = url.partition("://")
    host, at, path = rest.partition("@") if "@" in rest.split("/", 1)[0] else ("", "", rest)
    return f"{scheme}{sep}{path}" if at else url


def why_down(exc: BaseException) -> Why:
    """Why a connection attempt or a session ended, in words the header and the banner can say."""
    if isinstance(exc, p.ProtocolError) and str(exc).startswith("refused: "):
        reason = str(exc).removeprefix("refused: ")
        return (
            ("unauthorized", {})
            if reason == "unauthorized"
            else ("refused_by_server", {"reason": clean(reason, 80)})
        )
    if isinstance(exc, ConnectionRefusedError):
        return "refused", {}
    if isinstance(exc, socket.gaierror):
        return "unknown_host", {}
    if isinstance(exc, ssl.SSLError):
        return "tls", {}
    if isinstance(exc, TimeoutError):
        return "timeout", {}
    if isinstance(exc, InvalidHandshake):
        return "not_cti", {}
    if isinstance(exc, ConnectionClosed):
        return "closed", {}
    if isinstance(exc, p.ProtocolError):
        return "protocol", {}
    if isinstance(exc, OSError):
        return "network", {"reason": clean(exc.strerror or type(exc).__name__, 80)}
    return "error", {"kind": type(exc).__name__}


SILENT_PERIODS = 6  # heartbeat periods without a valid frame before the connection is dropped and redone


class LinkState(StrEnum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    STALE = "stale"  # connected, but the server has gone quiet
    OFFLINE = "offline"


class CommandRejected(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class ClientStats:
    frames: int = 0
    malformed: int = 0
    duplicates: int = 0
    gaps: int = 0
    snapshots: int = 0
    connects: int = 0


Listener = Callable[["CtiClient", Any], None]


class CtiClient:
    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        user: str = "",
        model: LiveModel | None = None,
        resume_from: tuple[str, int] | None = None,
        backoff_initial: float = 0.5,
        backoff_max: float = 10.0,  # a wall TV is back within seconds of the phone system
        connect_timeout: float = 10.0,
    ) -> None:
        self.url = url
        self.token = token
        self.user = user
        self.model = model or LiveModel()
        self.state = LinkState.OFFLINE
        self.stats = ClientStats()
        self.epoch: str | None = None
        self.heartbeat_s = 5.0
        self.time_scale = 1.0
        self.last_good: datetime | None = None  # server time of the last good data
        self._last_frame = 0.0  # monotonic time of the last valid frame (the server is alive and sane)
        self._last_good = 0.0  # monotonic time of the last good data (the numbers are current)
        self._resync_since = 0.0
        self._background: set[asyncio.Task] = set()
        self.last_error: str | None = None
        self.down_reason: Why | None = None  # why the link is down (None: up, or never tried)
        self._gave_up: Why | None = None
        self._sync_mono = 0.0  # monotonic time when server_time was last learned
        self._backoff_initial = backoff_initial
        self._backoff_max = backoff_max
        self._connect_timeout = connect_timeout
        self._listeners: list[Listener] = []
        self._ws: ClientConnection | None = None
        self._pending: dict[str, asyncio.Future[p.Reply]] = {}
        self._ids = itertools.count(1)
        self._stop = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._resyncing = False  # a snapshot was asked for; events wait for it
        self._welcomed = False
        # Where an earlier console left off (kept in the store): callback requests made while no console
        # was connected are replayed from there, before the snapshot.
        self._resume_from = resume_from
        self._replaying = False
        # Subscriptions (docs/cti-protocol.md): a console that shows no board asks for the events without
        # the boards' numbers. Only with a server that filters (it says so in welcome); others send all.
        self._want_boards = True
        self._filtering = False  # this connection's server filters by subscription
        self._narrow = False  # the subscription in effect leaves the board events out
        self._boards_stale = False  # the services' numbers missed events since the last snapshot

    # -- subscription ---------------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """``listener(client, what)`` is called after each change; ``what`` is the message or state."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _notify(self, what: Any) -> None:
        for listener in list(self._listeners):
            try:
                listener(self, what)
            except Exception:  # a broken view must not stop the feed
                log.exception("CTI listener failed")

    def _set_state(self, state: LinkState) -> None:
        if state is not self.state:
            self.state = state
            self._notify(state)

    @property
    def live(self) -> bool:
        """True while the picture is current (not while waiting for a resync snapshot): agents' states,
        and the services' numbers unless the subscription leaves them out (see ``boards_live``)."""
        return self.state is LinkState.CONNECTED and self.model.has_data and not self._resyncing

    @property
    def boards_live(self) -> bool:
        """True while the services' numbers (what boards show) are current too."""
        return self.live and not self._narrow

    @property
    def narrow(self) -> bool:
        """The subscription in effect leaves the board events out."""
        return self._narrow

    @property
    def started(self) -> bool:
        """Whether :meth:`start` ran (the client then connects and reconnects until :meth:`stop`)."""
        return self._task is not None

    @property
    def wants_boards(self) -> bool:
        """What this console last asked for with :meth:`want_boards` (the server may not have answered)."""
        return self._want_boards

    def want_boards(self, wanted: bool) -> None:
        """Whether this console needs the services' numbers (a board is on screen, or soon may be).

        Without them the feed is a small part of its frames (callback requests, agents' states, calls
        placed, heartbeats). Widening asks the server for a snapshot first: the numbers are not live until
        it comes. Nothing changes with a server that does not filter."""
        self._want_boards = wanted
        if self._ws is None or not self._filtering or self._narrow == (not wanted):
            return  # not connected (the next hello asks for it), nothing to change, or no filters
        self._narrow = not wanted
        self._boards_stale |= self._narrow
        if wanted:
            self._resyncing = True
            self._resync_since = time.monotonic()
            log.info("CTI resync: the boards' numbers asked for again")
            self._notify(self.state)  # not live until the snapshot: views dim at once
        self._send_in_background(p.subscribe(self._subscription()))

    def _subscription(self) -> tuple[str, ...] | None:
        return None if self._want_boards else p.WITHOUT_BOARDS

    def server_now(self) -> datetime:
        """The server's clock now, advanced at the server's time scale since it was last heard.

        Frozen at the last good data while the feed is down: nothing on screen ticks as if live.
        """
        base = self.model.server_time or p.utc_now()
        if self.state is not LinkState.CONNECTED:
            return base
        elapsed = (time.monotonic() - self._sync_mono) * self.time_scale if self._sync_mono else 0.0
        return base + timedelta(seconds=elapsed)

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> asyncio.Task:
        self._stop.clear()
        self._task = asyncio.get_running_loop().create_task(self.run(), name="cti-client")
        return self._task

    async def stop(self) -> None:
        """Quit promptly, even when the link is silently dead (no 10-second close handshake)."""
        self._stop.set()
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except BaseException:  # noqa: BLE001 - stopping: whatever it ended with is over
                pass
        ws = self._ws
        if ws is not None:
            try:
                await asyncio.wait_for(ws.close(), 1.0)
            except BaseException:  # noqa: BLE001
                ws.transport.abort()
        self._set_state(LinkState.OFFLINE)

    async def run(self) -> None:
        attempt = 0
        while not self._stop.is_set():
            self._set_state(LinkState.CONNECTING)
            self._gave_up = None  # why the watchdog closed this session, if it does
            try:
                await self._session()
                self.down_reason = self._gave_up or ("closed", {})  # the server, or the watchdog, ended it
            except asyncio.CancelledError:
                raise
            except (TimeoutError, OSError, WebSocketException, p.ProtocolError) as exc:
                self.last_error = str(exc)
                # A close the watchdog made is better said by its reason ("no heartbeat for 12 s").
                self.down_reason = (
                    self._gave_up if isinstance(exc, ConnectionClosed) and self._gave_up else why_down(exc)
                )
                log.info("CTI connection failed: %s", exc)
            except Exception as exc:  # noqa: BLE001 - a bad address or a library surprise: retry, never die
                self.last_error = str(exc)
                self.down_reason = why_down(exc)
                log.exception("CTI client error")
            finally:
                self._ws = None
                self._fail_pending("disconnected")
            if self._stop.is_set():
                break
            self._set_state(LinkState.OFFLINE)
            attempt = 0 if self._welcomed else attempt + 1
            self._welcomed = False
            delay = self._backoff_initial * 2 ** min(attempt, 16)
            # Jitter, so consoles do not reconnect in lockstep; capped after the jitter.
            delay = min(self._backoff_max, delay * (0.5 + random.random()))
            try:
                await asyncio.wait_for(self._stop.wait(), timeout=delay)
            except TimeoutError:
                pass

    async def _session(self) -> None:
        async with connect(
            self.url, open_timeout=self._connect_timeout, max_size=p.MAX_FRAME_BYTES, ping_interval=None
        ) as ws:
            self._ws = ws
            self._filtering = False  # known from this server's welcome
            console = {"name": "contiple-tui", "version": __version__, "user": self.user, "pid": os.getpid()}
            epoch, last_seq = self.epoch, self.model.seq
            if last_seq is None and self._resume_from is not None:
                epoch, last_seq = self._resume_from
            await ws.send(p.hello(self.token, console, epoch, last_seq, self._subscription()))
            welcome = p.decode_server(await asyncio.wait_for(ws.recv(), self._connect_timeout))
            if isinstance(welcome, p.ServerError):
                raise p.ProtocolError(f"refused: {welcome.reason}")
            if not isinstance(welcome, p.Welcome):
                raise p.ProtocolError("expected welcome")
            if welcome.protocol != p.PROTOCOL_VERSION:
                raise p.ProtocolError(f"unsupported protocol {welcome.protocol}")
            self._welcomed = True  # a working server: the next reconnect starts from a short delay
            self.last_error = None
            self.down_reason = None
            self.stats.connects += 1
            self.heartbeat_s = welcome.heartbeat_s
            self.time_scale = welcome.time_scale
            self._filtering = welcome.filters
            self._narrow = welcome.filters and welcome.events is not None
            self._boards_stale |= self._narrow
            self._replaying = welcome.resume and not self.model.has_data
            if welcome.epoch != self.epoch or not welcome.resume:
                # A new server run (or no resume): only a snapshot can place what follows.
                self.model.clear()
            log.info(
                "CTI connected to %s (epoch %s, %s)",
                _without_userinfo(self.url),
                welcome.epoch,
                "resumed" if welcome.resume else "fresh",
            )
            self.epoch = welcome.epoch
            self._resyncing = False
            self._resume_from = None
            if self._replaying:
                # Missed events are replayed for their callback requests; the picture needs a snapshot.
                await ws.send(p.resync())
            elif self._boards_stale and not self._narrow and self.model.has_data:
                # Resumed with every event, on numbers that missed some while narrow: a snapshot first.
                self._resyncing = True
                self._resync_since = time.monotonic()
                await ws.send(p.resync())
            self._heard()
            self._advance_clock(welcome.server_time)
            if self._filtering and self._narrow == self._want_boards:
                self.want_boards(self._want_boards)  # asked for while the handshake was under way
            watchdog = asyncio.create_task(self._watch_heartbeats())
            try:
                async for frame in ws:
                    self._on_frame(frame)
            finally:
                watchdog.cancel()

    async def _watch_heartbeats(self) -> None:
        """Two heartbeat periods without good data: the numbers are no longer live.

        Wakes at the moment the data would turn stale (not on a fixed tick), so the stale mark comes at
        two periods after the last good frame, within scheduling delay (tens of milliseconds).
        """
        while True:
            period = self.heartbeat_s
            now = time.monotonic()
            stale_at = self._last_good + STALE_PERIODS * period
            if self.state is LinkState.CONNECTED and now >= stale_at:
                self._set_state(LinkState.STALE)
            silent = now - self._last_frame > SILENT_PERIODS * period
            stuck = self._resyncing and now - self._resync_since > STALE_PERIODS * period + 1
            if (silent or stuck) and self._ws is not None:
                if silent:
                    self._gave_up = ("silent", {"seconds": round(now - self._last_frame)})
                else:
                    self._gave_up = ("resync_stuck", {"seconds": round(now - self._resync_since)})
                log.info("CTI link given up (%s): reconnecting", self._gave_up[0])
                await self._ws.close()  # reconnect rather than wait forever
            wait = period / 2
            if self.state is LinkState.CONNECTED and stale_at > now:
                wait = min(wait, stale_at - now + 0.005)
            await asyncio.sleep(max(wait, 0.01))

    def _heard(self) -> None:
        self._last_frame = time.monotonic()

    def _good(self) -> None:
        """Current data arrived: live (again)."""
        self._last_good = self._last_frame
        if self.model.has_data and not self._resyncing:
            self._set_state(LinkState.CONNECTED)

    def _advance_clock(self, server_time: datetime) -> None:
        """Server time only moves forward (replayed events carry old times)."""
        if self.model.server_time is None or server_time > self.model.server_time:
            self.model.server_time = server_time
        self._sync_mono = self._last_frame

    # -- frames --------------------------------------------------------------------------------

    def _on_frame(self, frame: str | bytes) -> None:
        self.stats.frames += 1
        try:
            message = p.decode_server(frame)
        except p.ProtocolError as exc:
            self.stats.malformed += 1
            if (
                self.stats.malformed in (1, 10) or self.stats.malformed % 1000 == 0
            ):  # a flood is one line per thousand
                log.warning("malformed CTI frame (%d so far): %s", self.stats.malformed, clean(exc, 200))
            return  # not "heard": a server that sends only garbage goes stale, then is reconnected
        self._heard()
        if message is None:
            return
        if isinstance(message, p.EventMessage):
            if self._replaying:
                if message.event is p.Event.CALLBACK_REQUESTED:
                    self._notify(message)  # intake is idempotent: replays are safe
                return
            if self._resyncing:
                if message.event is p.Event.CALLBACK_REQUESTED:
                    self._notify(message)  # no snapshot holds requests; intake is idempotent
                return  # the coming snapshot includes it
            server_time = self.model.server_time
            result = self.model.apply_event(message, contiguous=not self._narrow)
            if result is Applied.APPLIED:
                self.model.server_time = server_time  # restored, then moved forward only
                self._advance_clock(message.ts)
                self.last_good = self.model.server_time
                self._good()
                self._notify(message)
            elif result is Applied.DUPLICATE:
                self.stats.duplicates += 1
            else:
                self._request_resync()
        elif isinstance(message, p.Snapshot):
            self._resyncing = False
            self._replaying = False
            self.stats.snapshots += 1
            self.model.apply_snapshot(message)
            self._boards_stale = self._narrow
            self._sync_mono = self._last_frame
            self.last_good = message.server_time
            self._good()
            self._notify(message)
        elif isinstance(message, p.Heartbeat):
            if self._resyncing:
                pass
            elif self._narrow and self.model.seq is not None and message.seq > self.model.seq:
                self.model.seq = message.seq  # the events between were not subscribed to
                self._advance_clock(message.server_time)
                self.last_good = self.model.server_time
                self._good()
                self._notify(message)
            elif self.model.seq is not None and message.seq != self.model.seq:
                self._request_resync()  # an event was lost in a quiet period, or the server went back
            elif self.model.has_data:
                self._advance_clock(message.server_time)
                self.last_good = self.model.server_time
                self._good()
                self._notify(message)
        elif isinstance(message, p.Reply):
            future = self._pending.pop(message.id, None)
            if future is not None and not future.done():
                future.set_result(message)

    def _request_resync(self) -> None:
        """Keep showing what we have, ignore events, and ask for a snapshot (once)."""
        if self._resyncing:
            return
        self._resyncing = True
        self._resync_since = time.monotonic()
        self.stats.gaps += 1
        log.info("CTI resync: a gap in the feed after seq %d", self.model.seq)
        self._notify(self.state)  # not live until the snapshot: views dim at once
        self._send_in_background(p.resync())

    def _send_in_background(self, text: str) -> None:
        if self._ws is not None:
            task = asyncio.get_running_loop().create_task(self._send_quietly(text))
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def _send_quietly(self, text: str) -> None:
        try:
            await self._send(text)
        except ConnectionError:
            pass  # the session is ending; the next one starts with a snapshot anyway

    async def _send(self, text: str) -> None:
        if self._ws is None:
            raise ConnectionError("not connected")
        try:
            await self._ws.send(text)
        except WebSocketException as exc:
            raise ConnectionError(str(exc)) from exc

    # -- commands ------------------------------------------------------------------------------

    async def command(self, name: p.Command, timeout: float = 10.0, **args: Any) -> dict[str, Any]:
        """Send a command and wait for its reply; raises CommandRejected or ConnectionError."""
        command_id = f"c-{os.getpid()}-{next(self._ids)}"
        future: asyncio.Future[p.Reply] = asyncio.get_running_loop().create_future()
        self._pending[command_id] = future
        try:
            await self._send(p.command(command_id, name, **args))
            reply = await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise ConnectionError("no reply") from None
        finally:
            self._pending.pop(command_id, None)
        if not reply.ok:
            raise CommandRejected(reply.reason or "rejected")
        return reply.data

    def _fail_pending(self, reason: str) -> None:
        for future in self._pending.values():
            if not future.done():
                future.set_exception(ConnectionError(reason))
        self._pending.clear()
