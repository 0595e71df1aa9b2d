"""Issue 9 §5: a callback request from the feed is stored (bad characters replaced) or visibly refused,
and the feed position kept in the store never moves past a request that is not in the store.
Issue 10 §2: only the console holding the intake lease writes (requests and position); a takeover loses
and doubles nothing.

Real console, real CTI client, scripted CTI server, real SQLite file; the lease tests run two intake
services on one file, each with a store of its own, as two console processes do."""

from __future__ import annotations

import logging
import os
import socket
import sqlite3
import subprocess
import sys

import pytest

from contiple_tui.core.feed_intake import (
    LEASE_NAME,
    LEASE_TTL_S,
    POSITION_KEY,
    RENEW_S,
    FeedIntake,
    holder_gone,
)
from contiple_tui.cti import protocol
from contiple_tui.store import DB_FILENAME, Store

from .apphelpers import make_app, until, workers_done
from .conftest import read_elsewhere
from .ctidata import dumps
from .ctiserver import ScriptedCti
from .test_feed_position import _position, _request  # position: read as another process would

pytestmark = pytest.mark.both_engines  # SQLite and PostgreSQL: the same rules

# JSON escapes of lone surrogates: json.loads turns them into str with lone surrogates, which UTF-8
# (and so SQLite) cannot carry.
SURROGATE_FRAME = (
    '{"type": "event", "seq": 11, "ts": "2026-11-25T01:30:00.000Z", "event": "callback_requested", '
    '"request_id": "cb-sur-1", "service": "cs", "phone": "010-2222-\\ud8003333", '
    '"name": "\\ud800김민\\udfff", "ivr_route": "\\udc00", "requested_at": "2026-11-25T01:29:00.000Z"}'
)


def _row(store, request_id: str):
    """Read through a connection of its own, as another process would (the app's workers use the store's)."""
    return read_elsewhere(
        store,
        "SELECT customer_name, ivr_route, customer_phone, phone_valid FROM callbacks "
        "WHERE cti_request_id = ?",
        (request_id,),
    )


async def test_lone_surrogates_from_the_feed_are_kept_replaced(demo_store):
    server = ScriptedCti()
    await server.start()
    app = make_app(demo_store, "admin", lang="en", cti_url=server.url)
    try:
        async with app.run_test() as pilot:
            await until(pilot, lambda: app.cti.live)
            await server.send(SURROGATE_FRAME)
            await until(pilot, lambda: _row(demo_store, "cb-sur-1") is not None)
            name, route, phone, valid = _row(demo_store, "cb-sur-1")
            assert name == "\ufffd김민\ufffd" and route == "\ufffd"
            assert phone == "0102222\ufffd3333" and not valid  # kept, flagged as not a phone number
            await workers_done(app)
            app._save_position()
            assert demo_store.get_meta(POSITION_KEY) == "test-1:11"
    finally:
        await server.stop()


