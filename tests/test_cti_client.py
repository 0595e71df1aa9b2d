"""The real CTI client over a real socket: against the simulator, and against a scripted server."""

from __future__ import annotations

import asyncio

import pytest

from contiple_tui.cti.client import CommandRejected, CtiClient, LinkState
from contiple_tui.cti.protocol import Command
from contiple_tui.sim.engine import load_directory
from contiple_tui.sim.simulator import Simulator

from .ctidata import dumps, event, snapshot
from .ctiserver import ScriptedCti


async def until(predicate, timeout: float = 5.0, step: float = 0.02) -> None:
    for _ in range(int(timeout / step)):
        if predicate():
            return
        await asyncio.sleep(step)
    raise AssertionError("condition not reached in time")


@pytest.fixture
async def scripted():
    server = ScriptedCti()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def client_of(scripted):
    client = CtiClient(scripted.url, user="tester", backoff_initial=0.05, backoff_max=0.2)
    client.start()
    await until(lambda: client.live)
    yield client
    await client.stop()


async def test_snapshot_makes_the_client_live(client_of, scripted):
    assert client_of.state is LinkState.CONNECTED
    assert client_of.model.counters()["cs"]["inbound"] == 100
    hello = scripted.hellos[0]
    assert hello["type"] == "hello" and hello["protocol"] == 1 and hello["console"]["user"] == "tester"
    assert hello["epoch"] is None and hello["last_seq"] is None


async def test_gap_triggers_resync_and_duplicate_is_applied_once(client_of, scripted):
    queued = event(11, "call_queued", service="cs", call_id="n1", enqueued_at="2026-11-25T01:30:00.000Z")
    await scripted.send(queued)
    await scripted.send(queued)  # a duplicate
    await until(lambda: client_of.model.seq == 11)
    await asyncio.sleep(0.1)
    assert client_of.model.counters()["cs"]["inbound"] == 101
    assert client_of.stats.duplicates == 1
    # Seq 13 skips 12: the client asks for a snapshot, which the server answers.
    scripted.snapshot = snapshot(13)
    await scripted.send(event(13, "call_ended", service="cs", call_id="n1", agent_id="1001"))
    await until(lambda: any(m.get("type") == "resync" for m in scripted.received))
    await until(lambda: client_of.model.seq == 13)
    assert client_of.model.counters()["cs"]["inbound"] == 100  # the snapshot's truth
    assert client_of.stats.gaps == 1


HOSTILE = [
    "{broken json",
    "[1, 2, 3]",
    '{"type": null}',
    '{"type": "event", "seq": -1}',
    dumps(event(11, "call_answered", service="cs", call_id="x", agent_id="1", wait_s=10**15)),
    dumps(event(11, "call_queued", service="cs", call_id="x", enqueued_at="yesterday")),
    dumps({"type": "snapshot", "seq": 1, "services": "all", "agents": []}),
    dumps({"type": "unknown_kind", "payload": "x" * 1000}),
    dumps({"type": "event", "seq": 11, "ts": "2026-11-25T01:30:00.000Z", "event": "surprise"}),
    '{"type": "heartbeat", "server_time": "2026-11-25T01:30:00.000Z", "seq": "many"}',
    "x" * (1024 * 1024),
    dumps(
        {
            "type": "event",
            "seq": 11,
            "ts": "2026-11-25T01:30:00.000Z",
            "event": "agent_state",
            "agent_id": "1001",
            "previous": "ready",
            "state": "\x1b[31mred",
            "since": "2026-11-25T01:30:00.000Z",
        }
    ),
]


