"""The CTI simulator: the simulated world on a fake clock, and the websocket server over a real socket.

Every frame the simulator produces goes through the client's strict decoder (protocol.decode_server).
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from contiple_tui.core import directory as core_directory
from contiple_tui.cti import protocol
from contiple_tui.cti.protocol import AgentState, Command, Event
from contiple_tui.sim import simulator
from contiple_tui.sim.engine import SimAgent, SimDirectory, SimEngine, SimService, load_directory
from contiple_tui.sim.simulator import SimClock, Simulator, serve_from_store

from .conftest import FIXED_NOW

START = FIXED_NOW.timestamp()  # 2026-11-25 10:30 in Seoul
HOUR = 3600.0


def utc(*parts: int) -> float:
    return datetime(*parts, tzinfo=UTC).timestamp()


def decoded(frames: list[dict[str, Any]]) -> list[protocol.ServerMessage]:
    """Every frame, through the real client decoder (raises on anything malformed)."""
    out = []
    for frame in frames:
        message = protocol.decode_server(protocol.encode(frame))
        assert message is not None, frame
        out.append(message)
    return out


def run(engine: SimEngine, command: str, **args: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    reply, events = engine.execute({"type": "command", "id": "t-1", "command": command, **args})
    assert reply is not None
    decoded([reply, *events])
    return reply, events


def states(engine: SimEngine) -> dict[str, str]:
    return {a["agent_id"]: a["state"] for a in engine.snapshot()["agents"]}


class Mirror:
    """A client's view: the first snapshot plus every event; checks each event against that view."""

    def __init__(self, snapshot: dict[str, Any]) -> None:
        self.seq = snapshot["seq"]
        self.services = {s["service"]: s for s in json.loads(json.dumps(snapshot["services"]))}
        self.agents = {a["agent_id"]: a["state"] for a in snapshot["agents"]}
        self.ringing: dict[str, str] = {}  # call -> agent
        self.talking: dict[str, str] = {}
        self.callback_ids: set[str] = set()

    def apply(self, events: list[dict[str, Any]]) -> None:
        decoded(events)
        for i, e in enumerate(events):
            assert e["seq"] == self.seq + 1
            self.seq = e["seq"]
            following = events[i + 1] if i + 1 < len(events) else None
            svc = self.services.get(e.get("service"))
            kind = e["event"]
            if kind == Event.CALL_QUEUED:
                svc["waiting"].append({"call_id": e["call_id"], "enqueued_at": e["enqueued_at"]})
                svc["counters"]["inbound"] += 1
            elif kind == Event.CALL_RINGING:
                self.ringing[e["call_id"]] = e["agent_id"]
                self._expect_state(following, e["agent_id"], AgentState.RINGING)
            elif kind in (Event.CALL_ANSWERED, Event.CALL_ABANDONED):
                waiting = [w for w in svc["waiting"] if w["call_id"] != e["call_id"]]
                assert len(waiting) == len(svc["waiting"]) - 1
                svc["waiting"] = waiting
                self.ringing.pop(e["call_id"], None)
                if kind == Event.CALL_ANSWERED:
                    svc["counters"]["answered"] += 1
                    svc["counters"]["answered_within_sl"] += e["wait_s"] <= svc["sl_threshold_s"]
                    self.talking[e["call_id"]] = e["agent_id"]
                    self._expect_state(following, e["agent_id"], AgentState.TALKING)
                else:
                    svc["counters"]["abandoned"] += 1
                    if e["reason"] == "callback":
                        assert following["event"] == Event.CALLBACK_REQUESTED
                        assert following["service"] == e["service"]
            elif kind == Event.CALL_ENDED:
                assert self.talking.pop(e["call_id"]) == e["agent_id"]
                self._expect_state(following, e["agent_id"], AgentState.ACW)
            elif kind == Event.AGENT_STATE:
                assert self.agents[e["agent_id"]] == e["previous"] != e["state"]
                self.agents[e["agent_id"]] = e["state"]
            elif kind == Event.CALLBACK_REQUESTED:
                assert re.fullmatch(r"010\d{8}", e["phone"])
                assert e["name"] is None or re.fullmatch(r"[가-힣]{2,4}", e["name"])
                assert e["request_id"] not in self.callback_ids
                self.callback_ids.add(e["request_id"])
            elif kind == Event.DAILY_RESET:
                svc["day"] = e["day"]
                # Resolution documented in the simulator: callers still waiting count for the new day.
                svc["counters"] = {
                    "inbound": len(svc["waiting"]),
                    "answered": 0,
                    "abandoned": 0,
                    "answered_within_sl": 0,
                }

    @staticmethod
    def _expect_state(following: dict[str, Any] | None, agent_id: str, state: AgentState) -> None:
        assert following is not None and following["event"] == Event.AGENT_STATE
        assert following["agent_id"] == agent_id and following["state"] == state

    def check(self, engine: SimEngine) -> None:
        snap = engine.snapshot()
        decoded([snap])
        assert snap["seq"] == self.seq
        for s in snap["services"]:
            mine = self.services[s["service"]]
            assert (s["waiting"], s["counters"], s["day"]) == (mine["waiting"], mine["counters"], mine["day"])
            c = s["counters"]
            assert c["answered"] + c["abandoned"] + len(s["waiting"]) == c["inbound"]
            assert c["answered_within_sl"] <= c["answered"]
        assert {a["agent_id"]: a["state"] for a in snap["agents"]} == self.agents
        assert sorted(a for a, st in self.agents.items() if st == AgentState.RINGING) == sorted(
            self.ringing.values()
        )
        assert sorted(a for a, st in self.agents.items() if st == AgentState.TALKING) == sorted(
            self.talking.values()
        )


