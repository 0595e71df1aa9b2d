"""The feed position a console saves (docs/cti-protocol.md, "Feed position" and "Epochs"): a request the
store refused is retried on the periodic tick and, once stored, lets the position move on without a
restart; a request pending from an earlier epoch never holds back the position of the new one.

Real console, real CTI client, scripted CTI server, real SQLite file; the store's refusals are real too
(a full tmpfs, or a trigger in the database that aborts one insert)."""

from __future__ import annotations

import sqlite3

from contiple_tui.core.feed_intake import POSITION_KEY
from contiple_tui.store import Store

from .apphelpers import make_app, until
from .ctidata import event
from .ctiserver import ScriptedCti
from .test_faults import copy_demo, shared_tmp, tmpfs  # noqa: F401 - fixtures: a small disk to fill

HEARTBEAT_S = 60  # the scripted server sends no heartbeats: keep the client from calling it silent


def _request(seq: int, request_id: str, phone: str) -> dict:
    return event(
        seq,
        "callback_requested",
        request_id=request_id,
        service="cs",
        phone=phone,
        name="고객",
        ivr_route="1",
        requested_at="2026-11-25T01:29:00.000Z",
    )


def _queued(seq: int) -> dict:
    return event(seq, "call_queued", service="cs", call_id=f"q{seq}", enqueued_at="2026-11-25T01:29:30.000Z")


def _stored(db, request_id: str) -> bool:
    conn = sqlite3.connect(db)
    try:
        return (
            conn.execute("SELECT count(*) FROM callbacks WHERE cti_request_id = ?", (request_id,)).fetchone()[
                0
            ]
            > 0
        )
    finally:
        conn.close()


def _position(db) -> str | None:
    conn = sqlite3.connect(db)
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (POSITION_KEY,)).fetchone()
        return row[0] if row else None
    finally:
        conn.close()


def _messages(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


class _Watch:
    """Samples (position, request stored?) while a test waits: the position may only name a seq past
    the request once the request is in the store. The position is read first: a position past it
    implies a commit of the request before, so the read after sees it."""

    def __init__(self, db, request_id: str, seq: int, epoch: str = "test-1") -> None:
        self.db, self.request_id, self.seq, self.epoch = db, request_id, seq, epoch
        self.violations: list[str] = []

    def __call__(self) -> str | None:
        position = _position(self.db)
        if position and position.startswith(self.epoch + ":") and int(position.rsplit(":", 1)[1]) >= self.seq:
            if not _stored(self.db, self.request_id):
                self.violations.append(position)
        return position


async def test_a_refused_request_is_retried_and_the_position_moves_on_without_a_restart(tmpfs, demo_template):  # noqa: F811
    db = copy_demo(demo_template, tmpfs.path / "data")
    store = Store(db)
    server = ScriptedCti(heartbeat_s=HEARTBEAT_S)
    await server.start()
    watch = _Watch(db, "cb-retry-1", 11)
    try:
        app = make_app(store, "admin", lang="en", cti_url=server.url)
        async with app.run_test() as pilot:
            await until(pilot, lambda: app.cti.live and watch() == "test-1:10")  # the first tick saved it
            tmpfs.fill()
            await server.send(_request(11, "cb-retry-1", "01077770011"))
            await server.send(_queued(12))
            server.snapshot = {**server.snapshot, "seq": 12}
            await until(
                pilot, lambda: app.cti.model.seq == 12 and any("is full" in m for m in _messages(app))
            )
            # Ticks pass with the disk still full: retried, still refused, the console stays up.
            for _ in range(3):
                await pilot.pause(1.0)
                assert watch() == "test-1:10"
            assert app.is_running and not _stored(db, "cb-retry-1")

            tmpfs.free()  # room again: the next tick stores the request and the position moves on
            await until(pilot, lambda: watch() == "test-1:12")
            assert _stored(db, "cb-retry-1")
            assert app.is_running
            # Said once, not on every retry.
            assert sum("cb-retry-1" in m for m in _messages(app)) == 1
            assert not app.feed.pending
        assert watch.violations == []
        assert _position(db) == "test-1:12"
        assert server.hellos and len(server.hellos) == 1  # one connection: no restart, no reconnect
    finally:
        await server.stop()
        store.close()


async def test_a_request_pending_from_an_earlier_epoch_does_not_hold_the_new_epochs_position(demo_dir):
    db = demo_dir / "contiple.sqlite3"
    # The store itself refuses one request (as a constraint of the database would), and only that one.
    conn = sqlite3.connect(db)
    conn.execute(
        "CREATE TRIGGER refuse_one BEFORE INSERT ON callbacks WHEN NEW.cti_request_id = 'cb-a-11' "
        "BEGIN SELECT RAISE(ABORT, 'refused by the test trigger'); END"
    )
    conn.close()
    store = Store(db)
    first = ScriptedCti(heartbeat_s=HEARTBEAT_S, epoch="run-a")
    await first.start()
    second = ScriptedCti(heartbeat_s=HEARTBEAT_S, epoch="run-b")
    second.snapshot = {**second.snapshot, "seq": 3}
    watch = _Watch(db, "cb-a-11", 11, epoch="run-a")
    try:
        app = make_app(store, "admin", lang="en", cti_url=first.url)
        async with app.run_test() as pilot:
            await until(pilot, lambda: app.cti.live)
            await first.send(_request(11, "cb-a-11", "01077770021"))
            await first.send(_queued(12))
            await until(
                pilot, lambda: app.cti.model.seq == 12 and any("cb-a-11" in m for m in _messages(app))
            )
            await until(pilot, lambda: watch() == "run-a:10")  # held before the refused request

            # The CTI server restarts: a new epoch, whose seqs start again (snapshot at 3).
            await first.stop()
            await second.start(first.port)
            await until(pilot, lambda: app.cti.epoch == "run-b" and app.cti.live)
            await second.send(_request(4, "cb-b-4", "01077770022"))
            await second.send(_queued(5))
            await until(pilot, lambda: app.cti.model.seq == 5 and _stored(db, "cb-b-4"))
            # The new epoch's own position: not "run-b:10" (the old epoch's seq 11 − 1), which would
            # skip the new epoch's requests 6 to 10 for the next console.
            await until(pilot, lambda: _position(db) == "run-b:5")
            for _ in range(3):
                await pilot.pause(1.0)
                assert _position(db) == "run-b:5" and not _stored(db, "cb-a-11")  # still refused, retried

            # The old run's request cannot be replayed by any server now: this console still holds its
            # data and stores it once the store takes it.
            other = sqlite3.connect(db)
            other.execute("DROP TRIGGER refuse_one")
            other.close()
            await until(pilot, lambda: _stored(db, "cb-a-11"))
            await until(pilot, lambda: not app.feed.pending)
            assert _position(db) == "run-b:5"
            assert sum("cb-a-11" in m for m in _messages(app)) == 1
        assert watch.violations == []
        assert _position(db) == "run-b:5"
    finally:
        await first.stop()
        await second.stop()
        store.close()
