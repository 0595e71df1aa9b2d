"""A scripted CTI server on 127.0.0.1 speaking the real protocol, for tests that need exact control
(gaps, duplicates, hostile frames, silence). Everything else uses the real simulator."""

from __future__ import annotations

import asyncio
import json

import websockets
from websockets.asyncio.server import ServerConnection, serve

from .ctidata import dumps, event, snapshot, welcome


class ScriptedCti:
    def __init__(self, *, heartbeat_s: float = 5, time_scale: float = 1, epoch: str = "test-1") -> None:
        self.heartbeat_s = heartbeat_s
        self.time_scale = time_scale
        self.epoch = epoch
        self.snapshot = snapshot()
        self.replay: list[
            dict
        ] = []  # events a resuming client (matching epoch) is sent instead of a snapshot
        self.received: list[dict] = []
        self.hellos: list[dict] = []
        self.connections: list[ServerConnection] = []
        self._server = None
        self.port = 0

    async def start(self, port: int = 0) -> int:
        self._server = await serve(self._handle, "127.0.0.1", port, max_size=None)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, ws: ServerConnection) -> None:
        hello = json.loads(await ws.recv())
        self.hellos.append(hello)
        resume = bool(self.replay) and hello.get("epoch") == self.epoch and hello.get("last_seq") is not None
        await ws.send(dumps(welcome(self.epoch, resume, self.heartbeat_s, self.time_scale)))
        if resume:
            for message in self.replay:
                if message["seq"] > hello["last_seq"]:
                    await ws.send(dumps(message))
        else:
            await ws.send(dumps(self.snapshot))
        self.connections.append(ws)
        try:
            async for frame in ws:
                message = json.loads(frame)
                self.received.append(message)
                if message.get("type") == "resync":
                    await ws.send(dumps(self.snapshot))
                elif message.get("type") == "command":
                    ok = message.get("command") == "dial"
                    reply = {"type": "reply", "id": message["id"], "ok": ok}
                    reply.update({"data": {"call_id": "o-1"}} if ok else {"reason": "unknown_command"})
                    await ws.send(dumps(reply))
        except Exception:  # noqa: BLE001 - the client went away
            pass
        finally:
            self.connections.remove(ws)

    async def send(self, frame: str | dict) -> None:
        text = frame if isinstance(frame, str) else dumps(frame)
        for ws in list(self.connections):
            try:
                await ws.send(text)
            except websockets.ConnectionClosed:
                pass  # that client is leaving (a reconnect under test): the others still get it

    async def wait_for_client(self, timeout: float = 5.0) -> None:
        for _ in range(int(timeout / 0.02)):
            if self.connections:
                return
            await asyncio.sleep(0.02)
        raise TimeoutError("no client connected")


class ThreadedCti:
    """A ScriptedCti in its own thread and loop, for sync tests (snapshots) whose app runs elsewhere."""

    def __init__(self, **kwargs) -> None:
        import threading

        self.server = ScriptedCti(**kwargs)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def __enter__(self) -> ScriptedCti:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.server.start(), self._loop).result(10)
        return self.server

    def __exit__(self, *exc) -> None:
        asyncio.run_coroutine_threadsafe(self.server.stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


def replaying_missed_request(store, request_id: str) -> ScriptedCti:
    """A server (not started yet) holding a callback request (seq 11) and a queued call (12) that the
    store's consoles missed: the stored feed position is set before them, so the next console resumes
    and is sent both."""
    from contiple_tui.core.feed_intake import POSITION_KEY

    store.db.run_write(lambda conn: store.set_meta(conn, POSITION_KEY, "test-1:10"))
    server = ScriptedCti()
    request = event(
        11,
        "callback_requested",
        request_id=request_id,
        service="cs",
        phone="01099990000",
        name="김민준",
        ivr_route="1",
        requested_at="2026-11-25T01:29:00.000Z",
    )
    other = event(12, "call_queued", service="cs", call_id="q9", enqueued_at="2026-11-25T01:29:30.000Z")
    server.replay = [request, other]
    server.snapshot = {**server.snapshot, "seq": 12}
    return server
