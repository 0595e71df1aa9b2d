"""The PostgreSQL server restarted under a running console: one clear line, a refused action changes
nothing, and once the server is back the console works again and shows what others wrote, without a
restart; no write is lost or doubled."""

from __future__ import annotations

import pytest

from contiple_tui.core import callbacks as cb
from contiple_tui.domain.models import CallbackStatus
from contiple_tui.errors import StoreError
from contiple_tui.sim import demo
from contiple_tui.store import Store

from .apphelpers import make_app, open_callback_list
from .conftest import FIXED_NOW, read_elsewhere, write_elsewhere
from .pgserver import PgServer, skip_unless_available
from .test_change_topics import until


@pytest.fixture
def own_server(tmp_path):
    """A server of this test alone: restarting the shared one would cut the other tests' databases."""
    skip_unless_available()
    server = PgServer().start()
    yield server
    server.close()


def _messages(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


def _status(store: Store, callback_id: int) -> str:
    row = read_elsewhere(store, "SELECT status FROM callbacks WHERE id = ?", (callback_id,))
    assert row is not None
    return row[0]


async def test_a_console_rides_out_a_server_restart(own_server, tmp_path):
    url = own_server.create_database()
    store = Store(url)
    store.data_dir = tmp_path
    demo.seed(store, callbacks=60, agents=4, now=FIXED_NOW.timestamp(), sms=False)
    users = {u.login: u for u in store.users.list()}
    cs = store.services.get_by_code("cs")
    assert cs is not None
    try:
        app = make_app(store, "admin", lang="en", refresh_seconds=0.2)
        async with app.run_test(size=(120, 30)) as pilot:
            table = await open_callback_list(pilot)
            first, second = [c.id for c in table.rows_by_key.values() if c.status is CallbackStatus.ASSIGNED][
                :2
            ]
            cb.complete(store, users["admin"], cs, [first])  # before the restart: kept across it

            own_server.stop()
            await until(pilot, lambda: any("cannot be reached" in m for m in _messages(app)), timeout=10)
            with pytest.raises(StoreError) as refused:  # an action meanwhile: refused, in one line
                cb.complete(store, users["admin"], cs, [second])
            assert refused.value.key == "err.pg_unreachable"
            for _ in range(10):  # polls go on while the server is away: still the one line
                await pilot.pause(0.1)  # noqa: ASYNC251 - the console's own 0.2 s polls must pass
            assert sum("cannot be reached" in m for m in _messages(app)) == 1
            assert app.is_running

            own_server.launch()
            before = app.reloads
            write_elsewhere(  # another console, on another host, completes the second one
                store, ("UPDATE callbacks SET status = 'completed', completed_at = 1 WHERE id = ?", (second,))
            )
            await until(pilot, lambda: app.reloads > before, timeout=10)  # back: the list reloads
            await until(
                pilot,
                lambda: (
                    str(second) in table.rows_by_key
                    and table.rows_by_key[str(second)].status is CallbackStatus.COMPLETED
                ),
                timeout=10,
            )
            assert sum("cannot be reached" in m for m in _messages(app)) == 1
    finally:
        store.close()
    assert _status(store, first) == "completed"  # written before the restart, still there
    assert _status(store, second) == "completed"
    history = read_elsewhere(
        store, "SELECT count(*) FROM callback_history WHERE callback_id = ? AND action = 'complete'", (first,)
    )
    assert history == (1,)  # once, not doubled by a retry
