"""Focus follows what the user sees (issue 11): however a menu is opened, the keyboard focus lands on that
view's primary widget and the footer shows its keys; a hidden view never holds the focus; a service
switch never leaves the content area empty."""

from __future__ import annotations

import asyncio

import pytest
from rich.cells import cell_len
from textual.widgets import ContentSwitcher, Input, Select

from contiple_tui.domain.menus import MENU_BY_ID
from contiple_tui.i18n import t
from contiple_tui.screens.base import MenuView
from contiple_tui.screens.menu_views import MenuViews
from contiple_tui.widgets.nav import NavMenu

from .apphelpers import make_app, nav_ids, palette_offers, until


def content_shown(app) -> bool:
    """One content area on screen, showing a composed view."""
    shown = [views for views in app.query(MenuViews) if views.display]
    view = shown[0].visible_view if len(shown) == 1 else None
    return view is not None and view.display and bool(view.children)


def visible_view(app) -> MenuView:
    view = app.query_one(ContentSwitcher).visible_content
    assert isinstance(view, MenuView)
    return view


def focus_is_where_the_eye_is(app, menu_id: str) -> None:
    """The focused widget is in the visible view (the menu for a view with nothing to focus), shown, and
    its view's own keys are active."""
    view = visible_view(app)
    assert view.id == f"view-{menu_id}"
    focused = app.screen.focused
    assert focused is not None, menu_id
    assert focused.display and all(node.display for node in focused.ancestors if hasattr(node, "display"))
    target = view.focus_target
    if target is None:
        assert isinstance(focused, NavMenu), (menu_id, focused)
        return
    assert focused is target, (menu_id, focused, target)
    own_keys = {binding.key for binding in type(view).BINDINGS if hasattr(binding, "key")}
    active = set(app.active_bindings)
    assert not own_keys or own_keys & active, (menu_id, own_keys, active)


async def from_the_menu(app, pilot, menu_id: str) -> None:
    nav = app.query_one(NavMenu)
    if not nav.display:  # stepped aside for a list or a board at this width: F3 brings it back
        await pilot.press("f3")
    nav.focus()
    index = next(i for i in range(nav.option_count) if nav.get_option_at_index(i).id == menu_id)
    nav.highlighted = index
    await pilot.press("enter")


async def from_the_palette(app, pilot, menu_id: str) -> None:
    await pilot.press("ctrl+p")
    await pilot.press(*t(f"menu.{menu_id}"))
    await palette_offers(pilot, t(f"menu.{menu_id}"))
    await pilot.press("enter")


async def settle_focus(app, pilot, menu_id: str) -> None:
    await until(
        pilot,
        lambda: (
            app.current_menu_id == menu_id
            and app.screen.focused is not None
            and (
                visible_view(app).focus_target is None or app.screen.focused is visible_view(app).focus_target
            )
        ),
    )
    await pilot.pause(0.6)  # a window in which the focus must stay (a late focus restore would move it)


@pytest.mark.parametrize("login", ["admin", "agent02"])
@pytest.mark.parametrize("way", [from_the_menu, from_the_palette], ids=["menu", "palette"])
async def test_every_menu_takes_the_focus_however_it_is_opened(demo_store, login, way):
    app = make_app(demo_store, login)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        menus = nav_ids(app)
        for menu_id in menus[1:] + ["home"]:
            if (
                MENU_BY_ID[menu_id].group == "callbacks"
                and "callback_list" in menus
                and menu_id != "callback_list"
            ):
                # The worst start: the focus in a field of another view, about to be hidden.
                app.show_menu("callback_list")
                await settle_focus(app, pilot, "callback_list")
                await pilot.press("slash")
                assert isinstance(app.screen.focused, Input)
            await way(app, pilot, menu_id)
            await settle_focus(app, pilot, menu_id)
            focus_is_where_the_eye_is(app, menu_id)


async def test_keys_typed_after_the_palette_never_reach_a_hidden_view(demo_store):
    app = make_app(demo_store, "admin")
    async with app.run_test(size=(120, 30)) as pilot:
        await from_the_menu(app, pilot, "callback_list")
        await settle_focus(app, pilot, "callback_list")
        await pilot.press("slash")  # the phone filter has the focus
        phone = app.screen.focused
        assert isinstance(phone, Input)
        await from_the_palette(app, pilot, "wallboard_services")
        await settle_focus(app, pilot, "wallboard_services")
        await pilot.press("0", "1", "0", "1")
        assert phone.value == ""  # the hidden list's filter got nothing
        focus_is_where_the_eye_is(app, "wallboard_services")
        await from_the_palette(app, pilot, "callback_list")
        await settle_focus(app, pilot, "callback_list")
        await pilot.press("x")  # the list's keys work when it came from the palette
        await until(
            pilot,
            lambda: (
                any("xlsx" in n.message.lower() or "export" in n.message.lower() for n in app._notifications)
                or type(app.screen).__name__ != "Screen"
            ),
        )


