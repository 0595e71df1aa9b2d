"""Wallboard views: rotation with an injected clock, the disconnected banner, kiosk, snapshots."""

from __future__ import annotations

import math
import time

import pytest
from textual.geometry import Region
from textual.widgets import ContentSwitcher, Digits
from textual.widgets._footer import FooterKey

from contiple_tui import config
from contiple_tui.app_base import utc_now
from contiple_tui.cti.client import CtiClient
from contiple_tui.i18n import set_language, t
from contiple_tui.kiosk import WallboardApp
from contiple_tui.screens.agent_detail import AgentDetailScreen
from contiple_tui.widgets.board import BoardTable
from contiple_tui.widgets.key_footer import KeyFooter
from contiple_tui.widgets.live_board import LiveBoard
from contiple_tui.widgets.wallboard_panel import WallboardPanel

from .apphelpers import SCREEN_SIZES, make_app, settle, size_id, static_text, until
from .conftest import FIXED_NOW
from .ctidata import T0, event
from .ctiserver import ScriptedCti, ThreadedCti


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def wait_live(pilot, client, timeout=15.0):
    """The client live and what it brought handled by the screen."""
    await until(pilot, lambda: client.live, timeout)
    await settle(pilot)


@pytest.fixture
async def cti():
    server = ScriptedCti(time_scale=0.0001)  # frozen server clock: stable longest-wait figures
    await server.start()
    client = CtiClient(server.url, backoff_initial=0.05, backoff_max=0.2)
    yield server, client
    await client.stop()
    await server.stop()


