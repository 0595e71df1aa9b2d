"""The console's work besides drawing, without Textual (core/console.py): intake and the feed position,
news as notices, what changed, the badge, SMS refresh and the remembered theme. Real store, real decoded
CTI frames, a real (unconnected) CTI client; only the monotonic clock is ours."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from contiple_tui.core import callbacks as cb
from contiple_tui.core.console import BOARD_EVENTS_KEPT_S, NEW_NOTICE_S, ConsoleService, Notice
from contiple_tui.core.feed_intake import POSITION_KEY
from contiple_tui.core.session import Session, resolve_user
from contiple_tui.cti import protocol
from contiple_tui.cti.client import CtiClient
from contiple_tui.i18n import set_language

from .conftest import scalar
from .ctidata import dumps, event

pytestmark = pytest.mark.both_engines  # SQLite and PostgreSQL: the same rules


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


_OPEN: list[ConsoleService] = []


@pytest.fixture(autouse=True)
def _closed_after_each_test():
    """Each console service closed after its test, as the app closes it: its change watcher is a
    connection of its own (PostgreSQL's listens on the server)."""
    yield
    while _OPEN:
        _OPEN.pop().close()


def _service(store, login: str, clock=None, cti=None) -> tuple[ConsoleService, list[Notice]]:
    set_language("en")
    notices: list[Notice] = []
    session = Session(store, resolve_user(store, login), "cs")
    console = ConsoleService(session, cti, on_notice=notices.append, monotonic=clock or _Clock())
    _OPEN.append(console)
    return console, notices


def _client() -> CtiClient:
    client = CtiClient("ws://127.0.0.1:9/", user="admin")  # never started: the feed is handed over below
    client.epoch = "test-1"
    client.model.seq = 10
    return client


def _frame(seq: int, request_id: str):
    frame = event(
        seq,
        "callback_requested",
        request_id=request_id,
        service="cs",
        phone=f"0119{seq:07d}",  # 011: no demo callback has such a number
        name="고객",
        ivr_route="1",
        requested_at="2026-11-25T01:29:00.000Z",
    )
    return protocol.decode_server(dumps(frame))


def _new_callback(store, request_id: str, phone: str) -> int:
    cs = store.services.get_by_code("cs")
    _, callback_id = cb.intake(
        store,
        cs,
        request_id=request_id,
        phone=phone,
        name=None,
        ivr_route="1",
        requested_at=datetime.now(UTC),
    )
    return callback_id


def test_the_lease_holder_takes_a_request_in_once_and_moves_the_position(demo_store):
    client = _client()
    console, _ = _service(demo_store, "admin", cti=client)
    console.feed_tick(console.feed_point())  # the first console takes the lease
    assert console.feed is not None and console.feed.holding
    message = _frame(11, "cb-svc-1")
    taken = console.received(client, message)
    assert taken is not None and taken[0] == ("test-1", 11)
    client.model.seq = 11
    console.take_in(*taken)
    console.take_in(*taken)  # a second delivery of the same request is the same callback
    count = scalar(demo_store, "SELECT count(*) FROM callback_requests WHERE request_id = 'cb-svc-1'")
    assert count == 1
    console.save_position()
    assert demo_store.get_meta(POSITION_KEY) == "test-1:11"
    console.close()


def test_a_console_without_the_lease_keeps_requests_and_writes_nothing(demo_store):
    holder_client, other_client = _client(), _client()
    holder, _ = _service(demo_store, "admin", cti=holder_client)
    other, _ = _service(demo_store, "agent01", cti=other_client)
    holder.feed_tick(holder.feed_point())
    other.feed_tick(other.feed_point())
    assert holder.feed.holding and not other.feed.holding
    assert other.received(other_client, _frame(11, "cb-svc-2")) is None  # kept for a takeover only
    assert other.feed.buffered == [("test-1", 11)]
    holder.close()
    other.close()


def test_frames_other_than_callback_requests_are_not_taken_in(demo_store):
    client = _client()
    console, _ = _service(demo_store, "admin", cti=client)
    console.feed_tick(console.feed_point())
    heartbeat = protocol.decode_server(
        dumps({"type": "heartbeat", "seq": 10, "server_time": "2026-11-25T01:30:00.000Z"})
    )
    assert console.received(client, heartbeat) is None
    console.close()


def _changes(console, seconds: float = 2.0):
    """The console's first report of changes, waited for: PostgreSQL's NOTIFY arrives a moment after the
    commit (SQLite's data_version at once)."""
    deadline = time.monotonic() + seconds
    while (changes := console.changes()) is None and time.monotonic() < deadline:
        time.sleep(0.01)
    return changes


def test_new_callbacks_become_one_notice_at_most_every_interval(demo_store):
    clock = _Clock()
    console, notices = _service(demo_store, "admin", clock)
    _new_callback(demo_store, "svc-new-1", "01011112222")
    changes = _changes(console)
    assert changes is not None and "callbacks" in changes.topics and not changes.identity
    assert console.announce() is None
    assert [(n.message, n.alert) for n in notices] == [("New callback: 010-1111-2222 · 고객센터", True)]
    clock.now += 1
    _new_callback(demo_store, "svc-new-2", "01033334444")
    _new_callback(demo_store, "svc-new-3", "01055556666")
    wait = console.announce()  # held back: the last notice was a second ago
    assert wait is not None and abs(wait - (NEW_NOTICE_S - 1)) < 1e-6
    assert len(notices) == 1
    clock.now += wait
    assert console.announce_held() is None
    assert notices[-1].message == "2 new callbacks · latest 010-5555-6666 · 고객센터"


def test_an_assignment_is_news_for_the_agent_and_counts_on_the_badge(demo_store):
    agent_console, notices = _service(demo_store, "agent01")
    admin = resolve_user(demo_store, "admin")
    agent = resolve_user(demo_store, "agent01")
    cs = demo_store.services.get_by_code("cs")
    before = agent_console.assigned_to_me()
    callback_id = _new_callback(demo_store, "svc-assign-1", "01077778888")
    cb.assign_manual(demo_store, admin, cs, [callback_id], [agent.id])
    agent_console.announce()
    assert [n.message for n in notices][-1] == "1 callback was assigned to you."
    assert agent_console.assigned_to_me() == before + 1


def test_a_wallboard_user_has_no_badge_and_no_sms_refresh(demo_store):
    console, _ = _service(demo_store, "tv")

    def no_gateway(service, name):
        raise AssertionError("the TV may not see SMS: no gateway is asked")

    assert console.assigned_to_me() is None
    assert console.refresh_sms(no_gateway) == 0


def test_the_feed_narrows_once_no_board_was_on_screen_for_a_while(demo_store):
    clock, client = _Clock(), _client()
    console, _ = _service(demo_store, "admin", clock, cti=client)
    console.board_on_screen(True)
    assert client.wants_boards
    console.board_on_screen(False)
    clock.now += BOARD_EVENTS_KEPT_S - 1
    console.narrow_feed()
    assert client.wants_boards  # back and forth within the interval is free
    clock.now += 1
    console.narrow_feed()
    assert not client.wants_boards
    console.close()


def test_the_theme_picked_is_remembered_per_user_and_the_start_theme_is_no_pick(demo_store):
    console, _ = _service(demo_store, "admin")
    console.remember_theme("textual-dark", at_start="textual-dark")
    assert console.picked_theme() is None
    console.remember_theme("nord", at_start="textual-dark")
    assert console.picked_theme() == "nord"
    other, _ = _service(demo_store, "agent01")
    assert other.picked_theme() is None


def test_a_directory_change_says_the_identity_changed(demo_store):
    from contiple_tui.core import directory

    console, _ = _service(demo_store, "admin")
    directory.add_service(
        demo_store, code="extra", name="추가 서비스"
    )  # the admin is not in it: same identity
    changes = _changes(console)
    assert changes is not None and "directory" in changes.topics and not changes.identity
    assert console.changes() is None  # nothing since


def test_the_stats_line_for_benchmarks(demo_store, tmp_path, monkeypatch):
    import json

    console, _ = _service(demo_store, "agent01")
    console.write_stats(reloads=3)  # no CONTIPLE_TUI_STATS_FILE: nothing written anywhere
    target = tmp_path / "stats.jsonl"
    monkeypatch.setenv("CONTIPLE_TUI_STATS_FILE", str(target))
    console.write_stats(reloads=3)
    line = json.loads(target.read_text())
    assert line["user"] == "agent01" and line["reloads"] == 3 and line["commits"] >= 0


def test_requests_refused_while_the_database_server_is_away_are_said_once_per_outage(demo_store):
    """Every request fails alike while PostgreSQL's server is away (each is kept and taken in later): one
    notice for the outage, not one a second. Other faults stay one notice per request."""
    from contiple_tui.errors import StoreError

    console, notices = _service(demo_store, "admin")
    away = StoreError("err.pg_unreachable", url="postgresql://db.example/cc", reason="Connection refused")
    for n in range(3):
        console._refused({"service": "cs", "request_id": f"away-{n}"}, away)
    assert [n.message for n in notices] == [
        "A callback request from the phone system could not be saved (away-0: The database server "
        "postgresql://db.example/cc cannot be reached (Connection refused); nothing was changed. Check that "
        "it is running and that this host may connect to it.). It is kept and tried again every 2 seconds "
        "until the store takes it."
    ]
    console.changes()  # the store answered: the next outage is news
    console._refused({"service": "cs", "request_id": "away-9"}, away)
    assert len(notices) == 2
    full = StoreError("err.disk_full", path="/srv/contiple/contiple.sqlite3")
    console._refused({"service": "cs", "request_id": "full-1"}, full)
    console._refused({"service": "cs", "request_id": "full-2"}, full)
    assert len(notices) == 4