@pytest.mark.parametrize("size", [(80, 24), (160, 45)])
async def test_a_service_switch_shows_the_same_menu_or_home_never_an_empty_area(demo_store, size):
    app = make_app(demo_store, "admin")
    async with app.run_test(size=size) as pilot:
        await from_the_menu(app, pilot, "callback_list")
        await settle_focus(app, pilot, "callback_list")
        await pilot.press("f2")
        app.screen.dismiss("sales")  # as Enter on sales does, without waiting for the switch to end
        # Never an empty content area: the old view stays until the new one is composed. Looked at
        # after every step of the event loop (a pause would let the whole switch happen between looks).
        for _ in range(20_000):
            assert content_shown(app)
            if app.session.service.code == "sales" and len(app.query(MenuViews)) == 1:
                break
            await asyncio.sleep(0)
        await until(pilot, lambda: app.session.service.code == "sales")
        await settle_focus(app, pilot, "callback_list")
        view = visible_view(app)
        assert view.children and view.session.service.code == "sales"
        assert app.query_one(ContentSwitcher).current == "view-callback_list"
        assert len(app.query_one(ContentSwitcher).children) == 1  # the old views are gone
        focus_is_where_the_eye_is(app, "callback_list")
        await from_the_menu(app, pilot, "sms_compose")
        await settle_focus(app, pilot, "sms_compose")
        await pilot.press("f2", "down", "enter")  # sales → care, which has no SMS: Home
        await until(pilot, lambda: app.session.service.code == "care")
        await settle_focus(app, pilot, "home")
        assert visible_view(app).children
        focus_is_where_the_eye_is(app, "home")


@pytest.mark.parametrize(
    "menu, login, table_type",
    [("callback_list", "admin", "CallbackTable"), ("sms_history", "admin", "SendTable")],
)
async def test_the_table_is_one_tab_away_from_every_field(demo_store, menu, login, table_type):
    app = make_app(demo_store, login)
    async with app.run_test(size=(160, 45)) as pilot:
        app.show_menu(menu)
        await until(pilot, lambda: app.query(f"#view-{menu} {table_type}"))
        view = app.query_one(f"#view-{menu}")
        table = view.query_one(table_type)
        # Some filters are mounted after the first refresh (the list's status, IVR and people choices):
        # the fields are those of the settled view.
        fields, same = [], 0
        while same < 3:
            await pilot.pause(0.1)
            now = [w for w in app.screen.focus_chain if view in w.ancestors and w is not table]
            same = same + 1 if now == fields else 0
            fields = now
        assert fields
        visited = []
        for field in fields:
            field.focus()
            await until(pilot, lambda field=field: app.focused is field)  # focus() takes effect next turn
            await pilot.press("tab")
            await until(pilot, lambda: app.focused is table)
        # From the table, Tab goes on to the field after the one left: every field in turn.
        fields[0].focus()
        await until(pilot, lambda: app.focused is fields[0])
        for _ in fields:
            await pilot.press("tab")  # to the table
            await until(pilot, lambda: app.focused is table)
            await pilot.press("tab")  # to the next field
            await until(pilot, lambda: app.focused is not table)
            visited.append(app.focused)
        assert visited == fields[1:] + fields[:1]


async def test_the_menu_steps_aside_in_a_narrow_terminal_and_comes_back_when_it_grows(demo_store):
    app = make_app(demo_store, "admin", lang="en")
    async with app.run_test(size=(80, 24)) as pilot:
        nav = app.query_one(NavMenu)
        await from_the_palette(app, pilot, "callback_list")
        await settle_focus(app, pilot, "callback_list")
        assert not nav.display  # the list takes the menu's columns
        await from_the_palette(app, pilot, "sms_templates")
        await settle_focus(app, pilot, "sms_templates")
        assert not nav.display  # a list again
        await pilot.resize_terminal(160, 45)
        await until(pilot, lambda: nav.display)  # wide enough now: back by itself
        await pilot.resize_terminal(80, 24)
        await until(pilot, lambda: not nav.display)
        await pilot.press("f3")
        await until(pilot, lambda: nav.display)  # F3 brings it back at any width


async def test_tab_from_the_assign_list_goes_to_the_agents_first(demo_store):
    """The agents are what the list is assigned to: one Tab away, not one per filter."""
    app = make_app(demo_store, "admin", lang="en")
    async with app.run_test(size=(160, 45)) as pilot:
        await from_the_menu(app, pilot, "callback_assign")
        await settle_focus(app, pilot, "callback_assign")
        table = app.query_one("#as-table")
        assert app.focused is table
        await pilot.press("tab")
        assert app.focused is app.query_one("#as-agents")
        await pilot.press("tab")
        assert app.focused is table
        await pilot.press("tab")  # then the filters, in turn with the list
        assert app.focused is not table and app.focused is not app.query_one("#as-agents")