@pytest.mark.sqlite_only  # the fault is a trigger in SQLite's words
async def test_a_request_the_store_refuses_holds_the_position_and_is_replayed(demo_store, caplog):
    server = ScriptedCti()
    await server.start()
    # The database itself refuses this one request (a trigger in the SQLite file: the store's edge,
    # not our code), as a damaged or failing disk would.
    refuse = (
        "CREATE TRIGGER refuse_cb_fail BEFORE INSERT ON callbacks WHEN NEW.cti_request_id = 'cb-fail-1' "
        "BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END"
    )
    demo_store.db.run_write(lambda conn: conn.execute(refuse))
    first, second = _request(11, "cb-fail-1", "01044440001"), _request(12, "cb-ok-2", "01044440002")
    app = make_app(demo_store, "admin", lang="en", cti_url=server.url)
    try:
        with caplog.at_level(logging.ERROR, logger="contiple_tui.core.feed_intake"):
            async with app.run_test() as pilot:
                await until(pilot, lambda: app.cti.live)
                await server.send(first)
                await server.send(second)
                await until(pilot, lambda: _row(demo_store, "cb-ok-2") is not None)
                await workers_done(app)
                assert app.cti.model.seq == 12
                app._save_position()
                assert demo_store.get_meta(POSITION_KEY) == "test-1:10"  # not past the lost request
                toasts = [n.message for n in app._notifications]
                assert any("could not be saved" in m and "cb-fail-1" in m for m in toasts)
        assert demo_store.get_meta(POSITION_KEY) == "test-1:10"  # nor when the console closes
        assert any("cb-fail-1" in r.getMessage() and "not stored" in r.getMessage() for r in caplog.records)
        assert _row(demo_store, "cb-fail-1") is None

        # The next console resumes from the position: the request is replayed and taken in.
        demo_store.db.run_write(lambda conn: conn.execute("DROP TRIGGER refuse_cb_fail"))
        server.replay = [first, second]
        server.snapshot = {**server.snapshot, "seq": 12}
        app = make_app(demo_store, "admin", lang="en", cti_url=server.url)
        async with app.run_test() as pilot:
            await until(pilot, lambda: app.cti.live and _row(demo_store, "cb-fail-1") is not None)
            await workers_done(app)
            app._save_position()
            assert demo_store.get_meta(POSITION_KEY) == "test-1:12"
        assert server.hellos[-1]["last_seq"] == 10
    finally:
        await server.stop()


async def test_requests_for_services_without_callbacks_do_not_hold_the_position(demo_store):
    server = ScriptedCti()
    await server.start()
    app = make_app(demo_store, "admin", lang="en", cti_url=server.url)
    try:
        async with app.run_test() as pilot:
            await until(pilot, lambda: app.cti.live)
            await server.send(dumps({**_request(11, "cb-x-1", "01055550001"), "service": "nowhere"}))
            await until(pilot, lambda: app.cti.model.seq == 11)
            await workers_done(app)
            app._save_position()
            assert demo_store.get_meta(POSITION_KEY) == "test-1:11"
    finally:
        await server.stop()


# -- one console per data directory takes requests in (issue 10 §2) --------------------------------
# Two FeedIntake services on one SQLite file, each with its own Store (its own connection), as two
# console processes have: real lease, real intake, real position. Only the clock is ours where expiry
# matters, and a "dead holder" is a real process that has exited.


def _decoded(seq: int, request_id: str) -> dict:
    """The data of a real decoded ``callback_requested`` frame, as the CTI client hands it over."""
    frame = _request(seq, request_id, f"0119{seq:07d}")  # 011: no demo callback has such a number
    return protocol.decode_server(dumps(frame)).data


class _Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


class _Console:
    """One console's intake: its own store connection, its own service, fed like the app feeds it."""

    def __init__(self, db, clock, **kwargs) -> None:
        self.store = Store(db)
        self.refused: list[str] = []
        self.feed = FeedIntake(
            self.store,
            clock=clock,
            on_refused=lambda data, exc: self.refused.append(data["request_id"]),
            **kwargs,
        )
        self.epoch, self.seq = "test-1", 10

    def event(self, seq: int, request_id: str, *, take: bool = True) -> None:
        """What the app does with a callback_requested event; ``take=False``: a holder about to die."""
        self.seq = max(self.seq, seq)
        data = _decoded(seq, request_id)
        if self.feed.received(self.epoch, seq, data) and take:
            self.feed.take_in((self.epoch, seq), data, (self.epoch, self.seq))

    def tick(self) -> None:
        self.feed.tick((self.epoch, self.seq))

    def close(self) -> None:
        self.store.close()


def _requests(db, prefix: str) -> dict[str, tuple[int, int]]:
    """request id -> (rows in callback_requests, request_count of its callback), through a connection of
    its own."""
    conn = sqlite3.connect(db)
    try:
        return {
            rid: (n, count)
            for rid, n, count in conn.execute(
                "SELECT r.request_id, count(*), max(c.request_count) FROM callback_requests r "
                "JOIN callbacks c ON c.id = r.callback_id WHERE r.request_id LIKE ? GROUP BY r.request_id",
                (prefix + "%",),
            )
        }
    finally:
        conn.close()


