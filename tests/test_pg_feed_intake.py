"""On PostgreSQL the intake lease's changes are announced (NOTIFY): a console that does not hold the
lease reads it only when told or when what it saw runs out, not on every tick — an idle console asks the
database nothing — and still takes over at once when the holder releases it."""

from __future__ import annotations

import time

from contiple_tui.core.feed_intake import RENEW_S, TICK_S, FeedIntake
from contiple_tui.store import Store
from contiple_tui.store.migrations import LEASE_TOPIC

from .test_feed_intake import _Clock, _decoded


class _Console:
    """A console's intake on its own connection, told of lease changes as the console service tells it."""

    def __init__(self, url: str, clock: _Clock) -> None:
        self.store = Store(url)
        self.watcher = self.store.watcher()
        self.reads = 0
        holder = self.store.leases.holder

        def counted(name):
            self.reads += 1
            return holder(name)

        self.store.leases.holder = counted  # type: ignore[method-assign]  # counts, changes nothing
        self.feed = FeedIntake(self.store, clock=clock, monotonic=clock, announced=True)

    def tick(self, seq: int, wait: float = 0.1) -> None:
        deadline = time.monotonic() + wait  # a NOTIFY arrives a moment after its commit
        while time.monotonic() < deadline:
            if LEASE_TOPIC in self.watcher.changes():
                self.feed.lease_changed()
                break
            time.sleep(0.01)
        self.feed.tick(("test-1", seq))

    def close(self) -> None:
        self.watcher.close()
        self.store.close()


def test_the_lease_is_read_when_announced_not_every_tick(pg_server, demo_template_pg):
    url = pg_server.create_database(template=demo_template_pg)
    clock = _Clock()
    a, b = _Console(url, clock), _Console(url, clock)
    try:
        a.tick(10)
        b.tick(10)
        assert a.feed.holding and not b.feed.holding
        reads = b.reads
        ticks = int(3 * RENEW_S / TICK_S)  # 30 s of ticks: the holder renews three times meanwhile
        for _ in range(ticks):
            clock.now += TICK_S
            a.tick(10)
            b.tick(10)
        assert not b.feed.holding
        assert b.reads - reads <= 4, b.reads - reads  # after each renewal it was told of, not 15 times

        data = _decoded(11, "quiet-11")
        for console in (a, b):
            console.feed.received("test-1", 11, data)
        a.feed.close(("test-1", 10))  # released before taking 11 in; b is told at once
        clock.now += TICK_S
        b.tick(11, wait=2.0)
        assert b.feed.holding
        with b.store.db.read() as conn:
            assert (
                conn.execute(
                    "SELECT count(*) FROM callback_requests WHERE request_id = 'quiet-11'"
                ).fetchone()[0]
                == 1
            )
    finally:
        a.close()
        b.close()
        pg_server.drop_database(url)