async def test_two_rebuilds_in_a_row_end_with_one_content_area_and_never_an_empty_one(demo_store):
    """A second rebuild (the user's rights changed, say) while the first is still composing."""
    app = make_app(demo_store, "admin")
    async with app.run_test(size=(120, 30)) as pilot:
        await from_the_menu(app, pilot, "callback_list")
        await settle_focus(app, pilot, "callback_list")
        await pilot.press("f2")
        app.screen.dismiss("sales")
        for _ in range(20_000):
            if app.session.service.code == "sales":
                break
            await asyncio.sleep(0)
        app.session.switch_service("care")
        app.shell.identity_changed()
        for _ in range(20_000):
            assert content_shown(app)
            if len(app.query(MenuViews)) == 1 and app.current_menu_id == "callback_list":
                break
            await asyncio.sleep(0)
        await settle_focus(app, pilot, "callback_list")
        assert len(app.query(MenuViews)) == 1
        assert visible_view(app).session.service.code == "care"
        focus_is_where_the_eye_is(app, "callback_list")


@pytest.mark.parametrize("menu", ["home", "callback_status", "sms_compose"])
@pytest.mark.parametrize("yields", [0, 3, 6, 9])
@pytest.mark.parametrize("order", ["rebuild, then quit", "quit, then rebuild"])
async def test_quitting_while_the_menus_are_rebuilt_waits_for_them_and_exits_cleanly(
    demo_store, menu, yields, order
):
    """The rights change in another process and the user presses Ctrl+Q at once (or the change comes
    while the quit waits for a view still being composed): taken down under a view still being composed,
    the view's (and Textual's Select's) mount handlers would fail on the way out."""
    app = make_app(demo_store, "admin")
    app.SETTLE_LIMIT_S = 60  # a loaded machine composes slowly: the wait must end because composing did
    async with app.run_test(size=(120, 30)) as pilot:
        at_exit: list[tuple[bool, int, bool]] = []
        exit_app = app.exit

        def exit_seen(*args, **kwargs) -> None:  # what the screen holds when the console exits
            at_exit.append((app.composing(), len(app.query(MenuViews)), content_shown(app)))
            exit_app(*args, **kwargs)

        app.exit = exit_seen
        if order == "rebuild, then quit":
            await from_the_menu(app, pilot, menu)
            app.shell.identity_changed()
            assert app.composing()
            for _ in range(yields):
                await asyncio.sleep(0)
            await pilot.press("ctrl+q")
        else:
            app.show_menu(menu)  # composing now

            async def rights_change() -> None:  # seen by the store's poll, which runs in a task of its own
                for _ in range(yields):
                    await asyncio.sleep(0)
                app.shell.identity_changed()

            change = asyncio.create_task(rights_change())
            await pilot.press("ctrl+q")  # the quit waits for the view: the change comes meanwhile
            await change
        await until(pilot, lambda: at_exit)
        assert at_exit == [(False, 1, True)]
    assert app.return_code == 0


@pytest.mark.parametrize("lang", ["en", "ko"])
async def test_filters_keep_room_for_their_values_beside_the_menu_at_80_columns(demo_store, lang):
    """F3 keeps the menu beside the list at 80 columns: the filters go two to a row instead of squeezing
    each choice until its value no longer shows."""
    app = make_app(demo_store, "admin", lang=lang)
    async with app.run_test(size=(80, 24)) as pilot:
        nav = app.query_one(NavMenu)
        await from_the_palette(app, pilot, "callback_list")
        await settle_focus(app, pilot, "callback_list")
        view = visible_view(app)
        await until(pilot, lambda: len(view.query(Select)) == 4)
        assert not view.has_class("-slim")  # the whole width: one row each, as before
        await pilot.press("f3")
        await until(pilot, lambda: nav.display and view.has_class("-slim"))
        await pilot.pause()
        for select in view.query(Select):
            shown = select.query_one("SelectCurrent").size.width
            assert shown >= cell_len(select.prompt) + 2, (select.id, shown)  # the value and its ▼
        # Two lines each, fixed: the choices that join the rows after the first draw move nothing.
        assert [row.size.height for row in view.query(".cb-filters")] == [2, 2]
        await pilot.press("f3")
        await until(pilot, lambda: not nav.display and not view.has_class("-slim"))


@pytest.mark.parametrize("steps", [0, 2, 4, 6, 8, 10, 14, 20])
async def test_a_rebuild_started_while_the_last_one_composes_its_view_wins(demo_store, steps):
    """The rights change twice in a row, the second time while the first rebuild is still composing its
    view: the first must not clear away the second's content area when it finishes."""
    app = make_app(demo_store, "admin")
    async with app.run_test(size=(120, 30)) as pilot:
        await from_the_menu(app, pilot, "callback_status")
        await settle_focus(app, pilot, "callback_status")
        app.shell.identity_changed()
        for _ in range(steps):
            await asyncio.sleep(0)
        app.shell.identity_changed()
        await until(pilot, lambda: not app.composing() and len(app.query(MenuViews)) == 1)
        views = app.shell.views
        assert views.is_attached and app.query_one(MenuViews) is views and content_shown(app)
        assert app.current_menu_id == "callback_status"