def _lease(db) -> tuple[str, float] | None:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT holder, expires_at FROM leases WHERE name = ?", (LEASE_NAME,)).fetchone()
    finally:
        conn.close()


def _stand_in() -> subprocess.Popen:
    """A real running process whose pid a holder id names: "killing the holder" kills it."""
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])


def test_one_console_holds_the_lease_and_the_other_writes_nothing(demo_dir):
    db, clock = demo_dir / DB_FILENAME, _Clock()
    a, b = _Console(db, clock), _Console(db, clock)
    try:
        a.tick()
        b.tick()
        assert a.feed.holding and not b.feed.holding
        assert _lease(db)[0] == a.feed.holder_id
        for seq in range(11, 61):
            a.event(seq, f"one-{seq}")
            b.event(seq, f"one-{seq}")
            if seq % 5 == 0:  # ticks between the events, two seconds apart
                clock.now += 2
                a.tick()
                b.tick()
        assert b.store.db.commits == 0  # the other console only read, across 50 requests and 10 ticks
        assert not b.feed.holding
        # The holder: one write per request (the request, the lease's renewal and the position together),
        # one to take the lease; a tick writes only when no request renewed the lease since the last one.
        assert 50 + 1 <= a.store.db.commits <= 50 + 10 + 1
        assert _position(db) == "test-1:60"
        assert _requests(db, "one-") == {f"one-{seq}": (1, 1) for seq in range(11, 61)}
        assert b.feed.buffered == []  # the stored position covers everything it kept
    finally:
        a.close()
        b.close()


def test_a_busy_feed_costs_the_holder_one_write_transaction_per_request(demo_dir):
    """The lease's renewal and the position ride in each request's own transaction: the ticks in between
    have nothing to write; once the feed is quiet, a tick renews the lease every RENEW_S."""
    db, clock = demo_dir / DB_FILENAME, _Clock()
    a = _Console(db, clock, monotonic=clock)
    try:
        a.tick()
        assert a.feed.holding and a.store.db.commits == 1
        for seq in range(11, 111):  # 100 requests, 10 a second, a tick every 2 seconds
            clock.now += 0.1
            a.event(seq, f"busy-{seq}")
            if seq % 20 == 0:
                a.tick()
        assert a.store.db.commits == 1 + 100
        assert _position(db) == "test-1:110"
        assert _lease(db) == (a.feed.holder_id, clock.now + LEASE_TTL_S)
        for _ in range(4):  # quiet: the ticks within RENEW_S write nothing…
            clock.now += 2
            a.tick()
        assert a.store.db.commits == 1 + 100
        clock.now += RENEW_S - 8
        a.tick()  # …then the tick renews the lease (one write every RENEW_S)
        assert a.store.db.commits == 1 + 100 + 1
        assert _requests(db, "busy-") == {f"busy-{seq}": (1, 1) for seq in range(11, 111)}
        a.event(111, "busy-111", take=False)  # received, not stored yet: the position stays before it
        a.feed.close((a.epoch, a.seq))  # the last position and the release, in one transaction
        assert a.store.db.commits == 1 + 100 + 1 + 1
        assert _lease(db) is None and _position(db) == "test-1:110"
        # What carried no request, counted by the intake itself: the take, the renewal, the release.
        assert a.feed.upkeep_writes == 3 == a.store.db.commits - 100
    finally:
        a.close()