@pytest.fixture
def world(demo_store) -> SimDirectory:
    return load_directory(demo_store)


def quiet_directory(agents: int = 2) -> SimDirectory:
    """Agents without inbound services: only commands (and the odd break) move them."""
    return SimDirectory(
        services=(), agents=tuple(SimAgent(f"{2001 + i}", f"상담원{i}", ()) for i in range(agents))
    )


# -- the directory -----------------------------------------------------------------------------------


def test_directory_from_the_demo_store(world):
    assert [(s.code, s.timezone, s.sl_threshold_s) for s in world.services] == [
        ("cs", "Asia/Seoul", 20),
        ("sales", "Asia/Seoul", 30),
        ("care", "Asia/Seoul", 20),
    ]
    assert world.services[0].ivr_routes == ("1", "2", "3", "9")
    assert [a.agent_id for a in world.agents] == [str(n) for n in range(1001, 1011)]
    assert world.agents[0].services == ("cs", "sales")


def test_directory_skips_disabled_users_services_without_cti_and_unusable_ids(demo_store):
    core_directory.add_service(demo_store, code="hr", name="인사팀", cti_enabled=False)
    core_directory.add_user(
        demo_store,
        login="mixed",
        name="최민서",
        role="agent",
        perms="phone",
        services=["hr", "cs"],
        cti_agent_id="2001",
    )
    core_directory.add_user(
        demo_store,
        login="spaced",
        name="정우진",
        role="agent",
        perms="phone",
        services=["cs"],
        cti_agent_id="20 02",
    )
    core_directory.set_user_disabled(demo_store, "agent02")
    world = load_directory(demo_store)
    assert "hr" not in [s.code for s in world.services]
    agents = {a.agent_id: a for a in world.agents}
    assert agents["2001"].services == ("cs",)
    assert "20 02" not in agents and "1002" not in agents


# -- the simulated world -------------------------------------------------------------------------------


