"""Issue 9 §5: a callback request from the feed is stored (bad characters replaced) or visibly refused,
and the feed position kept in the store never moves past a request that is not in the store.

Real console, real CTI client, scripted CTI server, real SQLite file."""

from __future__ import annotations

import logging
import sqlite3

from contiple_tui.app import POSITION_KEY

from .apphelpers import make_app, until, workers_done
from .ctidata import dumps, event
from .ctiserver import ScriptedCti

# JSON escapes of lone surrogates: json.loads turns them into str with lone surrogates, which UTF-8
# (and so SQLite) cannot carry.
SURROGATE_FRAME = (
    '{"type": "event", "seq": 11, "ts": "2026-11-25T01:30:00.000Z", "event": "callback_requested", '
    '"request_id": "cb-sur-1", "service": "cs", "phone": "010-2222-\\ud8003333", "name": "\\ud800김민\\udfff", '
    '"ivr_route": "\\udc00", "requested_at": "2026-11-25T01:29:00.000Z"}'
)


def _request(seq: int, request_id: str, phone: str) -> dict:
    return event(seq, "callback_requested", request_id=request_id, service="cs", phone=phone, name="고객",
                 ivr_route="1", requested_at="2026-11-25T01:29:00.000Z")


def _row(store, request_id: str):
    """Read through a connection of its own, as another process would (the app's workers use the store's)."""
    conn = sqlite3.connect(store.path)
    try:
        return conn.execute(
            "SELECT customer_name, ivr_route, customer_phone, phone_valid FROM callbacks WHERE cti_request_id = ?",
            (request_id,)).fetchone()
    finally:
        conn.close()


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


async def test_a_request_the_store_refuses_holds_the_position_and_is_replayed(demo_store, caplog):
    server = ScriptedCti()
    await server.start()
    # The database itself refuses this one request (a trigger in the SQLite file: the store's edge,
    # not our code), as a damaged or failing disk would.
    refuse = ("CREATE TRIGGER refuse_cb_fail BEFORE INSERT ON callbacks WHEN NEW.cti_request_id = 'cb-fail-1' "
              "BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END")
    demo_store.db.run_write(lambda conn: conn.execute(refuse))
    first, second = _request(11, "cb-fail-1", "01044440001"), _request(12, "cb-ok-2", "01044440002")
    app = make_app(demo_store, "admin", lang="en", cti_url=server.url)
    try:
        with caplog.at_level(logging.ERROR, logger="contiple_tui.app"):
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
