"""Issue 14 §2, across hosts: console processes with data directories of their own (as on separate hosts)
sharing one PostgreSQL database.

- The CTI feed received by all three is taken in once per request, also when the console holding the
  intake lease is killed (kill -9) in the middle of the stream.
- What one console (another host) takes in or assigns appears in the others within a second.
- An equal split killed mid-transaction leaves all of it or nothing.

Real console processes in pseudo-terminals, a real websocket CTI server, a real PostgreSQL server."""

from __future__ import annotations

import asyncio
import multiprocessing
import random
import time

import pytest

from contiple_tui.core import callbacks as cb
from contiple_tui.core.feed_intake import LEASE_NAME
from contiple_tui.core.session import resolve_user
from contiple_tui.domain.phone import format_phone
from contiple_tui.store import Store
from contiple_tui.store.postgres import WRITE_LOCK

from .conftest import read_elsewhere
from .ctidata import event
from .ctiserver import ThreadedCti
from .ptyrun import PtyProgram
from .test_intake_lease import _pause, _until, quit_all

LOGINS = ("admin", "admin", "agent02")  # host 1, 2, 3
LOCK_HELD_SQL = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid = ?"
PROPAGATION_S = 1.0


@pytest.fixture
def shared(pg_server, demo_template_pg, tmp_path):
    """The demo world in a PostgreSQL database of its own."""
    url = pg_server.create_database(template=demo_template_pg)
    yield url
    pg_server.drop_database(url)


def _rows(url: str, sql: str, args: tuple = ()) -> list[tuple]:
    """Read by a connection of its own, as another host would (the product's placeholder rules)."""
    import psycopg

    from contiple_tui.store.postgres import to_pg

    with psycopg.connect(url) as conn:
        return conn.execute(to_pg(sql), args).fetchall()


def _holder_pid(url: str) -> int | None:
    rows = _rows(url, "SELECT holder FROM leases WHERE name = ?", (LEASE_NAME,))
    if not rows:
        return None
    parts = rows[0][0].rsplit(":", 2)
    return int(parts[1]) if len(parts) == 3 and parts[1].isdigit() else None


def _stored(url: str) -> dict[str, int]:
    return dict(
        _rows(
            url,
            "SELECT request_id, count(*) FROM callback_requests WHERE request_id LIKE 'host-%' "
            "GROUP BY request_id",
        )
    )


def _shown_within(programs: list[PtyProgram], marks: list[int], needle: bytes, seconds: float) -> list[float]:
    """Seconds until each program wrote ``needle`` after its mark (inf when it did not in time)."""
    start = time.monotonic()
    seen: dict[int, float] = {}
    while len(seen) < len(programs) and time.monotonic() - start < seconds:
        for index, program in enumerate(programs):
            program.read_until(b"\x00never", timeout=0.005)
            if index not in seen and needle in program.output[marks[index] :]:
                seen[index] = time.monotonic() - start
    return [seen.get(i, float("inf")) for i in range(len(programs))]