def test_a_simulated_day_stays_consistent_and_memory_bounded(world):
    """26 hours, hour by hour, through Seoul midnight: every event agrees with a client's view."""
    engine = SimEngine(world, start=START, seed=11, run_id="test")
    mirror = Mirror(engine.snapshot())
    kinds: Counter[str] = Counter()
    footprints = []
    for hour in range(1, 27):
        events = engine.advance(START + hour * HOUR)
        kinds.update(e["event"] for e in events)
        mirror.apply(events)
        mirror.check(engine)
        footprints.append(engine.footprint["timers"])
    assert kinds[Event.DAILY_RESET] == 3  # one per service
    for kind in (Event.CALL_ANSWERED, Event.CALL_ABANDONED, Event.CALLBACK_REQUESTED, Event.CALL_ENDED):
        assert kinds[kind] > 0
    # Only live calls and agents are remembered: the pending work does not grow with time.
    assert max(footprints) < 60


def test_rates_look_like_a_contact_center(world):
    engine = SimEngine(world, start=START, seed=5)
    engine.advance(START + 8 * HOUR)
    for code, c in engine.stats()["services"].items():
        assert 200 <= c["inbound"] <= 450, code  # ~40 an hour for ~3.5 agents
        assert 0.6 <= c["answered"] / c["inbound"] <= 0.98, code
    louder = SimEngine(world, start=START, seed=5, arrival_scale=3)
    louder.advance(START + 8 * HOUR)
    assert louder.stats()["services"]["cs"]["inbound"] > 2 * engine.stats()["services"]["cs"]["inbound"]


def test_same_seed_same_world(world):
    one = SimEngine(world, start=START, seed=3, run_id="x")
    two = SimEngine(world, start=START, seed=3, run_id="x")
    # How time is chunked does not matter, only the moments at which commands happen.
    assert one.advance(START + HOUR) == [e for h in range(1, 13) for e in two.advance(START + h * 300)]
    assert one.snapshot() == two.snapshot()


def test_start_of_shift(world):
    engine = SimEngine(world, start=START, seed=1)
    snap = engine.snapshot()
    decoded([snap])
    counts = Counter(a["state"] for a in snap["agents"])
    assert counts == {"ready": 8, "break": 1, "logged_out": 1}
    assert all(a["since"] <= snap["server_time"] for a in snap["agents"])
    assert snap["seq"] == 0 and all(s["counters"]["inbound"] == 0 for s in snap["services"])


def test_midnight_in_seoul_resets_counters_but_keeps_waiting_callers():
    seoul = SimService("cs", "고객센터", "Asia/Seoul", 20, ("1",))
    # No agents and many callers: some are still waiting at midnight.
    engine = SimEngine(SimDirectory((seoul,), ()), start=utc(2026, 11, 25, 14, 50), seed=2, arrival_scale=100)
    mirror = Mirror(engine.snapshot())
    mirror.apply(engine.advance(utc(2026, 11, 25, 14, 59, 59)))
    waiting = len(engine.snapshot()["services"][0]["waiting"])
    assert waiting > 0 and engine.stats()["services"]["cs"]["abandoned"] > 0
    events = engine.advance(utc(2026, 11, 25, 15, 0, 0))
    mirror.apply(events)
    assert [e for e in events if e["event"] == Event.DAILY_RESET] == [
        {
            "type": "event",
            "seq": engine.seq,
            "ts": "2026-11-25T15:00:00.000Z",
            "event": "daily_reset",
            "service": "cs",
            "day": "2026-11-26",
        }
    ]
    cs = engine.snapshot()["services"][0]
    assert cs["day"] == "2026-11-26" and len(cs["waiting"]) == waiting
    assert cs["counters"] == {"inbound": waiting, "answered": 0, "abandoned": 0, "answered_within_sl": 0}
    mirror.apply(engine.advance(utc(2026, 11, 25, 15, 5)))  # yesterday's callers now give up
    mirror.check(engine)


def test_each_service_resets_at_its_own_midnight():
    services = (SimService("cs", "고객센터", "Asia/Seoul"), SimService("de", "Kundendienst", "Europe/Berlin"))
    engine = SimEngine(SimDirectory(services, ()), start=utc(2026, 11, 25, 12, 0), arrival_scale=0)
    resets = [(e["ts"], e["service"], e["day"]) for e in engine.advance(utc(2026, 11, 27, 0, 0))]
    assert resets == [
        ("2026-11-25T15:00:00.000Z", "cs", "2026-11-26"),
        ("2026-11-25T23:00:00.000Z", "de", "2026-11-26"),
        ("2026-11-26T15:00:00.000Z", "cs", "2026-11-27"),
        ("2026-11-26T23:00:00.000Z", "de", "2026-11-27"),
    ]