def test_on_release_the_other_console_takes_over_and_takes_in_what_came_after_the_position(demo_dir):
    db, clock = demo_dir / DB_FILENAME, _Clock()
    a, b = _Console(db, clock), _Console(db, clock)
    try:
        a.tick()
        b.tick()
        for seq in range(11, 16):
            a.event(seq, f"rel-{seq}")
            b.event(seq, f"rel-{seq}")
        clock.now += 2
        a.tick()  # position 15
        b.tick()  # reads it: nothing buffered any more
        assert _position(db) == "test-1:15" and b.feed.buffered == []
        # 16 and 17 reach both consoles, 16 is stored by the holder, 17 was still on its way when it closes.
        for seq in (16, 17):
            b.event(seq, f"rel-{seq}")
            a.event(seq, f"rel-{seq}", take=seq == 16)
        a.feed.close((a.epoch, a.seq))
        assert _lease(db) is None  # released: no need to wait for expiry
        assert _position(db) == "test-1:16"  # not past 17, which is not stored
        # 18 arrives while nobody holds the lease.
        b.event(18, "rel-18")
        commits = b.store.db.commits
        b.tick()  # at once, not after the lease's time to live
        assert b.feed.holding and _lease(db)[0] == b.feed.holder_id
        assert (
            b.store.db.commits == commits + 1 + 2
        )  # the lease, then 17 and 18 (16 is covered by the position)
        b.event(19, "rel-19")  # live now
        clock.now += 2
        b.tick()
        assert _position(db) == "test-1:19"
        assert _requests(db, "rel-") == {f"rel-{seq}": (1, 1) for seq in range(11, 20)}
    finally:
        a.close()
        b.close()


def test_a_holder_killed_on_this_host_is_replaced_on_the_next_tick_without_loss(demo_dir):
    db, clock = demo_dir / DB_FILENAME, _Clock()
    process = _stand_in()  # the holder's process, as its holder id names it
    a = _Console(db, clock, holder_id=f"{socket.gethostname()}:{process.pid}:deadbeef")
    b = _Console(db, clock)
    try:
        a.tick()
        b.tick()
        assert a.feed.holding and not b.feed.holding
        for seq in range(11, 21):
            b.event(seq, f"kill-{seq}")
            a.event(seq, f"kill-{seq}", take=seq <= 14)
        clock.now += 2
        a.tick()  # 15 to 20 were never taken in: they hold the position at 14
        assert _position(db) == "test-1:14"
        process.kill()  # kill -9: it writes nothing more, its lease has most of its time to live left
        process.wait()
        assert holder_gone(a.feed.holder_id)
        clock.now += 0.5
        b.tick()
        assert b.feed.holding and _lease(db)[0] == b.feed.holder_id
        clock.now += 2
        b.tick()
        assert _position(db) == "test-1:20"
        assert _requests(db, "kill-") == {f"kill-{seq}": (1, 1) for seq in range(11, 21)}
    finally:
        process.kill()
        process.wait()
        a.close()
        b.close()


def test_a_silent_holder_elsewhere_is_replaced_once_its_lease_expires_and_then_writes_nothing(demo_dir):
    """A holder that stops renewing (hung, or on another host where its process cannot be looked at)
    keeps the lease until it expires; when it wakes up it finds the lease taken and only reads."""
    db, clock = demo_dir / DB_FILENAME, _Clock()
    a = _Console(db, clock, holder_id=f"another-host:{os.getpid()}:aaaaaaaa")
    b = _Console(db, clock)
    try:
        a.tick()
        assert not holder_gone(a.feed.holder_id)
        for seq in range(11, 14):
            a.event(seq, f"hung-{seq}", take=False)
            b.event(seq, f"hung-{seq}")
        clock.now += LEASE_TTL_S - 0.5
        b.tick()
        assert not b.feed.holding and b.store.db.commits == 0
        clock.now += 1
        b.tick()
        assert b.feed.holding
        # The old holder wakes up: its renewal finds the lease taken; it saves nothing.
        a.seq = 13
        before = _position(db)
        a.tick()
        assert not a.feed.holding and _position(db) == before
        assert not a.feed.received("test-1", 14, _decoded(14, "hung-14"))
        b.event(14, "hung-14")
        clock.now += 2
        b.tick()
        assert _position(db) == "test-1:14"
        assert _requests(db, "hung-") == {f"hung-{seq}": (1, 1) for seq in range(11, 15)}
    finally:
        a.close()
        b.close()