def test_three_hosts_share_one_database_feed_and_changes(shared, tmp_path):
    url = shared
    threaded = ThreadedCti(heartbeat_s=60)
    with threaded as server:
        loop = threaded._loop

        def send(seq: int, phone: str) -> None:
            frame = event(
                seq,
                "callback_requested",
                request_id=f"host-{seq}",
                service="cs",
                phone=phone,
                name="고객",
                ivr_route="1",
                requested_at="2026-11-25T01:29:00.000Z",
            )
            server.snapshot = {**server.snapshot, "seq": seq}
            asyncio.run_coroutine_threadsafe(server.send(frame), loop).result(10)

        programs = [
            PtyProgram(
                ["--data-dir", str(tmp_path / f"host{n}"), "--db", url, "--user", login]
                + ["--lang", "en", "--cti-url", server.url],
                env={},
                size=(120, 30),
            )
            for n, login in enumerate(LOGINS, start=1)
        ]
        try:
            pids = {p.proc.pid: p for p in programs}
            _until(programs, lambda: len(server.connections) == len(programs), 60, "every console connected")
            first = _until(
                programs,
                lambda: _holder_pid(url) in pids and _holder_pid(url),
                30,
                "a console holds the lease",
            )
            for n in range(1, len(programs) + 1):
                assert not list((tmp_path / f"host{n}").glob("*.sqlite3"))  # the database is PostgreSQL's

            # A callback another host takes in: "New callback: <number>" on every console (admins and the
            # service's phone agents are told).
            phone = "01077770001"
            marks = [len(p.output) for p in programs]
            send(11, phone)
            _until(programs, lambda: _stored(url) == {"host-11": 1}, 10, "the request stored")
            waits = _shown_within(programs, marks, format_phone(phone).encode(), 5)
            assert max(waits) <= PROPAGATION_S, waits

            # An assignment made on another host reaches the agent's console.
            store = Store(url)
            try:
                cs = store.services.get_by_code("cs")
                assert cs is not None
                (callback_id,) = _rows(url, "SELECT id FROM callbacks WHERE cti_request_id = 'host-11'")[0]
                agent = resolve_user(store, "agent02")
                marks = [len(p.output) for p in programs]
                cb.assign_manual(store, resolve_user(store, "admin"), cs, [callback_id], [agent.id])
                (wait,) = _shown_within(programs[2:], marks[2:], b"assigned to you", 5)
                assert wait <= PROPAGATION_S, wait
            finally:
                store.close()

            # The feed, received by all three, taken in once per request, across a kill -9 of the holder.
            seq = 11
            for _ in range(10):
                seq += 1
                send(seq, f"0119{seq:07d}")
                _pause(programs, 0.05)
            holder = pids[first]
            holder.proc.kill()
            holder.proc.wait(10)
            survivors = [p for p in programs if p is not holder]
            for _ in range(10):
                seq += 1
                send(seq, f"0119{seq:07d}")
                _pause(survivors, 0.05)
            _until(
                survivors, lambda: _holder_pid(url) not in (None, first), 30, "a survivor took the lease over"
            )
            expected = {f"host-{n}": 1 for n in range(11, seq + 1)}
            _until(survivors, lambda: _stored(url) == expected, 30, "every request stored once")
            counts = _rows(
                url, "SELECT cti_request_id, request_count FROM callbacks WHERE cti_request_id LIKE 'host-%'"
            )
            assert dict(counts) == expected  # one callback per request, none merged twice
            quit_all(survivors)
        finally:
            for program in programs:
                program.close()


# -- a split killed mid-transaction ----------------------------------------------------------------------


def _split_child(url: str, ids: list[int], agents: list[int], ready, go) -> None:
    store = Store(url)
    admin = resolve_user(store, "admin")
    cs = store.services.get_by_code("cs")
    ready.set()
    go.wait()
    cb.assign_equal(store, admin, cs, ids, agents)
    store.close()


def test_a_split_killed_mid_transaction_leaves_all_or_nothing(shared):
    url = shared
    store = Store(url)
    try:
        admin = resolve_user(store, "admin")
        cs = store.services.get_by_code("cs")
        assert cs is not None
        agents = [u.id for u, _ in cb.assignable_agents(store, admin, cs)]
        ctx = multiprocessing.get_context("spawn")
        rng = random.Random(14)
        outcomes = []
        for run in range(4):
            ids = [
                cb.intake(
                    store,
                    cs,
                    request_id=f"split-{run}-{n}",
                    phone=f"0105{run}{n:06d}",
                    name=None,
                    ivr_route=None,
                    requested_at=datetime_now(),
                )[1]
                for n in range(1500)
            ]
            ready, go = ctx.Event(), ctx.Event()
            child = ctx.Process(target=_split_child, args=(url, ids, agents, ready, go))
            child.start()
            assert ready.wait(60)
            go.set()
            # Killed once it holds the writer lock, i.e. inside its one transaction.
            deadline = time.monotonic() + 30
            while not _rows(url, LOCK_HELD_SQL, (WRITE_LOCK,))[0][0]:
                assert time.monotonic() < deadline and child.is_alive(), "the split never took the lock"
                time.sleep(0.002)
            time.sleep(rng.uniform(0, 0.03))
            child.kill()
            child.join(10)
            marks = ", ".join("?" * len(ids))
            assigned = read_elsewhere(
                store,
                f"SELECT count(*) FROM callbacks WHERE status = 'assigned' AND id IN ({marks})",
                tuple(ids),
            )
            history = read_elsewhere(
                store,
                f"SELECT count(*) FROM callback_history WHERE action = 'assign' AND callback_id IN ({marks})",
                tuple(ids),
            )
            assert (assigned, history) in (((0,), (0,)), ((len(ids),), (len(ids),))), (run, assigned, history)
            outcomes.append(assigned[0] if assigned else None)
        # After every kill the writer lock is free again: the same split by another process goes through.
        result = cb.assign_equal(store, admin, cs, ids, agents)
        assert result.count == len(ids) - outcomes[-1]
    finally:
        store.close()


def datetime_now():
    from datetime import UTC, datetime

    return datetime.now(UTC)
