"""Feed subscriptions: a console that shows no board asks for the events without the boards' numbers.

The real client against the real simulator over a real socket, and against the scripted server, which
(like a phone system that predates subscriptions) knows nothing of them."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from contiple_tui.cti import protocol as p
from contiple_tui.cti.client import CtiClient
from contiple_tui.cti.protocol import Command, Event, EventMessage
from contiple_tui.sim.engine import load_directory
from contiple_tui.sim.simulator import Simulator

from .ctiserver import ScriptedCti
from .test_cti_client import until


@pytest.fixture
async def sim(demo_store):
    simulation = Simulator(load_directory(demo_store), seed=3, speed=60, heartbeat_s=0.2)
    simulation.port = await simulation.start()
    yield simulation
    await simulation.stop()


def counting(client: CtiClient) -> Counter:
    """Event names the client was told of (applied events and, while resyncing, callback requests)."""
    seen: Counter = Counter()
    client.subscribe(lambda _c, what: seen.update([what.event]) if isinstance(what, EventMessage) else None)
    return seen


async def exact(client: CtiClient, sim: Simulator) -> None:
    """The client's numbers equal the simulator's own counters, at the same seq."""
    # The simulator's own traffic may move on between its answer and the client catching up (a busy CI
    # machine): ask again until the client stands exactly at the seq the simulator answered with.
    for _ in range(50):
        reply = await client.command(Command.STATS)
        target = reply["seq"]
        await until(
            lambda target=target: client.model.seq is not None and client.model.seq >= target, timeout=15
        )
        if client.model.seq == target:
            break
    assert client.model.seq == reply["seq"]
    assert client.model.counters() == reply["services"]


async def test_without_boards_only_the_other_events_come_and_agents_stay_exact(sim):
    client = CtiClient(f"ws://127.0.0.1:{sim.port}", backoff_initial=0.05)
    client.want_boards(False)  # before the first hello, as the console on Home does
    seen = counting(client)
    client.start()
    try:
        await until(lambda: client.live)
        assert client.narrow and not client.boards_live
        sim.burst(300)  # callers queued and abandoned: board events only
        sim.burst_callbacks(3)
        await until(lambda: seen[Event.CALLBACK_REQUESTED] == 3)
        await until(lambda: client.model.seq == sim.engine.seq, timeout=5)  # carried by the heartbeat
        assert not set(seen) & p.BOARD_EVENTS
        assert client.stats.gaps == 0 and client.stats.frames < 100  # not the 300 board events
        states = {a["agent_id"]: a["state"] for a in sim.engine.snapshot()["agents"]}
        assert {a: agent.state for a, agent in client.model.agents.items()} == states
    finally:
        await client.stop()


async def test_widening_asks_for_a_snapshot_and_the_numbers_are_exact_again(sim):
    client = CtiClient(f"ws://127.0.0.1:{sim.port}", backoff_initial=0.05)
    client.want_boards(False)
    client.start()
    try:
        await until(lambda: client.live)
        sim.burst(200)
        await asyncio.sleep(0.3)
        client.want_boards(True)
        assert not client.boards_live  # until the snapshot comes
        await until(lambda: client.boards_live)
        await exact(client, sim)
        sim.burst(50)
        await exact(client, sim)  # every event again, in order
        assert client.stats.gaps == 0
        client.want_boards(False)
        assert client.narrow and not client.boards_live
        await until(lambda: all(c.events is not None for c in sim._clients))  # the server has it
        frames = client.stats.frames
        sim.burst(200)
        await asyncio.sleep(0.5)
        assert client.stats.frames - frames < 20  # heartbeats, agents, nothing of the 200
    finally:
        await client.stop()


async def test_callback_requests_are_not_lost_while_the_snapshot_is_awaited(sim):
    client = CtiClient(f"ws://127.0.0.1:{sim.port}", backoff_initial=0.05)
    client.want_boards(False)
    seen = counting(client)
    client.start()
    try:
        await until(lambda: client.live)
        client.want_boards(True)
        sim.burst_callbacks(5)  # on their way while the client waits for the snapshot
        await until(lambda: seen[Event.CALLBACK_REQUESTED] >= 5)
        await until(lambda: client.boards_live)
    finally:
        await client.stop()


async def test_a_reconnect_that_resumes_every_event_waits_for_a_snapshot_first(sim):
    client = CtiClient(f"ws://127.0.0.1:{sim.port}", backoff_initial=0.05, backoff_max=0.1)
    client.want_boards(False)
    client.start()
    try:
        await until(lambda: client.live)
        sim.burst(100)  # numbers this client never saw
        await until(lambda: client.model.seq == sim.engine.seq)
        await client._ws.close()  # the link drops…
        client.want_boards(True)  # …and a board is opened meanwhile
        await until(lambda: client.stats.connects == 2)
        await until(lambda: client.boards_live)
        await exact(client, sim)  # resumed, then a snapshot: not the old numbers plus a replay
    finally:
        await client.stop()


async def test_a_server_without_subscriptions_sends_everything_and_the_client_copes():
    server = ScriptedCti()
    await server.start()
    client = CtiClient(server.url, backoff_initial=0.05)
    client.want_boards(False)
    try:
        client.start()
        await until(lambda: client.live)
        assert server.hellos[0]["events"] == list(p.WITHOUT_BOARDS)
        assert not client.narrow and client.boards_live  # its welcome says nothing of filters
        client.want_boards(True)
        client.want_boards(False)
        await asyncio.sleep(0.1)
        assert not [m for m in server.received if m.get("type") == "subscribe"]
    finally:
        await client.stop()
        await server.stop()


async def test_the_server_replays_only_subscribed_events_on_resume(sim):
    client = CtiClient(f"ws://127.0.0.1:{sim.port}", backoff_initial=0.05, backoff_max=0.1)
    client.want_boards(False)
    seen = counting(client)
    client.start()
    try:
        await until(lambda: client.live)
        await client._ws.close()
        sim.burst(100)
        sim.burst_callbacks(2)
        await until(lambda: client.stats.connects == 2)
        await until(lambda: seen[Event.CALLBACK_REQUESTED] == 2)
        assert not set(seen) & p.BOARD_EVENTS
    finally:
        await client.stop()


async def test_the_console_narrows_its_feed_away_from_boards_and_widens_on_a_board(
    demo_store, sim, monkeypatch
):
    from contiple_tui.core import console as console_module

    from .apphelpers import make_app, until

    monkeypatch.setattr(console_module, "BOARD_EVENTS_KEPT_S", 0.3)
    client = CtiClient(f"ws://127.0.0.1:{sim.port}", backoff_initial=0.05)
    app = make_app(demo_store, "admin", lang="en", cti=client)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: client.live)
        assert client.narrow  # Home shows no board: the first hello asked for no board events
        app.show_menu("wallboard_services")
        await until(pilot, lambda: client.boards_live)
        assert client.boards_live and not client.narrow
        await exact(client, sim)
        app.show_menu("home")
        app._feed_tick()
        assert not client.narrow  # kept a while: back and forth costs nothing
        await pilot.pause(0.4)  # the product's hold before narrowing passes
        app._feed_tick()
        assert client.narrow
    await client.stop()