def test_burst_makes_valid_events_fast(world):
    engine = SimEngine(world, start=START, seed=1)
    mirror = Mirror(engine.snapshot())
    events = engine.burst(1001)
    assert Counter(e["event"] for e in events[:1001]) == {"call_queued": 501, "call_abandoned": 500}
    # With an odd count the last caller stays; a ready agent picks it up at once.
    assert [e["event"] for e in events[1001:]] == ["call_ringing", "agent_state"]
    mirror.apply(events)
    mirror.check(engine)
    assert sum(c["waiting"] for c in engine.stats()["services"].values()) == 1


# -- commands ------------------------------------------------------------------------------------------


def test_dial_connects_or_fails_and_the_agent_follows():
    engine = SimEngine(quiet_directory(1), start=START, seed=4)
    outcomes = Counter()
    for _ in range(40):
        run(engine, "login", agent_id="2001")
        run(engine, "set_state", agent_id="2001", state="ready")
        reply, events = run(
            engine, "dial", agent_id="2001", number="01012345678", service="cs", ref="callback:1"
        )
        call_id = reply["data"]["call_id"]
        assert reply["ok"] is True
        assert [(e["event"], e.get("state")) for e in events] == [
            ("outbound_dialing", None),
            ("agent_state", "dialing"),
        ]
        assert events[0]["command_id"] == "t-1" and events[0]["number"] == "01012345678"
        assert events[0]["call_id"] == call_id and events[0]["service"] == "cs"
        assert engine.next_due() - engine.now <= 10
        result = engine.advance(engine.now + 10)
        decoded(result)
        if result[0]["event"] == Event.OUTBOUND_FAILED:
            assert result[0]["reason"] in ("no_answer", "busy")
            assert (result[1]["previous"], result[1]["state"]) == ("dialing", "ready")
            outcomes["failed"] += 1
            continue
        assert result[0]["event"] == Event.OUTBOUND_CONNECTED and result[0]["call_id"] == call_id
        assert (result[1]["previous"], result[1]["state"]) == ("dialing", "outbound")
        assert run(engine, "dial", agent_id="2001", number="01012345678")[0]["reason"] == "agent_busy"
        assert run(engine, "logout", agent_id="2001")[0]["reason"] == "agent_busy"
        ended = engine.advance(engine.now + 240)
        assert [(e["event"], e.get("state")) for e in ended[:2]] == [
            ("outbound_ended", None),
            ("agent_state", "acw"),
        ]
        outcomes["connected"] += 1
    assert outcomes["connected"] > outcomes["failed"] > 0


def test_dial_refusals():
    engine = SimEngine(quiet_directory(2), start=START, seed=1)

    def reason(**args: Any) -> str | None:
        return run(engine, "dial", **args)[0].get("reason")

    assert reason(agent_id="9999", number="01012345678") == "unknown_agent"
    assert reason(number="01012345678") == "bad_request"
    assert reason(agent_id="2001", number=1012345678) == "bad_request"
    assert reason(agent_id="2001", number="01012345678", service="고객 센터") == "bad_request"  # not an id
    for bad in ("12345678", "01234567890123", "010-1234-5678", "０１０１２３４５６７８", ""):
        assert reason(agent_id="2001", number=bad) == "invalid_number", bad
    run(engine, "logout", agent_id="2002")
    assert reason(agent_id="2002", number="01012345678") == "agent_logged_out"
    run(engine, "set_state", agent_id="2001", state="break")
    assert reason(agent_id="2001", number="01012345678") == "agent_busy"
    run(engine, "set_state", agent_id="2001", state="acw")
    assert run(engine, "dial", agent_id="2001", number="021234567")[0]["ok"] is True  # from acw: fine
    assert reason(agent_id="2001", number="01012345678") == "agent_busy"  # already dialling


