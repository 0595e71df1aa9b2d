"""The wallboard (전광판): 3-2 by service and 3-3 by agent, live from the CTI model.

Redraws at most 20 times a second and only when the model changed (or once a second, for the ticking
longest wait), or, paced (the kiosk), only when its owner calls ``tick``; shows a "Disconnected" banner
with the time of the last good data and dims the numbers whenever the feed is down or stale, so a wall
TV never shows frozen numbers as if they were live.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Static

from contiple_tui.core import wallboard as wb
from contiple_tui.cti.client import CtiClient, LinkState
from contiple_tui.domain.models import Service, Thresholds
from contiple_tui.i18n import t
from contiple_tui.safe_text import clean
from contiple_tui.widgets.big_board import BigBoard
from contiple_tui.widgets.link_reason import link_reason
from contiple_tui.widgets.live_board import LiveBoard
from contiple_tui.widgets.safe import cut
from contiple_tui.widgets.textual_gaps import fail_app

# (key, label, minimum width): sized so both boards fit an 80-column terminal.
# Widths hold the widest value each can take: "◆9:59:59", "◆100.0%", 999,999 calls.
SERVICE_COLUMNS = [
    ("name", "wb.col.service", 8),
    ("waiting", "wb.col.waiting", 5),
    ("inbound", "wb.col.inbound", 6),
    ("answered", "wb.col.answered", 6),
    ("abandoned", "wb.col.abandoned", 6),
    ("answer_rate", "wb.col.answer_rate", 6),
    ("service_level", "wb.col.service_level", 7),
    ("longest_wait", "wb.col.longest_wait", 8),
]
AGENT_COLUMNS = [
    ("name", "wb.col.service", 8),
    ("waiting", "wb.col.waiting", 5),
    ("login", "wb.col.login", 5),
    ("ready", "wb.col.ready", 4),
    ("talking", "wb.col.talking", 4),
    ("outbound", "wb.col.outbound", 3),
    ("break_acw", "wb.col.break_acw", 4),
    ("answer_rate", "wb.col.answer_rate", 6),
    ("service_level", "wb.col.service_level", 7),
]
VIEWS = ("services", "agents")
# Baseline for bench/bench_wallboard_traffic.py only: repaint the whole screen on every update, to
# show what the cell-by-cell updates save.
FULL_REPAINT = os.environ.get("CONTIPLE_TUI_BENCH_FULL_REPAINT") == "1"
# Baseline for bench/bench_kiosk_board.py only: the kiosk's board in one line per row, as before it grew.
SMALL_BOARD = os.environ.get("CONTIPLE_TUI_BENCH_SMALL_BOARD") == "1"
# Redraws follow the feed: a change schedules one redraw COALESCE_S later (a burst of events costs one
# redraw); a slow tick keeps waits ticking, rotation on time and the banner honest when all is quiet.
COALESCE_S = 0.03
TICK_S = 0.25
TOTAL_KEY = "__total__"

# Not colour alone: warning and critical also carry a symbol and bold/reverse, for 16-colour and
# NO_COLOR terminals.
_MARK = {wb.Level.OK: ("", ""), wb.Level.WARN: ("▲", "bold yellow"), wb.Level.CRIT: ("◆", "bold reverse red")}


# Cached: a redraw asks for the same few hundred cells again and again, and handing the board the very
# same (never mutated) Text objects makes its "did this row change?" test an identity check.
@lru_cache(maxsize=1024)
def _num(value: int | str, level: wb.Level = wb.Level.OK) -> Text:
    mark, style = _MARK[level]
    return Text(f"{mark}{value}" if mark else str(value), style=style, justify="right")


@lru_cache(maxsize=256)
def _name(text: str, bold: bool = False) -> Text:
    return Text(
        clean(text, 200), style="bold" if bold else "", no_wrap=True, overflow="ellipsis"
    )  # plain: never markup


@dataclass
class BoardScope:
    """Which services this board shows, with the names and thresholds the store knows for them."""

    codes: list[str]
    names: dict[str, str]
    thresholds: dict[str, Thresholds]

    @classmethod
    def from_services(cls, services: list[Service]) -> BoardScope:
        return cls(
            codes=[s.code for s in services],
            names={s.code: s.name for s in services},
            thresholds={s.code: s.thresholds for s in services},
        )


class WallboardPanel(Vertical):
    """``view``: overview (rotates), services or agents."""

    class ViewChanged(Message):
        def __init__(self, view: str) -> None:
            super().__init__()
            self.view = view

    class TurnedCritical(Message):
        """A value crossed into critical (the app may ring the bell): one waiting is enough."""

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, WallboardPanel.TurnedCritical)

    def __init__(
        self,
        client: CtiClient | None,
        scope: BoardScope,
        *,
        view: str = "overview",
        interval: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        scalable: bool = False,
        pace: float = 0.0,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        # Paced: the owner calls ``tick`` every ``pace`` seconds and nothing else redraws (a wall TV's
        # picture changes once a second, all at once); 0: the feed's updates redraw, coalesced.
        self.pace = pace
        # The boards grow to big numbers when they fit (the kiosk).
        self.scalable = scalable and not SMALL_BOARD
        self.big = False
        self.client = client
        self.scope = scope
        self.view = view
        self.interval = interval
        self.clock = clock
        self.rotating = view == "overview"
        self.shown = "services" if view in ("overview", "services") else "agents"
        self._switched_at = clock()
        self._drawn_version = -1
        self._drawn_second = -1
        self._drawn_live: bool | None = None
        self._critical: set[tuple[str, str]] = set()

    def compose(self) -> ComposeResult:
        yield Static(id="wb-banner", classes="wb-banner")
        with ContentSwitcher(initial=self.shown, id="wb-switcher"):
            yield LiveBoard([(k, t(label), w) for k, label, w in SERVICE_COLUMNS], id="services")
            yield LiveBoard([(k, t(label), w) for k, label, w in AGENT_COLUMNS], id="agents", cursor=True)
            if self.scalable:  # the same boards in big numbers, shown when they fit (the kiosk)
                yield BigBoard([(k, t(label)) for k, label, _ in SERVICE_COLUMNS], id="services-big")
                yield BigBoard([(k, t(label)) for k, label, _ in AGENT_COLUMNS], id="agents-big")
        yield Static(id="wb-caption", classes="wb-caption")

    def on_mount(self) -> None:
        self.redraw(force=True)
        self._pending: asyncio.TimerHandle | None = None
        self._unsubscribe: Callable[[], None] | None = None
        if self.pace:
            return
        self.set_interval(TICK_S, self.tick)
        # The coalescing timer is a plain event-loop timer run in this widget's context: a Textual
        # `set_timer` per redraw costs a task, a message and two signature inspections each time.
        self._loop_context = contextvars.copy_context()
        self._unsubscribe = self.client.subscribe(self._feed_changed) if self.client is not None else None

    def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None

    def _feed_changed(self, client, what) -> None:
        if self._pending is None:
            self._pending = asyncio.get_running_loop().call_later(
                COALESCE_S, self._flush, context=self._loop_context
            )

    def _flush(self) -> None:
        self._pending = None
        try:
            if self._displayed():
                self.redraw()
        except Exception as error:  # noqa: BLE001 - as in a Textual handler: the app shows it and exits
            fail_app(self.app, error)

    def _displayed(self) -> bool:
        """Whether the panel is part of its screen's picture: it and every container above it displayed.

        What ``is_on_screen`` answers (a board in a hidden menu does no work), without its cost:
        ``is_on_screen`` looks the widget up in the compositor's map of *all* widgets, which Textual
        rebuilds after every layout, i.e. a full arrangement of the screen, several times a second.
        """
        node = self
        while not isinstance(node, Screen):
            if node is None or not node.display:
                return False
            node = node.parent
        return node.is_attached

    def on_show(self) -> None:
        self.redraw()  # back from a hidden menu: current at once, not at the next tick

    def invalidate(self) -> None:
        """Redraw in full when next on screen (the scope changed, say, while the panel was hidden)."""
        self._drawn_version = -1
        if self._displayed():
            self.redraw(force=True)

    # -- rotation ------------------------------------------------------------------------------

    def tick(self) -> None:
        # Paced ticks come on the second: a turn due a hair after one is made at it, not a pace later.
        if self.rotating and self.clock() - self._switched_at >= self.interval - self.pace / 2:
            self.flip()
        if self._displayed():  # a board in a hidden menu does no work
            self.redraw()

    def flip(self) -> None:
        self.show("agents" if self.shown == "services" else "services")

    def show(self, which: str) -> None:
        self.shown = which
        self._switched_at = self.clock()
        client = self.client
        if client is not None and client.model.has_data:
            self._fill(client)  # only the shown board is kept current: bring this one up to date first
        self._show_board()
        self.post_message(self.ViewChanged(which))
        self._caption()

    def toggle_rotation(self) -> None:
        self.rotating = not self.rotating
        self._switched_at = self.clock()
        self._caption()

    def _show_board(self) -> None:
        """Show the board of ``shown``, in big numbers when they fit (``_fill`` decides)."""
        switcher = self.query_one("#wb-switcher", ContentSwitcher)
        wanted = f"{self.shown}-big" if self.scalable and self.big else self.shown
        if switcher.current != wanted:
            switcher.current = wanted

    def on_resize(self) -> None:
        if self.scalable and self.client is not None and self.client.model.has_data:
            self.call_after_refresh(self._fill, self.client)  # the room changed: big or not, laid out anew

    @property
    def current_table(self) -> LiveBoard:
        return self.query_one(f"#{self.shown}", LiveBoard)

    # -- drawing -------------------------------------------------------------------------------

    def redraw(self, force: bool = False) -> None:
        client = self.client
        live = client is not None and client.boards_live
        version = client.model.version if client else 0
        second = int(time.monotonic())
        if (
            not force
            and version == self._drawn_version
            and live == self._drawn_live
            and second == self._drawn_second
        ):
            return
        self._drawn_version, self._drawn_live, self._drawn_second = version, live, second
        self._banner(live)
        self.set_class(not live, "-stale")
        if client is not None and client.model.has_data:
            self._fill(client)
        self._caption()
        if FULL_REPAINT:
            self.screen.refresh(repaint=True, layout=True)

    def _banner(self, live: bool) -> None:
        banner = self.query_one("#wb-banner", Static)
        banner.display = not live
        if not live:
            _update(banner, disconnected_text(self.client, self._timezone()))

    def _timezone(self) -> str:
        if self.client is not None:
            for code in self.scope.codes:
                live = self.client.model.services.get(code)
                if live is not None:
                    return live.timezone
        return "Asia/Seoul"

    def _fill(self, client: CtiClient) -> None:
        """Bring the shown board up to date (the hidden one is filled when it is shown, in ``show``)."""
        model, scope = client.model, self.scope
        now = client.server_now()
        critical: set[tuple[str, str]] = set()
        # Service rows are always worked out: a value turning critical rings the bell on either board.
        rows = wb.service_rows(model, scope.codes, scope.names, now)
        table_rows = []
        for row in rows + ([wb.service_totals(rows, model)] if rows else []):
            total = row.service == ""
            limits = scope.thresholds.get(row.service, Thresholds())
            levels = (
                (wb.Level.OK,) * 3
                if total
                else (
                    wb.waiting_alert(limits, row.waiting),
                    wb.service_level_alert(limits, row.service_level),
                    wb.longest_wait_alert(limits, row.longest_wait_s),
                )
            )
            for metric, level in zip(("waiting", "service_level", "longest_wait"), levels):
                if level is wb.Level.CRIT:
                    critical.add((row.service, metric))
            table_rows.append(
                (
                    TOTAL_KEY if total else row.service,
                    (
                        _name(t("wb.total") if total else row.name, bold=total),
                        _num(row.waiting, levels[0]),
                        _num(row.inbound),
                        _num(row.answered),
                        _num(row.abandoned),
                        _num(wb.format_rate(row.answer_rate)),
                        _num(wb.format_rate(row.service_level), levels[1]),
                        _num(wb.format_duration(row.longest_wait_s), levels[2]),
                    ),
                )
            )
        rows = table_rows if self.shown == "services" else self._agent_table(model)
        self.query_one(f"#{self.shown}", LiveBoard).set_rows(rows)
        if self.scalable:
            switcher = self.query_one("#wb-switcher", ContentSwitcher)
            self.big = self.query_one(f"#{self.shown}-big", BigBoard).show_rows(rows, switcher.size)
            self._show_board()

        if critical - self._critical and self._displayed():
            self.post_message(self.TurnedCritical())
        self._critical = critical

    def _agent_table(self, model) -> list[tuple[str, tuple[Text, ...]]]:
        scope = self.scope
        arows = wb.agent_rows(model, scope.codes, scope.names)
        agent_table = []
        for row in arows + ([wb.agent_totals(arows, model)] if arows else []):
            total = row.service == ""
            limits = scope.thresholds.get(row.service, Thresholds())
            agent_table.append(
                (
                    TOTAL_KEY if total else row.service,
                    (
                        _name(t("wb.total") if total else row.name, bold=total),
                        _num(row.waiting, wb.Level.OK if total else wb.waiting_alert(limits, row.waiting)),
                        _num(row.login),
                        _num(row.ready),
                        _num(row.talking),
                        _num(row.outbound),
                        _num(row.break_acw),
                        _num(wb.format_rate(row.answer_rate)),
                        _num(
                            wb.format_rate(row.service_level),
                            wb.Level.OK if total else wb.service_level_alert(limits, row.service_level),
                        ),
                    ),
                )
            )
        return agent_table

    def _caption(self) -> None:
        parts = [t(f"wb.view.{self.shown}")]
        thresholds = {}
        if self.client is not None:
            for code in self.scope.codes:
                live = self.client.model.services.get(code)
                if live is not None:
                    thresholds[self.scope.names.get(code, code)] = live.sl_threshold_s
        if len(set(thresholds.values())) == 1:
            parts.append(t("wb.sl_threshold", seconds=next(iter(thresholds.values()))))
        elif thresholds:
            listing = ", ".join(f"{cut(name, 30)} {seconds}s" for name, seconds in thresholds.items())
            parts.append(t("wb.sl_thresholds", list=listing))
        if self.view == "overview":
            parts.append(
                t("wb.rotation_every", seconds=f"{self.interval:g}")
                if self.rotating
                else t("wb.rotation_paused")
            )
        parts.append(t("wb.legend"))
        _update(self.query_one("#wb-caption", Static), Text(" · ".join(parts)))


def _update(static: Static, text: Text) -> None:
    """Only when the text changed: an unchanged caption costs no layout and no terminal bytes."""
    if getattr(static, "_shown_plain", None) != text.plain:
        static._shown_plain = text.plain  # type: ignore[attr-defined]
        static.update(text)


def disconnected_text(client: CtiClient | None, timezone: str) -> Text:
    """연결 끊김 / Disconnected, with why and the time of the last good data."""
    if client is None:
        reason = t("wb.not_configured")
    elif client.last_good is None:
        reason = t("wb.no_data")
    else:
        try:
            zone = ZoneInfo(timezone)
        except (KeyError, ValueError):
            zone = ZoneInfo("Asia/Seoul")
        reason = t("wb.last_data", time=client.last_good.astimezone(zone).strftime("%H:%M:%S"))
    if client is not None and client.state is LinkState.STALE:
        reason = f"{t('wb.stale')} · {reason}"
    why = link_reason(client)
    if why:
        reason = f"{why} · {reason}"
    return Text(f"⚠ {t('wb.disconnected')} — {clean(reason, 300)}", style="bold")
