"""Issue 10 §2, end to end: callback intake and the feed position are written by one console per data
directory, and killing that console (kill -9) in the middle of a stream of requests loses and doubles
none of them — a survivor takes the lease over within seconds and takes in what it kept.

Real console processes in pseudo-terminals on one SQLite file, a real websocket CTI server (the scripted
one: it decides exactly which requests exist), nothing faked."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time

from contiple_tui.core.feed_intake import LEASE_NAME, POSITION_KEY
from contiple_tui.store import DB_FILENAME

from .ctidata import event
from .ctiserver import ThreadedCti
from .ptyrun import PtyProgram

CONSOLES = 3
SAVED = 10  # requests the holder stores and saves the position past
UNSAVED = (
    5  # requests sent just before the holder is killed: stored, or on their way, past the saved position
)
ORPHANED = 15  # requests sent after the kill, before a survivor takes the lease over


def _read(db, sql: str, args: tuple = ()) -> list[tuple]:
    conn = sqlite3.connect(db, timeout=10)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def _holder_pid(db) -> int | None:
    rows = _read(db, "SELECT holder FROM leases WHERE name = ?", (LEASE_NAME,))
    if not rows:
        return None
    parts = rows[0][0].rsplit(":", 2)
    return int(parts[1]) if len(parts) == 3 and parts[1].isdigit() else None


def _stored(db) -> dict[str, int]:
    """request id -> rows in callback_requests, for this test's requests."""
    return dict(
        _read(
            db,
            "SELECT request_id, count(*) FROM callback_requests WHERE request_id LIKE 'lease-%' "
            "GROUP BY request_id",
        )
    )


def _position(db) -> str | None:
    rows = _read(db, "SELECT value FROM meta WHERE key = ?", (POSITION_KEY,))
    return rows[0][0] if rows else None


def _until(programs, condition, timeout: float, what: str):
    """Poll ``condition`` until it is true (its value is returned), draining every console's terminal
    meanwhile so none blocks on a full pty."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            tails = "\n---\n".join(bytes(p.output[-600:]).decode(errors="replace") for p in programs)
            raise AssertionError(f"{what}: not reached in {timeout} s\n{tails}")
        for program in programs:
            program.read_until(b"\x00never", timeout=0.02)


def _pause(programs, seconds: float) -> None:
    """Wait, draining every console's terminal meanwhile."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        for program in programs:
            program.read_until(b"\x00never", timeout=min(left, 0.01))


def quit_all(programs) -> None:
    """Ctrl+Q in each console; each ends with 0."""
    for program in programs:
        program.send(b"\x11")
    for program in programs:
        assert program.wait(20) == 0


def test_killing_the_intake_lease_holder_loses_and_doubles_no_request(demo_dir, tmp_path):
    db = demo_dir / DB_FILENAME
    stats = tmp_path / "stats.jsonl"
    threaded = ThreadedCti(heartbeat_s=60)  # no heartbeats: the link never goes stale in the test
    with threaded as server:
        server_loop = threaded._loop  # where the server's coroutines run

        def send(seq: int) -> None:
            frame = event(
                seq,
                "callback_requested",
                request_id=f"lease-{seq}",
                service="cs",
                phone=f"0119{seq:07d}",
                name="고객",
                ivr_route="1",
                requested_at="2026-11-25T01:29:00.000Z",
            )
            server.snapshot = {**server.snapshot, "seq": seq}  # a console that resyncs is placed after it
            asyncio.run_coroutine_threadsafe(server.send(frame), server_loop).result(10)

        programs = [
            PtyProgram(
                ["--data-dir", str(demo_dir), "--user", "admin", "--lang", "en", "--cti-url", server.url],
                env={"CONTIPLE_TUI_STATS_FILE": str(stats)},
                size=(120, 30),
            )
            for _ in range(CONSOLES)
        ]
        try:
            pids = {p.proc.pid: p for p in programs}
            _until(programs, lambda: len(server.connections) == CONSOLES, 60, "every console connected")
            first = _until(
                programs, lambda: _holder_pid(db) in pids and _holder_pid(db), 30, "a console holds the lease"
            )

            seq = 10
            for _ in range(SAVED):
                seq += 1
                send(seq)
                _pause(programs, 0.05)
            # The holder saves the position on its tick: these are behind it.
            _until(programs, lambda: _position(db) == f"test-1:{seq}", 20, "the holder saved the position")
            for _ in range(UNSAVED):  # stored as they come, but after the saved position
                seq += 1
                send(seq)
            holder = pids[first]
            holder.proc.kill()  # kill -9 right after: no position saved, no lease released
            holder.proc.wait(10)  # reaped, as sshd reaps a console's process
            killed_at = time.monotonic()
            survivors = [p for p in programs if p is not holder]
            for _ in range(ORPHANED):  # while nobody holds the lease: only in the survivors' memory
                seq += 1
                send(seq)
                _pause(survivors, 0.05)

            second = _until(
                survivors,
                lambda: _holder_pid(db) not in (None, first) and _holder_pid(db),
                30,
                "a survivor took the lease over",
            )
            assert second in pids and second != first
            # Within a tick or two: the holder's process is gone, so its lease is not waited out (the
            # bound is generous for a loaded machine; tests/test_feed_intake.py pins the rule down).
            assert time.monotonic() - killed_at < 15
            expected = {f"lease-{n}" for n in range(11, seq + 1)}
            _until(survivors, lambda: set(_stored(db)) == expected, 30, "every request stored")
            assert _stored(db) == {rid: 1 for rid in expected}  # none lost, none twice
            # Each made its own callback (distinct numbers), counted once: no request was taken in twice.
            counts = _read(
                db, "SELECT cti_request_id, request_count FROM callbacks WHERE cti_request_id LIKE 'lease-%'"
            )
            assert dict(counts) == {rid: 1 for rid in expected}
            _until(survivors, lambda: _position(db) == f"test-1:{seq}", 20, "the position moved on")

            quit_all(survivors)
        finally:
            for program in programs:
                program.close()
    assert _position(db) == f"test-1:{seq}"
    assert _read(db, "SELECT holder FROM leases WHERE name = ?", (LEASE_NAME,)) == []  # released on exit
    lines = {entry["pid"]: entry for entry in map(json.loads, stats.read_text().splitlines())}
    assert set(lines) == {p.proc.pid for p in survivors}
    # The survivor that never held the lease wrote nothing (at most one write transaction: a takeover it
    # lost to the other survivor, which changes nothing).
    assert lines[second]["commits"] > 0
    # Its writes without a request: the takeover, renewals while none came, the release with the position.
    assert 2 <= lines[second]["intake_upkeep_commits"] < lines[second]["commits"]
    (reader,) = [pid for pid in lines if pid != second]
    assert lines[reader]["commits"] <= 1
    assert lines[reader]["intake_upkeep_commits"] == lines[reader]["commits"]
