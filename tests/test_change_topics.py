"""A console reloads only for data it shows: commits that change no topic (the feed position, the intake
lease) reload nothing, a change of callbacks reloads the view on screen and only marks hidden views
stale, and a hidden view catches up when it is shown (issue 10: idle consoles cost nothing)."""

from __future__ import annotations

import sqlite3

from contiple_tui.screens.home import HomeView

from .apphelpers import make_app, until


def _commit_elsewhere(db, sql: str, *args) -> None:
    conn = sqlite3.connect(db)
    conn.execute(sql, args)
    conn.commit()
    conn.close()


async def test_commits_of_no_data_reload_nothing(demo_store):
    app = make_app(demo_store, "admin", lang="en", refresh_seconds=0.2)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause(0.5)
        before = app.reloads
        for n in range(5):  # what the intake lease holder writes every 2 s, and another console's
            _commit_elsewhere(demo_store.path, "INSERT INTO meta (key, value) VALUES ('cti_position', ?) "
                              "ON CONFLICT (key) DO UPDATE SET value = excluded.value", f"e:{n}")
            demo_store.leases.acquire("cti-intake", "someone", 1000.0 + n, 6.0)
            await pilot.pause(0.3)
        assert app.reloads == before


async def test_a_change_of_callbacks_reloads_the_view_on_screen_and_marks_hidden_ones(demo_store):
    app = make_app(demo_store, "admin", lang="en", refresh_seconds=0.2)
    async with app.run_test(size=(120, 30)) as pilot:
        app.show_menu("callback_list")
        await pilot.pause(0.5)
        app.show_menu("sms_history")  # composed, then hidden
        await pilot.pause(0.5)
        app.show_menu("callback_list")
        await pilot.pause(0.5)
        home = app.query_one(HomeView)
        before = app.reloads
        _commit_elsewhere(demo_store.path, "UPDATE callbacks SET attempts = attempts + 1 "
                          "WHERE id = (SELECT max(id) FROM callbacks)")
        await until(pilot, lambda: app.reloads == before + 1)  # the list on screen, once
        assert home.stale and not home.display
        history = app.query_one("#view-sms_history")
        assert not history.stale  # SMS sends did not change
        await pilot.pause(0.5)
        assert app.reloads == before + 1
        app.show_menu("home")  # the hidden view catches up when shown
        await until(pilot, lambda: not home.stale and app.reloads == before + 2)
