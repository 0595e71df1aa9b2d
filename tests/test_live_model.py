"""The live model and the wallboard metric rules (answer rate, service level, "—", agent columns)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contiple_tui.core import wallboard as wb
from contiple_tui.cti.model import Applied, LiveModel
from contiple_tui.cti.protocol import ProtocolError, decode_server
from contiple_tui.domain.models import Thresholds

from .ctidata import dumps, event, snapshot

NOW = datetime(2026, 11, 25, 1, 30, 0, tzinfo=UTC)


def model_with(seq: int = 10) -> LiveModel:
    model = LiveModel()
    model.apply_snapshot(decode_server(dumps(snapshot(seq))))
    return model


def apply(model: LiveModel, message: dict) -> Applied:
    return model.apply_event(decode_server(dumps(message)))


def test_rates_and_dash():
    assert wb.rate(90, 100) == 90.0
    assert wb.rate(0, 0) is None
    assert wb.format_rate(None) == "—"
    assert wb.format_rate(72.0) == "72.0%"
    assert wb.format_duration(None) == "—" and wb.format_duration(65) == "01:05"
    assert wb.format_duration(3725) == "1:02:05"


def test_service_rows_follow_product_rules():
    model = model_with()
    rows = {r.service: r for r in wb.service_rows(model, ["cs", "sales"], {"cs": "고객센터"}, NOW)}
    cs = rows["cs"]
    assert (cs.waiting, cs.inbound, cs.answered, cs.abandoned) == (2, 100, 90, 8)
    assert cs.answer_rate == 90.0 and cs.service_level == 72.0
    assert cs.longest_wait_s == 60.0
    assert rows["sales"].answer_rate is None and rows["sales"].service_level is None  # no inbound: "—"
    total = wb.service_totals(list(rows.values()), model)
    assert total.inbound == 100 and total.service_level == 72.0 and total.sl_threshold_s is None


def test_agent_rows_group_states_as_the_seed_says():
    model = model_with()
    rows = {r.service: r for r in wb.agent_rows(model, ["cs", "sales"], {})}
    cs = rows["cs"]
    # cs: 1001 ready, 1002 talking, 1003 ringing, 1005 dialing, 1008 logged out
    assert (cs.login, cs.ready, cs.talking, cs.outbound, cs.break_acw) == (4, 1, 2, 1, 0)
    sales = rows["sales"]
    assert (sales.login, sales.ready, sales.talking, sales.outbound, sales.break_acw) == (3, 1, 0, 0, 2)
    total = wb.agent_totals(list(rows.values()), model)
    assert total.login == 6  # 1001 is in both services but counted once


def test_events_update_counters():
    model = model_with(10)
    assert (
        apply(
            model,
            event(11, "call_queued", service="cs", call_id="n1", enqueued_at="2026-11-25T01:30:00.000Z"),
        )
        is Applied.APPLIED
    )
    assert (
        apply(model, event(12, "call_answered", service="cs", call_id="n1", agent_id="1001", wait_s=20))
        is Applied.APPLIED
    )
    assert (
        apply(model, event(13, "call_answered", service="cs", call_id="w0", agent_id="1002", wait_s=21))
        is Applied.APPLIED
    )
    assert (
        apply(model, event(14, "call_abandoned", service="cs", call_id="w1", wait_s=40, reason="callback"))
        is Applied.APPLIED
    )
    assert model.counters()["cs"] == {
        "inbound": 101,
        "answered": 92,
        "abandoned": 9,
        "answered_within_sl": 73,
        "waiting": 0,
    }
    apply(
        model,
        event(
            15,
            "agent_state",
            agent_id="1001",
            previous="ready",
            state="break",
            since="2026-11-25T01:31:00.000Z",
        ),
    )
    assert model.agents["1001"].state == "break"
    apply(model, event(16, "daily_reset", service="cs", day="2026-11-26"))
    assert model.counters()["cs"]["inbound"] == 0 and model.services["cs"].day == "2026-11-26"


def test_duplicates_are_applied_once_and_gaps_detected():
    model = model_with(10)
    queued = event(11, "call_queued", service="cs", call_id="n1", enqueued_at="2026-11-25T01:30:00.000Z")
    assert apply(model, queued) is Applied.APPLIED
    assert apply(model, queued) is Applied.DUPLICATE
    assert model.counters()["cs"]["inbound"] == 101
    assert apply(model, event(13, "call_ended", service="cs", call_id="n1", agent_id="1001")) is Applied.GAP
    assert model.seq == 11


def test_events_for_unknown_services_change_nothing():
    model = model_with(10)
    before = model.counters()
    apply(
        model,
        event(11, "call_queued", service="elsewhere", call_id="x", enqueued_at="2026-11-25T01:30:00.000Z"),
    )
    assert model.counters() == before and model.seq == 11


@pytest.mark.parametrize(
    "frame",
    [
        "{not json",
        "[]",
        '{"type": 3}',
        dumps(event(11, "call_queued", service="cs", call_id="x")),
        dumps(event(11, "call_answered", service="cs", call_id="x", agent_id="1", wait_s=-5)),
        dumps(event(11, "call_answered", service="cs", call_id="x", agent_id="1", wait_s=10**12)),
        dumps(event(11, "call_answered", service="cs", call_id="x", agent_id="1", wait_s=True)),
        dumps(
            event(
                11,
                "agent_state",
                agent_id="1",
                previous="ready",
                state="dancing",
                since="2026-11-25T01:30:00.000Z",
            )
        ),
        dumps(
            event(11, "call_queued", service="cs\x1b[2J", call_id="x", enqueued_at="2026-11-25T01:30:00.000Z")
        ),
        dumps({**snapshot(), "seq": "ten"}),
    ],
)
def test_malformed_frames_are_refused(frame):
    with pytest.raises(ProtocolError):
        decode_server(frame)


def test_unknown_types_are_ignored():
    assert decode_server('{"type": "weather", "sunny": true}') is None
    assert decode_server(dumps(event(11, "coffee_break", agent_id="1"))) is None


def test_names_lose_control_characters_but_keep_text():
    snap = decode_server(dumps(snapshot(name_cs="[red]고객\x1b]0;pwned\x07센터")))
    assert snap.services[0].name == "[red]고객]0;pwned센터"  # shown as plain text, never markup


def test_thresholds():
    limits = Thresholds()
    assert wb.service_level_alert(limits, None) is wb.Level.OK
    assert wb.service_level_alert(limits, 79.9) is wb.Level.WARN
    assert wb.service_level_alert(limits, 59.9) is wb.Level.CRIT
    assert wb.waiting_alert(limits, 5) is wb.Level.WARN and wb.waiting_alert(limits, 10) is wb.Level.CRIT
    assert (
        wb.longest_wait_alert(limits, 119) is wb.Level.WARN
        and wb.longest_wait_alert(limits, 120) is wb.Level.CRIT
    )


@given(st.lists(st.tuples(st.sampled_from(["q", "a", "x"]), st.integers(0, 60)), max_size=200))
def test_counters_stay_consistent(steps):
    """Whatever order calls arrive and end in, answered + abandoned + waiting == inbound."""
    model = LiveModel()
    base = snapshot(0, waiting_cs=0)
    base["services"][0]["counters"] = {"inbound": 0, "answered": 0, "abandoned": 0, "answered_within_sl": 0}
    model.apply_snapshot(decode_server(dumps(base)))
    open_calls: list[str] = []
    seq = 0
    for i, (kind, wait) in enumerate(steps):
        seq += 1
        if kind == "q" or not open_calls:
            call = f"c{i}"
            open_calls.append(call)
            apply(
                model,
                event(seq, "call_queued", service="cs", call_id=call, enqueued_at="2026-11-25T01:30:00.000Z"),
            )
        elif kind == "a":
            apply(
                model,
                event(
                    seq,
                    "call_answered",
                    service="cs",
                    call_id=open_calls.pop(0),
                    agent_id="1001",
                    wait_s=wait,
                ),
            )
        else:
            apply(model, event(seq, "call_abandoned", service="cs", call_id=open_calls.pop(0), wait_s=wait))
    c = model.counters()["cs"]
    assert c["answered"] + c["abandoned"] + c["waiting"] == c["inbound"]
    assert c["answered_within_sl"] <= c["answered"]
