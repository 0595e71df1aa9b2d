"""SimEngine.burst_callbacks: a burst of callback requests for intake benchmarks (bench/bench_consoles.py).

Every frame goes through the client's strict decoder and every request through the real intake."""

from __future__ import annotations

from collections import Counter

import pytest

from contiple_tui.core import callbacks as cb
from contiple_tui.core import directory as core_directory
from contiple_tui.core.callbacks import IntakeOutcome, normalize_phone
from contiple_tui.cti import protocol
from contiple_tui.cti.protocol import Event
from contiple_tui.sim.engine import SimDirectory, SimEngine, SimService, load_directory

from .conftest import FIXED_NOW

START = FIXED_NOW.timestamp()


def decoded(frames):
    return [protocol.decode_server(protocol.encode(frame)) for frame in frames]


def test_a_burst_is_valid_callback_requests_with_their_own_ids_and_numbers(demo_store):
    world = load_directory(demo_store)
    engine = SimEngine(world, start=START, seed=3, run_id="r1")
    first = engine.burst_callbacks(30)
    second = engine.burst_callbacks(30)
    events = first + second
    messages = decoded(events)
    assert [m.event for m in messages] == [Event.CALLBACK_REQUESTED] * 60
    assert [m.seq for m in messages] == list(range(1, 61))
    ids = [e["request_id"] for e in events]
    phones = [e["phone"] for e in events]
    assert len(set(ids)) == 60 and all(i.startswith("cb-r1-b") and protocol.valid_id(i) for i in ids)
    assert len(set(phones)) == 60
    assert all(normalize_phone(p) == (p, True) and p.startswith("0100") and len(p) == 11 for p in phones)
    # In turn over the services, also across calls.
    assert Counter(e["service"] for e in events) == {"cs": 20, "sales": 20, "care": 20}
    routes = {s.code: s.ivr_routes for s in world.services}
    assert all(e["ivr_route"] in routes[e["service"]] for e in events)
    assert all(m.data["requested_at"] == m.ts for m in messages)
    assert engine.stats()["services"]["cs"]["inbound"] == 0  # no calls: only the requests


def test_every_request_of_a_burst_becomes_a_new_callback(demo_store):
    engine = SimEngine(load_directory(demo_store), start=START, seed=5, run_id="r2")
    services = {s.code: s for s in demo_store.services.list()}
    outcomes = Counter()
    for message in decoded(engine.burst_callbacks(50)):
        data = message.data
        outcome, _ = cb.intake(
            demo_store,
            services[data["service"]],
            request_id=data["request_id"],
            phone=data["phone"],
            name=data.get("name"),
            ivr_route=data.get("ivr_route"),
            requested_at=data["requested_at"],
        )
        outcomes[outcome] += 1
    assert outcomes == {IntakeOutcome.CREATED: 50}


def test_services_without_callbacks_get_none(demo_store):
    core_directory.add_service(demo_store, code="nocb", name="콜백 없음", callback_enabled=False)
    world = load_directory(demo_store)
    assert [s.callbacks for s in world.services] == [True, True, True, False]
    events = SimEngine(world, start=START, seed=1).burst_callbacks(40)
    assert "nocb" not in {e["service"] for e in events} and len(events) == 40

    none = SimDirectory(services=(SimService("x", "X", callbacks=False),), agents=())
    with pytest.raises(ValueError):
        SimEngine(none, start=START, seed=1).burst_callbacks(1)