def table_text(table) -> list[list[str]]:
    return [[str(getattr(c, "plain", c)) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_services_board_shows_product_columns(demo_store, cti):
    server, client = cti
    app = make_app(demo_store, "admin", lang="ko", cti=client)
    async with app.run_test(size=(120, 40)) as pilot:
        app.show_menu("wallboard_services")
        await wait_live(pilot, client)
        table = app.query_one("#services", LiveBoard)
        labels = [str(col.label) for col in table.columns.values()]
        assert labels == [
            "서비스명",
            "대기 고객",
            "인입",
            "응대",
            "포기",
            "응대율",
            "서비스 레벨",
            "최장 대기",
        ]
        rows = table_text(table)
        assert rows[0] == ["고객센터", "2", "100", "90", "8", "90.0%", "▲72.0%", "▲01:00"]
        assert rows[1] == ["영업팀", "0", "0", "0", "0", "—", "—", "—"]
        assert rows[2][0] == "합계"


async def test_agents_board_columns_in_english(demo_store, cti):
    server, client = cti
    app = make_app(demo_store, "admin", lang="en", cti=client)
    async with app.run_test(size=(120, 40)) as pilot:
        app.show_menu("wallboard_agents")
        await wait_live(pilot, client)
        table = app.query_one("#agents", LiveBoard)
        labels = [str(col.label) for col in table.columns.values()]
        assert labels == [
            "Service",
            "Waiting",
            "LOGIN",
            "Ready",
            "Talking",
            "O/B",
            "Break/ACW",
            "Answer rate",
            "Service level",
        ]
        assert table_text(table)[0][:7] == ["고객센터", "2", "4", "1", "2", "1", "0"]


async def test_overview_rotates_on_the_injected_clock(demo_store, cti):
    server, client = cti
    clock = FakeMonotonic()
    set_language("en")
    cfg = config.load(data_dir=demo_store.path.parent, environ={}, lang="en")
    app = WallboardApp(
        store=demo_store,
        client=client,
        services=demo_store.services.list(),
        config=cfg,
        view="overview",
        interval=5,
        clock=lambda: FIXED_NOW,
        monotonic=clock,
    )
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_live(pilot, client)
        panel = app.query_one(WallboardPanel)
        switcher = panel.query_one(ContentSwitcher)
        assert switcher.current == "services"
        clock.now += 4.9
        panel.tick()  # what the 20 Hz timer does, without waiting for it
        await pilot.pause()
        assert switcher.current == "services"
        clock.now += 0.2
        panel.tick()  # what the 20 Hz timer does, without waiting for it
        await pilot.pause()
        assert switcher.current == "agents"
        await pilot.press("space")  # pause rotation
        clock.now += 60
        panel.tick()  # what the 20 Hz timer does, without waiting for it
        await pilot.pause()
        assert switcher.current == "agents"
        await pilot.press("v")  # flip by hand
        assert switcher.current == "services"
        await pilot.press("space")
        clock.now += 5.1
        panel.tick()  # what the 20 Hz timer does, without waiting for it
        await pilot.pause()
        assert switcher.current == "agents"


async def test_banner_on_disconnect_and_gone_on_reconnect(demo_store, cti):
    server, client = cti
    app = make_app(demo_store, "admin", lang="ko", cti=client)
    async with app.run_test(size=(100, 30)) as pilot:
        app.show_menu("wallboard_services")
        await wait_live(pilot, client)
        banner = app.query_one("#wb-banner")
        panel = app.query_one(WallboardPanel)
        assert not banner.display and not panel.has_class("-stale")
        port = server.port
        await server.stop()
        await until(pilot, lambda: banner.display)
        assert banner.display and panel.has_class("-stale")
        text = static_text(banner)
        assert "연결 끊김" in text and "10:30:00" in text  # last good data, in the service's time zone
        # Not connected: offline, or already retrying (the client reconnects every 0.05-0.2 s here, so
        # a busy machine may catch it between attempts or during one).
        header = static_text(app.query_one("#cti"))
        assert "연결 안 됨" in header or "연결 중" in header
        await server.start(port)
        await wait_live(pilot, client)
        await until(pilot, lambda: not banner.display and not panel.has_class("-stale"))


async def test_agent_detail_from_the_agent_board(demo_store, cti):
    server, client = cti
    app = make_app(demo_store, "admin", lang="ko", cti=client)
    async with app.run_test(size=(100, 30)) as pilot:
        app.show_menu("wallboard_agents")
        app.query_one("#view-wallboard_agents").focus()
        await wait_live(pilot, client)
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, AgentDetailScreen)
        rows = table_text(app.screen.query_one(BoardTable))
        assert rows[0][2] == "대기중"  # ready agents first
        assert {r[0] for r in rows} >= {"한지민", "서서윤"}
        # Each header sits where its values do: the text columns' on the left, the time's on the right.
        table = app.screen.query_one(BoardTable)
        justify = {str(key.value): column.label.justify for key, column in table.columns.items()}
        assert justify == {"name": "left", "agent_id": "left", "state": "left", "time": "right"}
        first = table.get_row_at(0)
        assert first[3].justify == "right" and all(getattr(c, "justify", None) != "right" for c in first[:3])
        # The dialog's own footer, over the console's: its keys, not those of the board behind it.
        await pilot.pause()
        keys = [key.description for key in app.screen.query_one(KeyFooter).query(FooterKey)]
        assert keys == [t("key.close")]
        await pilot.press("escape")
        assert not isinstance(app.screen, AgentDetailScreen)


async def test_agent_detail_in_the_kiosk_and_the_popout_names_agents(demo_store, cti, monkeypatch):
    """The kiosk knows names from its store, a board popped out of the console from the session's
    directory: both show the agents by name, not by CTI id."""
    server, client = cti
    set_language("ko")
    cfg = config.load(data_dir=demo_store.path.parent, environ={}, lang="ko")
    kiosk = WallboardApp(
        store=demo_store, client=client, services=demo_store.services.list(), config=cfg, view="agents"
    )
    async with kiosk.run_test(size=(120, 40)) as pilot:
        await wait_live(pilot, client)
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(kiosk.screen, AgentDetailScreen)
        assert {r[0] for r in table_text(kiosk.screen.query_one(BoardTable))} >= {"한지민", "서서윤"}
        # A footer of its own where the board has one (not on a wall TV in kiosk mode).
        assert bool(kiosk.screen.query(KeyFooter)) == bool(kiosk.screen_stack[0].query(KeyFooter))
    await client.stop()
    monkeypatch.delenv("TMUX", raising=False)  # a full-screen popout, not a tmux window
    console_client = CtiClient(server.url, backoff_initial=0.05, backoff_max=0.2)
    app = make_app(demo_store, "admin", lang="ko", cti=console_client)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            app.show_menu("wallboard_agents")
            await wait_live(pilot, console_client)
            app.query_one("#view-wallboard_agents").action_popout()
            await pilot.pause()
            await pilot.press("a")
            await pilot.pause()
            assert isinstance(app.screen, AgentDetailScreen)
            assert {r[0] for r in table_text(app.screen.query_one(BoardTable))} >= {"한지민", "서서윤"}
    finally:
        await console_client.stop()


async def test_kiosk_needs_three_ctrl_q(demo_store, cti):
    server, client = cti
    app = kiosk_app(demo_store, client)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_live(pilot, client)
        # the headline refreshes twice a second
        await until(pilot, lambda: app.query_one("#headline-waiting", Digits).value == "2")
        assert app.query_one("#kiosk-headline").display
        assert app.query_one("#headline-waiting", Digits).value == "2"
        await pilot.press("ctrl+q")
        await pilot.press("ctrl+q")
        assert app.is_running
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert not app.is_running


async def test_kiosk_board_is_big_when_it_fits_and_small_when_not(demo_store, cti):
    """At 160x45 every number of the board is three lines tall (marks included), the service name on the
    middle line; at 80x24 the board is one line per row and the headline numbers are still big."""
    from contiple_tui.widgets.big_board import BigBoard

    server, client = cti
    app = kiosk_app(demo_store, client, view="services")
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_live(pilot, client)
        panel = app.query_one(WallboardPanel)
        switcher = app.query_one("#wb-switcher", ContentSwitcher)
        await until(pilot, lambda: switcher.current == "services-big")
        board = app.query_one("#services-big", BigBoard)
        name, waiting, service_level = (
            board.query_one(f".big-{key}") for key in ("name", "waiting", "service_level")
        )
        assert waiting.row_height >= 4  # three lines and at least a blank one
        first = board.header_height
        names = [name.render_line(first + line).text for line in range(3)]
        assert "고객센터" in names[1] and "고객센터" not in names[0] + names[2]
        assert [waiting.render_line(first + line).text.strip() for line in range(3)] == [
            "╶─╮",
            "┌─┘",
            "╰─╴",
        ]  # 2
        assert (
            "▲▲▲" in service_level.render_line(first + 1).text
        )  # the warning mark, big: it reads without colour
        await server.send(event(11, "call_queued", service="cs", call_id="n1", enqueued_at=T0))
        await until(pilot, lambda: waiting.render_line(first).text.strip() == "╶─╮")  # 3
        live = _colours(waiting.render_lines(Region(0, first, waiting.size.width, 3)))
        await server.stop()  # the big numbers dim with the banner, as the small board's do
        await until(pilot, lambda: app.query_one("#wb-banner").display)
        await pilot.pause()
        dimmed = waiting.render_lines(Region(0, first, waiting.size.width, 3))
        assert "─┤" in dimmed[1].text and _colours(dimmed).isdisjoint(live)  # still 3, dimmed
        await pilot.resize_terminal(80, 24)
        await until(pilot, lambda: switcher.current == "services")
        assert not panel.big and table_text(app.query_one("#services", LiveBoard))[0][1] == "3"
        assert app.query_one("#kiosk-headline").display


async def test_paced_kiosk_draws_one_picture_a_second_on_the_beat(demo_store, cti):
    """The kiosk as shipped (refresh 1 s): a change of the feed waits for the next beat of the wall
    clock; then the board, the headline and the clock change together."""
    from contiple_tui.widgets.big_board import BigBoard

    server, client = cti
    app = kiosk_app(demo_store, client, view="services", refresh=1.0, clock=utc_now)
    assert app.config.kiosk_refresh == app.refresh_s  # the shipped default
    # (the real wall clock: the test looks only at when the clock's text changes)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_live(pilot, client)
        board = app.query_one("#services-big", BigBoard)
        waiting = board.query_one(".big-waiting")
        middle = board.header_height + 1
        digits = app.query_one("#headline-waiting", Digits)
        clock = app.query_one("#kiosk-clock")
        await until(pilot, lambda: waiting.render_line(middle).text.strip() == "┌─┘")  # 2 waiting
        assert digits.value == "2"
        await until(pilot, lambda: 0.05 < time.time() % 1 < 0.5)  # the next beat most of a second away
        beat = math.floor(time.time()) + 1
        seq = client.model.seq
        await server.send(event(11, "call_queued", service="cs", call_id="n1", enqueued_at=T0))
        await until(pilot, lambda: client.model.seq != seq)  # taken in by the client
        before = str(clock.render())
        if time.time() < beat - 0.1:  # (a busy machine may have passed the beat already)
            assert digits.value == "2" and waiting.render_line(middle).text.strip() == "┌─┘"
        await until(pilot, lambda: digits.value == "3", timeout=5)
        assert time.time() >= beat  # drawn on the beat, not before
        assert waiting.render_line(middle).text.strip() == "─┤"  # the board in the same picture
        assert str(clock.render()) != before  # and the clock


async def test_kiosk_can_show_one_service_per_page(demo_store, cti):
    server, client = cti
    services = demo_store.services.list()
    app = kiosk_app(demo_store, client, view="services", interval=3600, per_service=True)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_live(pilot, client)
        board = app.query_one("#services", LiveBoard)
        await until(pilot, lambda: board.row_count >= 1)
        assert (
            table_text(board)[0][0] == services[0].name and board.row_count == 2
        )  # the service and its total
        assert f"(1/{len(services)})" in static_text(app.query_one("#kiosk-title"))
        app.next_page()
        await until(pilot, lambda: table_text(board)[0][0] != services[0].name)
        assert f"(2/{len(services)})" in static_text(app.query_one("#kiosk-title"))


def kiosk_app(demo_store, client, monotonic=None, view="overview", **options):
    """The kiosk in English on a fixed wall clock (``options`` override, e.g. ``refresh``, ``clock``)."""
    set_language("en")
    cfg = config.load(data_dir=demo_store.path.parent, environ={}, lang="en")
    extra = {} if monotonic is None else {"monotonic": monotonic}
    settings = {"interval": 5, "clock": lambda: FIXED_NOW} | extra | options
    return WallboardApp(
        store=demo_store,
        client=client,
        services=demo_store.services.list(),
        config=cfg,
        view=view,
        kiosk=True,
        **settings,
    )


async def test_board_rotated_in_shows_what_changed_while_it_was_away(demo_store, cti):
    """Only the board on screen follows the feed; the other one is brought up to date as it is shown."""
    server, client = cti
    clock = FakeMonotonic()
    app = kiosk_app(demo_store, client, clock)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_live(pilot, client)
        services = app.query_one("#services", LiveBoard)
        agents = app.query_one("#agents", LiveBoard)
        assert table_text(services)[0][1] == "2"
        await server.send(event(11, "call_queued", service="cs", call_id="n1", enqueued_at=T0))
        await until(pilot, lambda: table_text(services)[0][1] == "3")
        clock.now += 5.1
        app.query_one(WallboardPanel).tick()
        assert app.query_one(WallboardPanel).shown == "agents"
        assert app.query_one("#wb-switcher", ContentSwitcher).current == "agents-big"  # big numbers: they fit
        assert table_text(agents)[0][:2] == ["고객센터", "3"]  # waiting, as of the event just now


async def test_board_in_a_hidden_menu_does_no_work(demo_store, cti):
    server, client = cti
    app = make_app(demo_store, "admin", lang="en", cti=client)
    async with app.run_test(size=(120, 40)) as pilot:
        app.show_menu("wallboard_services")
        await wait_live(pilot, client)
        panel = app.query_one(WallboardPanel)
        fills = []
        original = panel._fill
        panel._fill = lambda c: (fills.append(c.model.seq), original(c))
        await server.send(event(11, "call_queued", service="cs", call_id="n1", enqueued_at=T0))
        await until(pilot, lambda: 11 in fills)
        app.show_menu("home")
        await pilot.pause()
        fills.clear()
        await server.send(event(12, "call_queued", service="cs", call_id="n2", enqueued_at=T0))
        await until(pilot, lambda: client.model.seq == 12)
        await pilot.pause(1.2)  # a tick of the longest wait, too
        assert fills == []
        app.show_menu("wallboard_services")
        await until(pilot, lambda: 12 in fills)
        assert table_text(app.query_one("#services", LiveBoard))[0][1] == "4"


def _colours(strips) -> set[str]:
    return {str(segment.style.color) for strip in strips for segment in strip if segment.text.strip()}


async def test_numbers_dim_while_disconnected(demo_store, cti):
    """The banner comes with dimmed numbers: the boards and the kiosk's headline digits."""
    server, client = cti
    app = kiosk_app(demo_store, client, view="services")
    async with app.run_test(size=(100, 30)) as pilot:  # the board in one line per row (too narrow for big)
        await wait_live(pilot, client)
        board = app.query_one("#services", LiveBoard)
        digits = app.query_one("#headline-waiting", Digits)
        headline = app.query_one("#kiosk-headline")
        await until(pilot, lambda: digits.value == "2" and not headline.has_class("-stale"))
        await pilot.pause()
        row = board.region.height - 1  # the total

        def board_row():
            return board.render_lines(Region(0, row, board.size.width, 1))

        def headline_digits():
            return digits.render_lines(Region(0, 0, digits.size.width, digits.size.height))

        live_board, live_digits = _colours(board_row()), _colours(headline_digits())
        assert "2" in board_row()[0].text
        await server.stop()
        await until(pilot, lambda: app.query_one("#wb-banner").display and headline.has_class("-stale"))
        await pilot.pause()
        assert "2" in board_row()[0].text  # still shown, dimmed
        assert _colours(board_row()).isdisjoint(live_board)
        assert _colours(headline_digits()).isdisjoint(live_digits)


async def test_markup_in_names_is_shown_as_text(demo_store):
    server = ScriptedCti(time_scale=0.0001)
    server.snapshot["services"][0]["name"] = "[red]hack[/red]"
    await server.start()
    client = CtiClient(server.url)
    from contiple_tui.domain.models import Service

    services = [Service(id=99, code="cs", name="")]  # unknown to the store: the CTI's name is shown
    cfg = config.load(data_dir=demo_store.path.parent, environ={}, lang="en")
    app = WallboardApp(store=demo_store, client=client, services=services, config=cfg, view="services")
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_live(pilot, client)
            assert table_text(app.query_one("#services", LiveBoard))[0][0] == "[red]hack[/red]"
    finally:
        await client.stop()
        await server.stop()


# -- snapshots ------------------------------------------------------------------------------------

SIZES = SCREEN_SIZES


@pytest.mark.parametrize("size", SIZES, ids=size_id)
@pytest.mark.parametrize("lang", ["ko", "en"])
@pytest.mark.parametrize("menu", ["wallboard_overview", "wallboard_services", "wallboard_agents"])
def test_wallboard_snapshots(snap_compare, demo_store, menu, lang, size):
    with ThreadedCti(time_scale=0.0001) as server:
        client = CtiClient(server.url)
        app = make_app(demo_store, "admin", lang=lang, cti=client)

        async def run_before(pilot):
            pilot.app.show_menu(menu)
            await wait_live(pilot, client)
            await pilot.pause(0.2)  # the capture: the coalesced redraw lands

        assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", [(80, 24), (160, 45), (240, 67)], ids=size_id)
@pytest.mark.parametrize("lang", ["ko", "en"])
def test_kiosk_snapshot(snap_compare, demo_store, lang, size):
    with ThreadedCti(time_scale=0.0001) as server:
        client = CtiClient(server.url)
        set_language(lang)
        cfg = config.load(data_dir=demo_store.path.parent, environ={}, lang=lang)
        app = WallboardApp(
            store=demo_store,
            client=client,
            services=demo_store.services.list(),
            config=cfg,
            view="services",
            kiosk=True,
            clock=lambda: FIXED_NOW,
        )

        async def run_before(pilot):
            await wait_live(pilot, client)
            await pilot.pause(0.4)  # the capture: the coalesced redraw lands

        assert snap_compare(app, terminal_size=size, run_before=run_before)


def test_disconnected_snapshot(snap_compare, demo_store):
    """No CTI address at all: the banner says so, in Korean."""
    app = make_app(demo_store, "admin", lang="ko")

    async def run_before(pilot):
        pilot.app.show_menu("wallboard_services")
        await pilot.pause(0.2)  # the capture: the banner drawn

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


async def test_the_kiosks_agents_dialog_shows_no_keys_as_the_wall_tv_does_not(demo_store, cti):
    _server, client = cti
    app = kiosk_app(demo_store, client, view="agents")
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_live(pilot, client)
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, AgentDetailScreen))
        await pilot.pause()
        assert app.screen.query(BoardTable) and not app.screen_stack[0].query(KeyFooter)
        assert not app.screen.query(KeyFooter)