def test_state_login_and_logout_commands():
    engine = SimEngine(quiet_directory(1), start=START, seed=1)
    assert states(engine) == {"2001": "ready"}
    reply, events = run(engine, "set_state", agent_id="2001", state="break")
    assert reply == {"type": "reply", "id": "t-1", "ok": True, "data": {}}
    assert [(e["previous"], e["state"]) for e in events] == [("ready", "break")]
    assert run(engine, "set_state", agent_id="2001", state="break")[1] == []  # no change, no event
    assert run(engine, "set_state", agent_id="2001", state="talking")[0]["reason"] == "invalid_state"
    assert run(engine, "set_state", agent_id="2001", state="offline")[0]["reason"] == "invalid_state"
    assert run(engine, "set_state", agent_id="2001")[0]["reason"] == "bad_request"
    assert run(engine, "set_state", agent_id="nobody", state="ready")[0]["reason"] == "unknown_agent"
    # A state a person sets sticks: hours later the agent is still on the break.
    engine.advance(START + 5 * HOUR)
    assert states(engine) == {"2001": "break"}
    reply, events = run(engine, "logout", agent_id="2001")
    assert reply["ok"] and [(e["previous"], e["state"]) for e in events] == [("break", "logged_out")]
    assert run(engine, "logout", agent_id="2001") == (reply, [])  # already out: harmless
    assert run(engine, "set_state", agent_id="2001", state="ready")[0]["reason"] == "agent_logged_out"
    reply, events = run(engine, "login", agent_id="2001")
    assert [(e["previous"], e["state"]) for e in events] == [("logged_out", "ready")]
    assert run(engine, "login", agent_id="2001")[1] == []


def test_agent_on_an_inbound_call_is_busy(world):
    engine = SimEngine(world, start=START, seed=8)
    for _ in range(500):
        engine.advance(engine.now + 5)
        ringing = [a for a, s in states(engine).items() if s == "ringing"]
        if ringing:
            break
    agent = ringing[0]
    assert run(engine, "set_state", agent_id=agent, state="break")[0]["reason"] == "agent_busy"
    assert run(engine, "logout", agent_id=agent)[0]["reason"] == "agent_busy"
    assert run(engine, "dial", agent_id=agent, number="01012345678")[0]["reason"] == "agent_busy"


def test_stats_unknown_and_malformed_commands(world):
    engine = SimEngine(world, start=START, seed=1)
    engine.advance(START + HOUR)
    reply, _ = run(engine, "stats")
    assert reply["data"] == engine.stats() and reply["data"]["seq"] == engine.seq
    assert set(reply["data"]["services"]["cs"]) == {
        "inbound",
        "answered",
        "abandoned",
        "answered_within_sl",
        "waiting",
    }
    assert run(engine, "transfer", agent_id="1001")[0]["reason"] == "unknown_command"
    assert engine.execute({"type": "command", "id": "x", "command": 7})[0]["reason"] == "bad_request"
    for no_id in (
        {"type": "command", "command": "stats"},
        {"type": "command", "id": 5, "command": "stats"},
        {"type": "command", "id": "", "command": "stats"},
    ):
        assert engine.execute(no_id) == (None, [])


# -- the clock --------------------------------------------------------------------------------------------


def test_clock_runs_at_speed_and_pauses():
    real = [100.0]
    clock = SimClock(1_000.0, speed=60, real=lambda: real[0])
    real[0] += 2
    assert clock.now() == 1_120.0
    clock.pause()
    real[0] += 50
    assert clock.now() == 1_120.0
    clock.resume()
    real[0] += 1
    assert clock.now() == 1_180.0


# -- the websocket server --------------------------------------------------------------------------------


