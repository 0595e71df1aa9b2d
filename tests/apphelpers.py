"""Building the real console for Pilot and snapshot tests: real store, frozen clock."""

from __future__ import annotations

from contextlib import asynccontextmanager

from contiple_tui import config
from contiple_tui.core.session import Session, resolve_user
from contiple_tui.i18n import set_language

from .conftest import FIXED_NOW

# Every screen's snapshots are taken at these sizes (issue 11): a thin terminal, a laptop, a large
# monitor, a wide one.
SCREEN_SIZES = [(80, 24), (120, 30), (160, 45), (200, 50)]


def size_id(size: tuple[int, int]) -> str:
    return f"{size[0]}x{size[1]}"


def make_app(store, login: str = "admin", lang: str = "en", cti=None, **settings):
    from contiple_tui.app import ContipleApp

    set_language(lang)
    cfg = config.load(data_dir=store.data_dir, environ={}, lang=lang)
    for name, value in settings.items():
        setattr(cfg, name, value)
    session = Session(store, resolve_user(store, login))
    return ContipleApp(session=session, config=cfg, clock=lambda: FIXED_NOW, cti=cti)


@asynccontextmanager
async def cti_console(store, server, login: str = "admin", size: tuple[int, int] = (100, 30)):
    """The console in English with a client of the scripted CTI ``server`` (started here), once live;
    the client and the server stopped after."""
    from contiple_tui.cti.client import CtiClient

    await server.start()
    client = CtiClient(server.url)
    app = make_app(store, login, lang="en", cti=client)
    try:
        async with app.run_test(size=size) as pilot:
            await until(pilot, lambda: client.live)
            yield app, pilot
    finally:
        await client.stop()
        await server.stop()


def nav_ids(app) -> list[str]:
    from contiple_tui.widgets.nav import NavMenu

    nav = app.query_one(NavMenu)
    return [
        nav.get_option_at_index(i).id
        for i in range(nav.option_count)
        if not nav.get_option_at_index(i).disabled
    ]


def static_text(widget) -> str:
    """The plain text a Static shows, whether it holds a string, markup or a rich renderable."""
    import io

    from rich.console import Console

    console = Console(width=200, record=True, file=io.StringIO())
    console.print(widget.content)
    return console.export_text()


async def workers_done(app) -> None:
    """Wait until the app's workers are done. A worker cancelled meanwhile (an exclusive search replaced
    by a newer one) is not a failure: wait for the rest."""
    from textual.worker import WorkerCancelled

    for _ in range(50):
        try:
            await app.workers.wait_for_complete()
            return
        except WorkerCancelled:
            continue


async def settle(pilot, rounds: int = 1, pause: float | None = None) -> None:
    """The app's workers done and what they posted handled: a turn of the event loop first (a key's
    handler may start a worker), then ``rounds`` times (a worker's result may start another) the
    workers awaited and a pause (one turn of the loop unless ``pause`` seconds are given)."""
    await pilot.pause()
    for _ in range(rounds):
        await workers_done(pilot.app)
        await pilot.pause(pause)


async def until(pilot, condition, timeout: float = 20.0) -> None:
    """Wait for a condition, generously: CI machines are slow and busy (the time only counts on failure)."""
    for _ in range(int(timeout / 0.05)):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("condition not reached in time")


async def open_callback_list(pilot):
    """Open the callback list and wait for its first rows and the workers behind them; its table."""
    from contiple_tui.widgets.callback_table import CallbackTable

    app = pilot.app
    app.show_menu("callback_list")
    await until(pilot, lambda: app.query(CallbackTable) and app.query_one(CallbackTable).row_count > 0)
    await workers_done(app)
    return app.query_one(CallbackTable)


class StorePolls:
    """Counts the console's looks at the store for changes (each call of ConsoleService.changes), so a
    test waits for polls to have happened instead of for a time: "after two polls nothing reloaded"."""

    def __init__(self, app) -> None:
        self.count = 0
        service = app.console_service
        original = service.changes

        def counted():
            try:
                return original()
            finally:
                self.count += 1

        service.changes = counted

    async def passed(self, pilot, polls: int = 2) -> None:
        """``polls`` more looks at the store, the first of which began after this call (hence 2 by
        default: one may be under way)."""
        target = self.count + polls
        await until(pilot, lambda: self.count >= target)


async def palette_offers(pilot, title: str) -> None:
    """The command palette's search has finished with ``title`` highlighted (Enter opens it)."""
    from textual.command import CommandList, CommandPalette

    def offered() -> bool:
        screen = pilot.app.screen
        if not isinstance(screen, CommandPalette):
            return False
        results = screen.query_one(CommandList)
        option = results.highlighted_option
        return (
            option is not None
            and title.lower() in str(getattr(option.prompt, "plain", option.prompt)).lower()
        )

    await until(pilot, offered)
