"""A console reloads only for data it shows: commits that change no topic (the feed position, the intake
lease) reload nothing, a change of callbacks reloads the view on screen and only marks hidden views
stale, and a hidden view catches up when it is shown (issue 10: idle consoles cost nothing)."""

from __future__ import annotations

import pytest

from contiple_tui.screens.home import HomeView

from .apphelpers import StorePolls, make_app, until
from .conftest import write_elsewhere

pytestmark = pytest.mark.both_engines  # SQLite and PostgreSQL: the same rules


def _commit_elsewhere(store, sql: str, *args) -> None:
    write_elsewhere(store, (sql, args))


async def test_commits_of_no_data_reload_nothing(demo_store):
    app = make_app(demo_store, "admin", lang="en", refresh_seconds=0.2)
    polls = StorePolls(app)
    async with app.run_test(size=(120, 30)) as pilot:
        await polls.passed(pilot)
        before = app.reloads
        for n in range(5):  # what the intake lease holder writes every 2 s, and another console's
            _commit_elsewhere(
                demo_store,
                "INSERT INTO meta (key, value) VALUES ('cti_position', ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                f"e:{n}",
            )
            demo_store.leases.acquire("cti-intake", "someone", 1000.0 + n, 6.0)
            await polls.passed(pilot)
        assert app.reloads == before


async def test_a_change_of_callbacks_reloads_the_view_on_screen_and_marks_hidden_ones(demo_store):
    app = make_app(demo_store, "admin", lang="en", refresh_seconds=0.2)
    polls = StorePolls(app)
    async with app.run_test(size=(120, 30)) as pilot:
        app.show_menu("callback_list")
        await polls.passed(pilot)
        app.show_menu("sms_history")  # composed, then hidden
        await polls.passed(pilot)
        app.show_menu("callback_list")
        await polls.passed(pilot)
        home = app.query_one(HomeView)
        before = app.reloads
        _commit_elsewhere(
            demo_store,
            "UPDATE callbacks SET attempts = attempts + 1 WHERE id = (SELECT max(id) FROM callbacks)",
        )
        await until(pilot, lambda: app.reloads == before + 1)  # the list on screen, once
        assert home.stale and not home.display
        history = app.query_one("#view-sms_history")
        assert not history.stale  # SMS sends did not change
        await polls.passed(pilot)
        assert app.reloads == before + 1
        app.show_menu("home")  # the hidden view catches up when shown
        await until(pilot, lambda: not home.stale and app.reloads == before + 2)


async def test_a_stream_of_new_callbacks_is_one_toast_at_a_time(demo_store, monkeypatch):
    """A busy center's requests (another console takes them in) do not stack toasts over the screen: the
    first is toasted, the ones that follow within NEW_NOTICE_S come as one toast with their count."""
    from contiple_tui.core import callbacks as cb
    from contiple_tui.core import console as console_module

    monkeypatch.setattr(console_module, "NEW_NOTICE_S", 1.0)
    app = make_app(demo_store, "admin", lang="en", refresh_seconds=0.2)
    cs = demo_store.services.get_by_code("cs")

    def toasts() -> list[str]:
        return [n.message for n in app._notifications if "new callback" in n.message.lower()]

    polls = StorePolls(app)
    async with app.run_test(size=(120, 30)) as pilot:
        await polls.passed(pilot)
        cb.intake(
            demo_store,
            cs,
            request_id="stream-0",
            phone="010-7000-0000",
            name=None,
            ivr_route=None,
            requested_at=app.clock(),
        )
        await until(pilot, lambda: len(toasts()) == 1)
        assert "New callback: 010-7000-0000" in toasts()[0]
        for n in range(1, 5):
            cb.intake(
                demo_store,
                cs,
                request_id=f"stream-{n}",
                phone=f"010-7000-000{n}",
                name=None,
                ivr_route=None,
                requested_at=app.clock(),
            )
            await pilot.pause(0.25)  # requests arriving over time, within the pacing's NEW_NOTICE_S
        await until(pilot, lambda: any("4 new callbacks" in m for m in toasts()))
        assert "latest 010-7000-0004" in toasts()[-1]
        assert len(toasts()) <= 2