class Feed:
    """A test client: every frame through the strict decoder."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    @classmethod
    async def open(
        cls, port: int, token: str | None = None, epoch: str | None = None, last_seq: int | None = None
    ) -> Feed:
        ws = await connect(f"ws://127.0.0.1:{port}")
        await ws.send(protocol.hello(token, {"name": "test"}, epoch, last_seq))
        return cls(ws)

    async def next(self, timeout: float = 2.0) -> protocol.ServerMessage:
        async with asyncio.timeout(timeout):
            message = protocol.decode_server(await self.ws.recv())
        assert message is not None
        return message

    async def until(self, kind: type, timeout: float = 2.0) -> Any:
        async with asyncio.timeout(timeout):
            while not isinstance(message := await self.next(), kind):
                pass
        return message

    async def start(self) -> tuple[protocol.Welcome, protocol.Snapshot]:
        welcome, snapshot = await self.next(), await self.next()
        assert isinstance(welcome, protocol.Welcome) and isinstance(snapshot, protocol.Snapshot)
        return welcome, snapshot

    async def command(self, command_id: str, name: Command, **args: Any) -> protocol.Reply:
        await self.ws.send(protocol.command(command_id, name, **args))
        reply = await self.until(protocol.Reply)
        assert reply.id == command_id
        return reply

    async def close(self) -> None:
        await self.ws.close()


@pytest.fixture
async def sim(world):
    simulation = Simulator(world, seed=1, speed=600, heartbeat_s=0.2)
    simulation.port = await simulation.start()
    yield simulation
    await simulation.stop()


async def test_welcome_snapshot_then_events_in_strict_order(sim):
    feed = await Feed.open(sim.port)
    welcome, snapshot = await feed.start()
    assert (welcome.protocol, welcome.resume, welcome.time_scale, welcome.heartbeat_s) == (1, False, 600, 0.2)
    assert re.fullmatch(r"sim-[0-9a-f]{8}", welcome.epoch) and welcome.epoch == sim.epoch
    assert [s.service for s in snapshot.services] == ["cs", "sales", "care"]
    assert len(snapshot.agents) == 10
    seq = snapshot.seq
    kinds = set()
    while len(kinds) < 4:  # at 600x a few simulated minutes bring calls, rings, answers
        message = await feed.next()
        if isinstance(message, protocol.EventMessage):
            assert message.seq == seq + 1
            seq = message.seq
            kinds.add(message.event)
    await feed.close()


async def test_heartbeat_when_quiet(sim):
    feed = await Feed.open(sim.port)
    await feed.start()
    sim.pause()
    beat = await feed.until(protocol.Heartbeat)
    assert beat.seq == sim.engine.seq
    await feed.close()


async def test_wrong_token_is_refused(world):
    sim = Simulator(world, seed=1, token="s3cret", heartbeat_s=0.2)
    port = await sim.start()
    try:
        for token in ("wrong", None):
            feed = await Feed.open(port, token=token)
            assert await feed.next() == protocol.ServerError("unauthorized")
            with pytest.raises(ConnectionClosed):
                await feed.next()
        feed = await Feed.open(port, token="s3cret")
        await feed.start()
        await feed.close()
    finally:
        await sim.stop()


async def test_unsupported_protocol_and_silent_clients_are_closed(sim, monkeypatch):
    ws = await connect(f"ws://127.0.0.1:{sim.port}")
    await ws.send(json.dumps({"type": "hello", "protocol": 2}))
    assert protocol.decode_server(await ws.recv()) == protocol.ServerError("unsupported_protocol")
    monkeypatch.setattr(simulator, "HELLO_TIMEOUT_S", 0.2)
    silent = await connect(f"ws://127.0.0.1:{sim.port}")
    with pytest.raises(ConnectionClosed):
        async with asyncio.timeout(2):
            await silent.recv()


async def test_resume_replays_only_missed_events(sim):
    feed = await Feed.open(sim.port)
    welcome, snapshot = await feed.start()
    sim.pause()
    last = snapshot.seq
    while last < sim.engine.seq:
        message = await feed.next()
        if isinstance(message, protocol.EventMessage):
            last = message.seq
    await feed.close()
    missed = sim.burst(30)
    feed = await Feed.open(sim.port, epoch=welcome.epoch, last_seq=last)
    again = await feed.next()
    assert isinstance(again, protocol.Welcome) and again.resume is True
    replayed = [await feed.next() for _ in range(missed - last)]
    assert [m.seq for m in replayed] == list(range(last + 1, missed + 1))
    sim.resume()
    following = await feed.until(protocol.EventMessage)
    assert following.seq == missed + 1
    await feed.close()


async def test_other_epoch_or_seq_out_of_reach_gets_a_snapshot(world):
    sim = Simulator(world, seed=1, speed=60, heartbeat_s=0.2, backlog=10)
    port = await sim.start()
    try:
        sim.pause()
        sim.burst(40)
        for epoch, last_seq in (
            ("sim-00000000", sim.engine.seq),
            (sim.epoch, 1),
            (sim.epoch, sim.engine.seq + 5),
            (sim.epoch, None),
        ):
            feed = await Feed.open(port, epoch=epoch, last_seq=last_seq)
            welcome, snapshot = await feed.start()
            assert welcome.resume is False and snapshot.seq == sim.engine.seq
            await feed.close()
        feed = await Feed.open(port, epoch=sim.epoch, last_seq=sim.engine.seq - 10)  # still in the backlog
        assert (await feed.next()).resume is True
        assert (await feed.next()).seq == sim.engine.seq - 9
        await feed.close()
    finally:
        await sim.stop()


async def test_resync_and_stats(sim):
    feed = await Feed.open(sim.port)
    await feed.start()
    sim.pause()
    await feed.ws.send(protocol.resync())
    snapshot = await feed.until(protocol.Snapshot)
    assert snapshot.seq == sim.engine.seq
    reply = await feed.command("c-1", Command.STATS)
    assert reply.ok and reply.data == sim.stats()
    await feed.close()


async def test_dial_reply_comes_before_its_events(sim):
    feed = await Feed.open(sim.port)
    await feed.start()
    sim.pause()
    await feed.command("c-1", Command.LOGIN, agent_id="1002")
    await feed.command("c-2", Command.SET_STATE, agent_id="1002", state="acw")
    reply = await feed.command("c-3", Command.DIAL, agent_id="1002", number="01055556666", ref="callback:1")
    assert reply.ok and reply.data["call_id"].startswith("o-")
    dialing = await feed.until(protocol.EventMessage)
    assert dialing.event == Event.OUTBOUND_DIALING and dialing.data["command_id"] == "c-3"
    state = await feed.next()
    assert state.event == Event.AGENT_STATE and state.data["state"] == AgentState.DIALING
    refused = await feed.command("c-4", Command.DIAL, agent_id="nobody", number="01055556666")
    assert (refused.ok, refused.reason) == (False, "unknown_agent")
    await feed.close()


async def test_malformed_frames_are_counted_and_ignored(sim):
    feed = await Feed.open(sim.port)
    await feed.start()
    for junk in (
        "not json",
        "[1, 2]",
        '{"type": 5}',
        '{"no": "type"}',
        b"\x00\x01",
        '{"type": "command", "command": "stats"}',
    ):
        await feed.ws.send(junk)
    await feed.ws.send('{"type": "from-the-future"}')  # unknown types are ignored, not malformed
    await feed.ws.send('{"type": "command", "id": "c-9", "command": ["dial"]}')
    reply = await feed.until(protocol.Reply)
    assert (reply.id, reply.ok, reply.reason) == ("c-9", False, "bad_request")
    assert sim.malformed_frames == 6
    assert (await feed.command("c-10", Command.STATS)).ok
    other = await Feed.open(sim.port)
    await other.start()
    await other.close()
    await feed.close()


async def test_a_client_that_stops_reading_is_dropped_and_others_carry_on(world):
    sim = Simulator(world, seed=1, speed=60, heartbeat_s=0.2, max_client_queue=50)
    port = await sim.start()
    try:
        raw = socket.socket()
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        raw.connect(("127.0.0.1", port))
        raw.setblocking(False)
        slow = Feed(await connect(f"ws://127.0.0.1:{port}", sock=raw, max_queue=1))
        await slow.ws.send(protocol.hello(None, {}, None, None))
        fine = await Feed.open(port)
        welcome, _ = await fine.start()
        while sim.client_count < 2:
            await asyncio.sleep(0.01)
        # Small kernel send buffers, so not reading shows after a few hundred frames rather than megabytes.
        for client in sim._clients:
            client.ws.transport.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        sim.pause()
        for _ in range(500):
            last = sim.burst(20)
            while (await fine.until(protocol.EventMessage)).seq < last:
                pass
            if sim.dropped_clients:
                break
        assert (sim.dropped_clients, sim.client_count) == (1, 1)
        with pytest.raises(ConnectionClosed):
            while True:
                await slow.next()
        assert slow.ws.close_code == 1013  # try again later
        # It comes back and the backlog holds what it missed.
        back = await Feed.open(port, epoch=welcome.epoch, last_seq=last - 5)
        assert (await back.next()).resume is True
        assert [(await back.next()).seq for _ in range(5)] == list(range(last - 4, last + 1))
        await back.close()
        await fine.close()
    finally:
        await sim.stop()


async def test_stats_file_is_written_and_kept_current(world, tmp_path):
    path = tmp_path / "stats.json"
    sim = Simulator(world, seed=1, speed=600, stats_file=path)
    await sim.start()
    await asyncio.sleep(0.1)
    assert json.loads(path.read_text("utf-8"))["epoch"] == sim.epoch
    sim.burst(10)
    await sim.stop()
    written = json.loads(path.read_text("utf-8"))
    assert {k: written[k] for k in ("seq", "services")} == sim.engine.stats()
    assert not list(tmp_path.glob("*.tmp"))


async def test_serve_from_store_runs_until_cancelled(demo_dir, tmp_path):
    ports: asyncio.Queue[int] = asyncio.Queue()
    task = asyncio.create_task(
        serve_from_store(
            demo_dir / "contiple.sqlite3",
            "127.0.0.1",
            0,
            on_listening=ports.put_nowait,
            seed=3,
            speed=60,
            heartbeat_s=0.2,
            stats_file=tmp_path / "stats.json",
        )
    )
    port = await asyncio.wait_for(ports.get(), 5)
    feed = await Feed.open(port)
    _, snapshot = await feed.start()
    assert [a.agent_id for a in snapshot.agents][:2] == ["1001", "1002"]
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    with pytest.raises(ConnectionClosed):
        while True:
            await feed.next()
    assert (tmp_path / "stats.json").exists()


def test_warmup_runs_the_world_up_to_now(demo_store):
    """A warmed-up simulator starts with today's traffic already counted, nobody having been sent it."""
    from contiple_tui.sim.engine import load_directory as _load
    from contiple_tui.sim.simulator import Simulator as _Sim

    cold = _Sim(_load(demo_store), seed=3)
    warm = _Sim(_load(demo_store), seed=3, warmup_s=3 * 3600, arrival_scale=2)
    assert sum(s["inbound"] for s in cold.stats()["services"].values()) == 0
    counters = warm.stats()["services"]
    assert sum(s["inbound"] for s in counters.values()) > 20
    for s in counters.values():
        assert s["answered"] + s["abandoned"] + s["waiting"] == s["inbound"]


def test_the_demo_gets_a_callback_request_soon_after_it_starts(world):
    """The demo's simulator asks for a first callback 12 s after its start (a caller choosing "call me
    back" in the voice menu), instead of after a caller's 30 s in the queue and the odds of the offer."""
    start = FIXED_NOW.timestamp()
    sim = Simulator(world, seed=3, arrival_scale=0.0, start_time=FIXED_NOW, first_callback_s=12.0)
    assert not [e for e in sim.engine.advance(start + 11.9) if e["event"] == "callback_requested"]
    requested = [e for e in sim.engine.advance(start + 12.1) if e["event"] == "callback_requested"]
    assert len(requested) == 1
    event = requested[0]
    assert event["service"] in {s.code for s in world.services if s.callbacks}
    assert re.fullmatch(r"010\d{8}", event["phone"])
    decoded([event])  # a valid event of the protocol
