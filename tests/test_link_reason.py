"""Why the CTI link is down, said in the header and the Disconnected banner in the user's language:
real clients against a closed port, the real simulator refusing a token, a server that falls silent."""

from __future__ import annotations

import asyncio
import socket
import time

from contiple_tui.cti.client import CtiClient, LinkState
from contiple_tui.i18n import set_language, t
from contiple_tui.sim.engine import load_directory
from contiple_tui.sim.simulator import Simulator
from contiple_tui.widgets.link_reason import link_reason
from contiple_tui.widgets.wallboard_panel import disconnected_text

from .ctiserver import ScriptedCti


async def _until(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the block ends: nothing listens there


async def test_a_closed_port_is_connection_refused_in_both_languages():
    client = CtiClient(f"ws://127.0.0.1:{_closed_port()}/", backoff_initial=0.05, backoff_max=0.1)
    assert link_reason(client) is None  # nothing tried yet
    client.start()
    try:
        await _until(lambda: client.down_reason is not None)
        set_language("en")
        assert link_reason(client) == "connection refused"
        assert "connection refused" in disconnected_text(client, "Asia/Seoul").plain
        set_language("ko")
        assert link_reason(client) == "연결 거부됨"
    finally:
        set_language("en")
        await client.stop()


async def test_a_wrong_token_is_said_as_such(demo_store):
    sim = Simulator(load_directory(demo_store), seed=1, token="right", heartbeat_s=0.2)
    port = await sim.start()
    client = CtiClient(f"ws://127.0.0.1:{port}", token="wrong", backoff_initial=0.05, backoff_max=0.1)
    client.start()
    try:
        await _until(lambda: client.down_reason is not None)
        assert link_reason(client) == t("cti.why.unauthorized", "en") == "the CTI refused the token"
    finally:
        await client.stop()
        await sim.stop()


async def test_a_silent_server_is_no_heartbeat_for_some_seconds_and_the_reason_goes_when_back():
    server = ScriptedCti(heartbeat_s=0.2)
    await server.start()
    client = CtiClient(server.url, backoff_initial=0.05, backoff_max=0.1)
    client.start()
    try:
        await _until(lambda: client.live)
        assert link_reason(client) is None
        await _until(lambda: client.down_reason is not None and client.down_reason[0] == "silent")
        assert link_reason(client).startswith("no heartbeat for ")  # 6 periods of 0.2 s: about 1 s
        await _until(lambda: client.state is LinkState.CONNECTED, timeout=15)  # it reconnects
        assert link_reason(client) is None and client.down_reason is None
    finally:
        await client.stop()
        await server.stop()