async def test_hostile_frames_never_hurt(client_of, scripted):
    before = client_of.model.counters()
    for i in range(10_000 // len(HOSTILE)):
        for frame in HOSTILE:
            if len(frame) > 100_000 and i % 50:
                continue  # a few megabyte frames are enough
            await scripted.send(frame)
    await scripted.send({"type": "heartbeat", "server_time": "2026-11-25T01:30:00.000Z", "seq": 10})
    await until(lambda: client_of.stats.frames > 8000, timeout=30)
    assert client_of.model.counters() == before
    assert client_of.stats.malformed > 5000
    assert client_of.state is LinkState.CONNECTED and client_of.model.seq == 10


async def test_silence_marks_stale_then_heartbeat_revives():
    server = ScriptedCti(heartbeat_s=0.2)
    await server.start()
    client = CtiClient(server.url, backoff_initial=0.05)
    client.start()
    try:
        await until(lambda: client.live)
        await until(lambda: client.state is LinkState.STALE, timeout=3)
        assert not client.live
        await server.send({"type": "heartbeat", "server_time": "2026-11-25T01:30:01.000Z", "seq": 10})
        await until(lambda: client.state is LinkState.CONNECTED)
    finally:
        await client.stop()
        await server.stop()


async def test_commands_get_replies(client_of):
    data = await client_of.command(Command.DIAL, agent_id="1001", number="01012345678")
    assert data == {"call_id": "o-1"}
    with pytest.raises(CommandRejected) as err:
        await client_of.command(Command.LOGOUT, agent_id="1001")
    assert err.value.reason == "unknown_command"


async def test_refused_token_keeps_retrying_without_crashing(demo_store):
    sim = Simulator(load_directory(demo_store), seed=1, token="right", heartbeat_s=0.2)
    port = await sim.start()
    client = CtiClient(f"ws://127.0.0.1:{port}", token="wrong", backoff_initial=0.05, backoff_max=0.1)
    client.start()
    try:
        await asyncio.sleep(0.6)
        assert not client.live and client.stats.connects == 0
    finally:
        await client.stop()
        await sim.stop()


# -- against the real simulator -------------------------------------------------------------------


async def test_numbers_equal_the_simulators_own_counters(demo_store):
    sim = Simulator(load_directory(demo_store), seed=3, speed=300, heartbeat_s=0.2, arrival_scale=5)
    port = await sim.start()
    client = CtiClient(f"ws://127.0.0.1:{port}", backoff_initial=0.05)
    client.start()
    try:
        await until(lambda: client.live)
        await asyncio.sleep(1.0)  # minutes of simulated traffic
        sim.pause()
        truth = sim.stats()
        await until(lambda: client.model.seq == truth["seq"])
        assert client.model.counters() == truth["services"]
        assert sum(c["inbound"] for c in truth["services"].values()) > 0
    finally:
        await client.stop()
        await sim.stop()


async def test_reconnects_after_simulator_restarts(demo_store):
    directory = load_directory(demo_store)
    sim = Simulator(directory, seed=4, speed=300, heartbeat_s=0.2, arrival_scale=5)
    port = await sim.start()
    client = CtiClient(f"ws://127.0.0.1:{port}", backoff_initial=0.05, backoff_max=0.2)
    client.start()
    try:
        for round_ in range(3):
            await until(lambda: client.live, timeout=10)
            await asyncio.sleep(0.3)
            await sim.stop()
            await until(lambda: not client.live)
            assert client.state in (LinkState.OFFLINE, LinkState.CONNECTING)
            sim = Simulator(directory, seed=10 + round_, speed=300, heartbeat_s=0.2, arrival_scale=5)
            await sim.start(port=port)
        await until(lambda: client.live, timeout=10)
        await asyncio.sleep(0.3)
        sim.pause()
        truth = sim.stats()
        await until(lambda: client.model.seq == truth["seq"])
        assert client.model.counters() == truth["services"]
        assert client.epoch == sim.epoch
    finally:
        await client.stop()
        await sim.stop()


async def _stale_after_last_good(
    server: ScriptedCti, client: CtiClient, filler: str | None
) -> tuple[float, float]:
    """Heartbeats every period for a while (the client stays live), then only ``filler`` frames (or
    silence): (seconds from the last good frame to the stale mark by the client's own clock, seconds
    from the server's last good send)."""
    import time

    period = server.heartbeat_s
    await until(lambda: client.live)
    for i in range(4):
        await server.send({"type": "heartbeat", "server_time": f"2026-11-25T01:30:0{i}.000Z", "seq": 10})
        await asyncio.sleep(period * 0.9)
        assert client.state is LinkState.CONNECTED
    await server.send({"type": "heartbeat", "server_time": "2026-11-25T01:30:05.000Z", "seq": 10})
    sent = time.monotonic()
    while client.state is not LinkState.STALE:
        if filler is not None:
            await server.send(filler)
        await asyncio.sleep(0.01)
        assert time.monotonic() - sent < 5 * period, "never turned stale"
    stale = time.monotonic()
    return stale - client._last_good, stale - sent


@pytest.mark.parametrize(
    "filler",
    [None, "{not json", dumps({"type": "heartbeat", "seq": 10})],
    ids=["silence", "garbage", "invalid-heartbeat"],
)
async def test_stale_at_two_heartbeat_periods(filler):
    """docs/cti-protocol.md: two periods without good data (at most 0.5 s late, never early); malformed
    frames are not "heard"."""
    server = ScriptedCti(heartbeat_s=0.4)
    await server.start()
    client = CtiClient(server.url, backoff_initial=0.05, backoff_max=0.2)
    client.start()
    try:
        since_good, since_sent = await _stale_after_last_good(server, client, filler)
        assert since_good >= 2 * 0.4
        assert since_sent <= 2 * 0.4 + 0.5
        print(f"stale {since_sent:.3f} s after the last good frame was sent (period 0.4 s)")
    finally:
        await client.stop()
        await server.stop()


async def test_server_sending_only_garbage_is_reconnected():
    """Garbage is not a sign of life: after six periods without a valid frame the client reconnects."""
    server = ScriptedCti(heartbeat_s=0.2)
    await server.start()
    client = CtiClient(server.url, backoff_initial=0.05, backoff_max=0.2)
    client.start()
    try:
        await until(lambda: client.live)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 5
        while len(server.hellos) < 2 and loop.time() < deadline:
            await server.send("\x00garbage")
            await asyncio.sleep(0.02)
        assert len(server.hellos) >= 2
        assert client.stats.malformed > 0
        await until(lambda: client.live)  # the new connection's snapshot
    finally:
        await client.stop()
        await server.stop()