def test_a_takeover_after_a_new_epoch_takes_in_every_request_of_that_epoch(demo_dir):
    """The stored position names the old server run: none of the new run's buffered requests is covered."""
    db, clock = demo_dir / DB_FILENAME, _Clock()
    a, b = _Console(db, clock), _Console(db, clock)
    try:
        a.tick()
        a.event(11, "ep-a-11")
        b.event(11, "ep-a-11")
        clock.now += 2
        a.tick()
        b.tick()
        assert _position(db) == "test-1:11"
        a.epoch = b.epoch = "test-2"  # the CTI server restarted; seqs start again
        a.seq = b.seq = 3
        for seq in (4, 5):
            b.event(seq, f"ep-b-{seq}")
            a.event(seq, f"ep-b-{seq}", take=False)
        a.feed.close((a.epoch, a.seq))  # held before 4 in the new epoch
        assert _position(db) == "test-2:3"
        b.tick()
        assert b.feed.holding
        clock.now += 2
        b.tick()
        assert _position(db) == "test-2:5"
        assert set(_requests(db, "ep-")) == {"ep-a-11", "ep-b-4", "ep-b-5"}
    finally:
        a.close()
        b.close()


def test_a_console_that_is_not_the_holder_keeps_a_bounded_buffer(demo_dir):
    db, clock = demo_dir / DB_FILENAME, _Clock()
    a, b = _Console(db, clock), _Console(db, clock, buffer_max=5)
    try:
        a.tick()
        b.tick()
        for seq in range(11, 21):
            b.event(seq, f"buf-{seq}")  # the holder never gets them: the position stays at none
        assert b.feed.buffered == [("test-1", seq) for seq in range(16, 21)]
        assert b.store.db.commits == 0
    finally:
        a.close()
        b.close()


def test_while_the_store_refuses_the_free_lease_each_request_is_said_once_and_kept(demo_dir):
    """Nobody can take requests in (the store refuses the lease, as a full disk would): the console says
    so once per request, keeps them, and takes them in as soon as the store gives it the lease."""
    db, clock = demo_dir / DB_FILENAME, _Clock()
    other = sqlite3.connect(db)
    other.execute(
        "CREATE TRIGGER refuse_lease BEFORE INSERT ON leases BEGIN SELECT RAISE(ABORT, 'refused'); END"
    )
    other.commit()
    b = _Console(db, clock)
    try:
        b.tick()
        assert not b.feed.holding
        for seq in (11, 12):
            b.event(seq, f"blk-{seq}")
        clock.now += 2
        b.tick()
        b.event(13, "blk-13")
        assert b.refused == ["blk-11", "blk-12", "blk-13"]  # each once, however many ticks
        assert _requests(db, "blk-") == {}
        other.execute("DROP TRIGGER refuse_lease")
        other.commit()
        clock.now += 2
        b.tick()
        assert b.feed.holding
        assert _requests(db, "blk-") == {f"blk-{seq}": (1, 1) for seq in (11, 12, 13)}
        assert b.refused == ["blk-11", "blk-12", "blk-13"]
    finally:
        other.close()
        b.close()


def test_a_long_takeover_renews_the_lease_while_it_takes_requests_in(demo_dir):
    """Taking in many kept requests may outlast the lease: it is renewed on the way, as the tick would."""

    class Slow(_Clock):
        def monotonic(self) -> float:  # each look at the time finds it 0.4 s later: a slow store
            self.now += 0.4
            return self.now

    db, clock = demo_dir / DB_FILENAME, Slow()
    b = _Console(db, clock, monotonic=clock.monotonic)
    try:
        for seq in range(11, 41):
            b.event(seq, f"long-{seq}")
        started = clock.now
        b.tick()  # the lease is free: takes it, and the 30 requests
        assert b.feed.holding
        holder, expires = _lease(db)
        assert holder == b.feed.holder_id and expires > started + LEASE_TTL_S + 5  # renewed on the way
        assert _requests(db, "long-") == {f"long-{seq}": (1, 1) for seq in range(11, 41)}
        b.tick()
        assert _position(db) == "test-1:40"
    finally:
        b.close()
