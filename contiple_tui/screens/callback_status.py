"""1-5 콜백 처리현황: requested, assigned, completed, not processed and the processing rate per day or
month, per agent, and a bar chart of completed vs not processed (admins only).

The numbers come from :func:`contiple_tui.core.callbacks.processing_status` in a thread worker; the
view only presents them. Days (or months) without a single request are shown as rows of zeros, so a
quiet weekend reads as quiet rather than missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from rich.cells import cell_len
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.events import Resize
from textual.widgets import Input, Label, Select, Static

from contiple_tui.core import callbacks as cb
from contiple_tui.core.wallboard import format_rate
from contiple_tui.errors import ContipleError
from contiple_tui.i18n import t
from contiple_tui.screens.base import MenuView
from contiple_tui.screens.callback_list import parse_day
from contiple_tui.screens.messages import ExportRequested
from contiple_tui.widgets.board import BoardTable
from contiple_tui.widgets.date_input import date_input
from contiple_tui.widgets.safe import cut
from contiple_tui.widgets.status_chart import DONE, OPEN, _n, bar_cells, chart_renderable, period_label  # noqa: F401

DEFAULT_DAYS = 30
DEBOUNCE_S = 0.25
MAX_DAYS = 366  # daily rows at most (a year); longer periods read better by month
MAX_MONTHS = 120
MIN_CHART = 48  # the narrowest chart worth putting beside the day table
MAX_NAME = 20


@dataclass(frozen=True)
class StatusQuery:
    first: date
    last: date
    monthly: bool


def period_keys(first: date, last: date, monthly: bool) -> list[str]:
    """Every day ("2026-11-01") or month ("2026-11") from ``first`` to ``last``, in order: the rows of
    the table, also for the periods in which nothing was requested."""
    if monthly:
        keys, year, month = [], first.year, first.month
        while (year, month) <= (last.year, last.month):
            keys.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return keys
    return [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]


def fill_periods(query: StatusQuery, rows: list[cb.StatusRow]) -> list[cb.StatusRow]:
    found = {row.period: row for row in rows}
    keys = period_keys(query.first, query.last, query.monthly)
    filled = [found.pop(key, None) or cb.StatusRow(key, 0, 0, 0) for key in keys]
    return sorted(filled + list(found.values()), key=lambda row: row.period)  # never lose a row


def total_of(rows: list[cb.StatusRow]) -> cb.StatusRow:
    return cb.StatusRow(
        "", sum(r.requested for r in rows), sum(r.assigned for r in rows), sum(r.completed for r in rows)
    )


# -- the view -------------------------------------------------------------------------------------


class CallbackStatusView(MenuView):
    TOPICS = frozenset({"callbacks", "directory"})
    can_focus = True  # arrows and Page Up/Down scroll the report; Tab reaches the filters

    BINDINGS = [Binding("x", "export", "key.export", id="callback_status.export")]

    DEFAULT_CSS = """
    CallbackStatusView {
        overflow-x: auto;  /* narrower than the day table (menu shown on a small terminal): scroll */
    }
    CallbackStatusView #cs-head {
        height: auto;
    }
    CallbackStatusView #cs-filters {
        height: 1;
    }
    CallbackStatusView #cs-filters Label {
        width: auto;
        margin-right: 1;
    }
    CallbackStatusView #cs-filters Input {
        width: 12;
        margin-right: 1;
    }
    CallbackStatusView #cs-filters Select {
        width: 14;
    }
    CallbackStatusView #cs-status {
        height: auto;
        color: $text-muted;
    }
    CallbackStatusView #cs-status.-error {
        color: $text-error;
        text-style: bold;
    }
    CallbackStatusView #cs-main {
        height: auto;
        layout: vertical;
    }
    CallbackStatusView.-cs-wide #cs-main {
        layout: horizontal;
    }
    CallbackStatusView BoardTable {
        width: auto;
        height: auto;
        max-height: initial;  /* the whole table: the view scrolls, not each table */
        border: round $panel-lighten-2;
        border-title-color: $text-muted;
    }
    CallbackStatusView.-cs-wide #cs-periods {
        margin-right: 1;
    }
    CallbackStatusView #cs-chart-box {
        width: 1fr;
        height: auto;
        border: round $panel-lighten-2;
        border-title-color: $text-muted;
        border-subtitle-color: $text-muted;
        padding: 0 1;
    }
    CallbackStatusView #cs-chart {
        height: auto;
    }
    """

    def __init__(self, menu, session) -> None:
        super().__init__(menu, session)
        self._applied: StatusQuery | None = None  # the query last asked for (its numbers shown or coming)
        self._stale = False
        self._debounce = None
        self._periods: list[cb.StatusRow] = []
        self._shown: StatusQuery | None = None  # the query whose numbers are on screen
        self._agents: list[tuple[object, cb.StatusRow]] = []

    # -- layout ------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        first, last = self._default_period()
        with Vertical(id="cs-head"):
            with Horizontal(id="cs-filters"):
                yield Label(t("cs.filter.period"))
                yield date_input(first, id="cs-from", tooltip=t("cs.filter.from"))
                yield Label("~")
                yield date_input(last, id="cs-to", tooltip=t("cs.filter.to"))
                yield Select(
                    [(t("cs.daily"), "day"), (t("cs.monthly"), "month")],
                    value="day",
                    allow_blank=False,
                    compact=True,
                    id="cs-unit",
                    tooltip=t("cs.filter.unit"),
                )
            yield Static(id="cs-status")
        with Horizontal(id="cs-main"):
            yield BoardTable(self._period_columns(), id="cs-periods")
            with Vertical(id="cs-chart-box"):
                yield Static(id="cs-chart")
        yield BoardTable(self._agent_columns(), id="cs-agents")

    @staticmethod
    def _period_columns() -> list[tuple[str, str, int]]:
        label = max(cell_len(period_label("2026-11-30")), cell_len(t("cs.total")))
        return [
            ("name", t("cs.col.period"), label),
            ("requested", t("cs.col.requested"), 7),
            ("assigned", t("cs.col.assigned"), 7),
            ("completed", t("cs.col.completed"), 7),
            ("not_processed", t("cs.col.not_processed"), 7),
            ("rate", t("cs.col.rate"), 6),
        ]

    def _agent_columns(self) -> list[tuple[str, str, int]]:
        # Column widths are fixed (numbers never make them jump): as wide as the longest name here.
        names = [cut(u.name, MAX_NAME) for u in self.session.directory.service_users()]
        name = min(MAX_NAME, max([10, cell_len(t("cs.unknown_agent")), *map(cell_len, names)]))
        return [
            ("name", t("cs.col.agent"), name),
            ("assigned", t("cs.col.assigned"), 7),
            ("completed", t("cs.col.completed"), 7),
            ("not_processed", t("cs.col.not_processed"), 7),
            ("rate", t("cs.col.rate"), 6),
        ]

    def _default_period(self) -> tuple[date, date]:
        """The last 30 days, today included, in the service's time zone (by the app's clock)."""
        today = self.today()
        return today - timedelta(days=DEFAULT_DAYS - 1), today

    def on_mount(self) -> None:
        self.query_one("#cs-periods", BoardTable).border_title = t("cs.by_day")
        self.query_one("#cs-agents", BoardTable).border_title = t("cs.by_agent")
        self.query_one("#cs-chart-box").border_title = t("cs.chart.title")
        for table in self.query(BoardTable):
            table.can_focus = False  # nothing to pick in a report: the view itself scrolls
        self.watch(self.app, "theme", lambda _: self._draw_chart(), init=False)
        self.apply()

    def on_resize(self, event: Resize) -> None:
        self._fit()

    def _fit(self) -> None:
        """Side by side when the chart beside the day table still gets a readable width."""
        table = self.query_one("#cs-periods", BoardTable)
        if not table.columns:
            return  # not laid out yet: called again when the numbers arrive
        needed = sum(c.get_render_width(table) for c in table.columns.values()) + 2 + 1 + MIN_CHART
        wide = self.scrollable_content_region.width >= needed
        if wide != self.has_class("-cs-wide"):
            self.set_class(wide, "-cs-wide")
            self._draw_chart()

    @property
    def focus_target(self):
        return self

    # -- filters -----------------------------------------------------------------------------

    def read_query(self) -> StatusQuery | None:
        """The filters as a query, or None after saying on the status line what is wrong."""
        days: list[date] = []
        for selector in ("#cs-from", "#cs-to"):
            text = self.query_one(selector, Input).value.strip()
            if not text:
                self._say(t("cs.err.date_required"), error=True)
                return None
            try:
                day = parse_day(text)
            except ValueError:
                day = None
            if day is None or day >= date.max - timedelta(days=1):
                self._say(t("err.date_invalid", value=text), error=True)
                return None
            days.append(day)
        first, last = days
        if first > last:
            self._say(t("err.date_range_reversed"), error=True)
            return None
        monthly = self.query_one("#cs-unit", Select).value == "month"
        months = (last.year - first.year) * 12 + last.month - first.month + 1
        count = months if monthly else (last - first).days + 1
        if count > (MAX_MONTHS if monthly else MAX_DAYS):
            key, limit = (
                ("cs.err.too_many_months", MAX_MONTHS) if monthly else ("cs.err.too_many_days", MAX_DAYS)
            )
            self._say(t(key, max=limit, count=f"{count:,}"), error=True)
            return None
        return StatusQuery(first, last, monthly)

    @on(Input.Changed, "#cs-filters Input")
    @on(Select.Changed, "#cs-filters Select")
    def _filters_changed(self) -> None:
        if self._debounce is not None:
            self._debounce.stop()
        self._debounce = self.set_timer(DEBOUNCE_S, self.apply)

    @on(Input.Submitted, "#cs-filters Input")
    def _submitted(self) -> None:
        if self._debounce is not None:
            self._debounce.stop()
        self.apply()

    def apply(self) -> None:
        """Read the filters; when they are valid, load the report for them."""
        self._debounce = None
        query = self.read_query()
        if query is None:
            return  # the message is on the status line; the report on screen stays as it was
        if query == self._applied and self._periods:
            self._summary()  # an error message may be on the line: the filters are fine again
            return
        self._applied = query
        self._say(t("cs.loading"))
        self._load(query)

    def reload(self) -> None:
        """Another console completed or assigned something: count again (now, or when shown)."""
        if self._applied is None:
            return
        if not self.display:
            self._stale = True
            return
        self._load(self._applied)

    def on_show(self) -> None:
        if self._stale and self._applied is not None:
            self._stale = False
            self._load(self._applied)

    @work(thread=True, exclusive=True, group="cs-load", exit_on_error=False)
    def _load(self, query: StatusQuery) -> None:
        session = self.session
        try:
            periods, agents = session.callbacks.processing_status(
                query.first, query.last, monthly=query.monthly
            )
        except ContipleError as exc:  # not an admin: the core refuses
            self.app.call_from_thread(self._refused, query, exc.message())
            return
        self.app.call_from_thread(self._show, query, periods, agents)

    # -- showing -----------------------------------------------------------------------------

    def _refused(self, query: StatusQuery, message: str) -> None:
        if query == self._applied:
            self._say(message, error=True)

    def _show(self, query: StatusQuery, periods: list[cb.StatusRow], agents) -> None:
        if query != self._applied:
            return  # a newer query is on its way
        periods, agents = fill_periods(query, periods), list(agents)
        if (periods, agents, query) == (self._periods, self._agents, self._shown):
            self._summary()  # a reload that found nothing new: leave the screen alone
            return
        self._periods, self._agents, self._shown = periods, agents, query
        total = total_of(self._periods)
        with self.app.batch_update():
            table = self.query_one("#cs-periods", BoardTable)
            table.border_title = t("cs.by_month" if query.monthly else "cs.by_day")
            table.set_rows(
                [(row.period, self._cells(period_label(row.period), row)) for row in self._periods]
                + [("total", self._cells(t("cs.total"), total, bold=True))]
            )
            self.query_one("#cs-agents", BoardTable).set_rows(
                [
                    (
                        f"u{user.id}" if user is not None else f"x{index}",
                        self._cells(
                            cut(user.name, MAX_NAME) if user is not None else t("cs.unknown_agent"),
                            row,
                            requested=False,
                        ),
                    )
                    for index, (user, row) in enumerate(self._agents)
                ]
            )
            self._fit()
            self._draw_chart()
            self._summary()

    @staticmethod
    def _cells(label: str, row: cb.StatusRow, bold: bool = False, requested: bool = True) -> tuple[Text, ...]:
        """Label, [requested], assigned, completed, not processed, rate."""
        style = "bold" if bold else ""
        values = (
            *([_n(row.requested)] if requested else []),
            _n(row.assigned),
            _n(row.completed),
            _n(row.not_processed),
            format_rate(row.rate),
        )
        rate_style = style if row.rate is not None else f"{style} dim".strip()
        return (
            Text(label, style=style),
            *(Text(v, style=style, justify="right") for v in values[:-1]),
            Text(values[-1], style=rate_style, justify="right"),
        )

    def _draw_chart(self) -> None:
        if self._applied is None:
            return
        theme = self.app.theme_variables
        short = not self._applied.monthly and self._applied.first.year == self._applied.last.year
        table = self.query_one("#cs-periods", BoardTable)
        beside = self.has_class("-cs-wide")
        self.query_one("#cs-chart", Static).update(
            chart_renderable(
                self._periods,
                theme.get("success"),
                theme.get("warning"),
                short_labels=short,
                header_lines=table.header_height if beside else 1,
            )
        )
        scale = max((r.assigned for r in self._periods), default=0)
        self.query_one("#cs-chart-box").border_subtitle = t("cs.chart.scale", max=_n(scale))

    def _summary(self) -> None:
        query = self._applied
        if query is None:
            return
        total = total_of(self._periods)
        self._say(
            t(
                "cs.summary",
                requested=_n(total.requested),
                assigned=_n(total.assigned),
                completed=_n(total.completed),
                not_processed=_n(total.not_processed),
                rate=format_rate(total.rate),
            )
        )

    def _say(self, text: str, error: bool = False) -> None:
        line = self.query_one("#cs-status", Static)
        line.set_class(error, "-error")
        line.update(Text(("⚠ " if error else "") + text))

    # -- actions -------------------------------------------------------------------------------

    def action_export(self) -> None:
        applied = self._applied
        if applied is not None:
            self.post_message(
                ExportRequested(self, "callback-status", applied.first, applied.last, applied.monthly)
            )
