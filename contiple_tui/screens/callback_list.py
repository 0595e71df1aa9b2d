"""1-2 콜백 리스트: search, connect (dial through the CTI), complete, register history, Excel."""

from __future__ import annotations

import logging
import re
import time
from datetime import date, timedelta
from functools import partial

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.timer import Timer
from textual.widgets import Input, Select, Static
from textual.worker import get_current_worker

from contiple_tui.core import callbacks as cb
from contiple_tui.domain import permissions
from contiple_tui.domain.models import CallbackStatus, Perm
from contiple_tui.errors import ContipleError
from contiple_tui.i18n import t
from contiple_tui.screens.base import TableView
from contiple_tui.screens.messages import DialRequested, ExportRequested
from contiple_tui.widgets.callback_table import PAGE, CallbackTable, Column, callback_columns
from contiple_tui.widgets.date_input import date_input
from contiple_tui.widgets.safe import options

log = logging.getLogger(__name__)

DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
PEOPLE_RETRY_S = 2.0  # the assignee and assigner choices, read again after a fault of the store
DEFAULT_DAYS = 30
# Typing searches DEBOUNCE_S after the last key, or at once after a quiet moment (see _typed). Keys typed at
# a person's pace (100-200 ms apart) each search at once; faster bursts search once, DEBOUNCE_S after the
# last key. A search of one page is a few milliseconds, so the rows follow the last key within ~0.1 s.
DEBOUNCE_S = 0.08
# A date still being typed ("2026-11-2") is not a search yet: it is said to be invalid only after a pause.
DATE_PAUSE_S = 0.8
# A phone key this soon after the one before is typing. While typing, each key's rows come at once but its
# total is counted only after a pause of COUNT_WAIT_S: a count still running when the next key comes would
# hold the store (one connection) and keep that key's rows waiting; a newer key drops the count unstarted.
TYPING_S = 0.4
COUNT_WAIT_S = 0.2


def parse_day(text: str) -> date | None:
    """'' → None; a valid YYYY-MM-DD → the date; anything else → ValueError."""
    text = text.strip()
    if not text:
        return None
    if not DATE_RE.match(text):
        raise ValueError(text)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(text) from None  # the user's text in the message, not Python's


def _complete_day(text: str) -> bool:
    try:
        return parse_day(text) is not None
    except ValueError:
        return False


class CallbackListView(TableView):
    TOPICS = frozenset({"callbacks", "directory"})
    FOCUS = "CallbackTable"  # opened from the menu: the list takes the keys
    BINDINGS = [
        Binding("c", "connect", "key.connect", id="callbacks.connect"),
        Binding("d", "complete", "key.complete", id="callbacks.complete"),
        Binding("h", "register_history", "key.register_history", id="callbacks.history"),
        Binding("x", "export", "key.export", id="callbacks.export"),
        Binding("slash", "focus_search", "key.search", id="callbacks.search"),
    ]

    def __init__(self, menu, session) -> None:
        super().__init__(menu, session)
        self.can_focus = False
        self._names: dict[int, str] = {}
        self._query = cb.CallbackQuery()
        self._total = 0
        self._ready = False  # until then, filter events holding the widgets' first values are not searches
        self._first_values: dict[str, str] = {}
        self._debounce: Timer | None = None
        self._said: tuple[str, bool] | None = None  # what the status line shows
        self._phone_key_at = float("-inf")  # time.monotonic() of the last change of the phone filter

    # -- layout --------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        today = self.today()
        first = today - timedelta(days=DEFAULT_DAYS - 1)
        self._names.update(self.session.directory.names())  # the columns hold this dict
        # The Selects (several widgets each) join these rows of fixed height once the first rows are drawn
        # (_mount_choices): the rows do not wait for them, and nothing moves when they come.
        # -wraps: more than two fields, so two lines beside the menu in a narrow terminal (TableView.NARROW).
        with Horizontal(classes="cb-filters -wraps", id="cb-filters-period"):
            yield date_input(first, id="cb-from", tooltip=t("cb.filter.from"))
            yield date_input(today, id="cb-to", tooltip=t("cb.filter.to"))
        people = "cb-filters -wraps" if self.session.user.is_admin else "cb-filters"  # + assignee, assigner
        with Horizontal(classes=people, id="cb-filters-people"):
            yield Input(
                placeholder=t("cb.filter.phone"),
                id="cb-phone",
                compact=True,
                restrict=r"[0-9]*",
                max_length=13,
            )
        table = CallbackTable(self._columns(), id="cb-table")
        table.changed_hook = self._status_line
        yield table
        yield Static(id="cb-status-line")
        # The first search starts now, with the filters' first values, while the view is being mounted:
        # the rows can be on screen before the view's Mount event.
        self._query = cb.CallbackQuery(date_from=first, date_to=today)
        self._first_values = {"cb-from": str(first), "cb-to": str(today), "cb-phone": ""}
        self._load(self._query)

    def _mount_choices(self) -> None:
        """The status and IVR choices, and for an admin the assignee and assigner choices."""
        rows = self.query("#cb-filters-period")
        if not rows:
            return  # the view is being taken down
        service, user = self.session.service, self.session.user
        statuses = [(t(f"status.{s}"), s) for s in CallbackStatus]
        routes = [(f"{r.code} {r.name}", r.code) for r in service.ivr_routes]
        rows.first().mount(
            Select(statuses, prompt=t("cb.filter.status"), id="cb-status", compact=True),
            Select(options(routes), prompt=t("cb.filter.ivr"), id="cb-ivr", compact=True),
        )
        if user.is_admin:
            self._mount_people()
        self.call_after_refresh(self._arm)  # the search started in compose covers the filters' first values

    def _mount_people(self) -> None:
        """The assignee and assigner choices. When the store cannot be read (the database server is
        restarting), the list still works without them: said once, tried again a little later."""
        if not self.is_attached or self.query("#cb-assignee"):
            return
        service = self.session.service
        try:
            users = self.session.directory.service_users()
        except ContipleError as exc:
            log.warning("callback list: the people choices wait for the store: %s", exc)
            self.set_timer(PEOPLE_RETRY_S, self._mount_people)
            return
        agents = [(u.name, u.id) for u in users if permissions.may_receive_assignment(u, service)]
        assigners = [
            (u.name, u.id) for u in users if u.has(Perm.CALLBACK_ASSIGN) and u.role.value != "wallboard"
        ]
        self.query_one("#cb-filters-people").mount(
            Select(options(agents), prompt=t("cb.filter.assignee"), id="cb-assignee", compact=True),
            Select(options(assigners), prompt=t("cb.filter.assigner"), id="cb-assigner", compact=True),
        )

    def _columns(self) -> list[Column]:
        return callback_columns(
            self.session.service,
            self._names,
            ("requested", "phone", "name", "ivr", "status", "assignee", "attempts", "requests"),
            # A user who sees only their own callbacks reads their own name in every row: it goes first.
            drop_first=None
            if permissions.callback_list_scope(self.session.user, self.session.service)
            is permissions.Scope.ALL
            else "assignee",
        )

    def on_mount(self) -> None:
        self.call_after_refresh(self._mount_choices)

    def _arm(self) -> None:
        self._ready = True

    # -- search ---------------------------------------------------------------------------------

    def _read_query(self) -> cb.CallbackQuery | None:
        try:
            first = parse_day(self.query_one("#cb-from", Input).value)
            last = parse_day(self.query_one("#cb-to", Input).value)
        except ValueError as exc:
            self._say(t("err.date_invalid", value=str(exc)), error=True)
            return None

        def chosen(selector: str):
            found = self.query(selector)
            if not found:
                return None
            value = found.first(Select).value
            return value if isinstance(value, (str, int)) else None  # the blank choice: no filter

        return cb.CallbackQuery(
            date_from=first,
            date_to=last,
            status=chosen("#cb-status"),
            ivr_route=chosen("#cb-ivr"),
            phone=self.query_one("#cb-phone", Input).value or None,
            assignee_id=chosen("#cb-assignee"),
            assigner_id=chosen("#cb-assigner"),
        )

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        # Debounced: keys in quick succession search once, DEBOUNCE_S after the last. A phone number changed
        # after a quiet moment (a paste, a first digit, digits typed at a person's pace) searches at once:
        # any digits are a valid search, and a search is cheap. A date searches once it is complete (or
        # empty); one still being typed waits for a real pause before it is called invalid.
        if not self._ready and event.value == self._first_values.get(event.input.id):
            return  # an input announcing its first value: the search started in compose covers it
        burst = self._debounce is not None
        if burst:
            self._debounce.stop()
        delay, count_wait = DEBOUNCE_S, 0.0
        if event.input.id in ("cb-from", "cb-to") and event.value.strip() and not _complete_day(event.value):
            delay = DATE_PAUSE_S
        if event.input.id == "cb-phone":
            now = time.monotonic()
            if now - self._phone_key_at < TYPING_S:
                count_wait = COUNT_WAIT_S
            self._phone_key_at = now
        leading = not burst and event.input.id == "cb-phone"
        if leading:
            self.search(count_wait)
        self._debounce = self.set_timer(delay, partial(self._settled, not leading, count_wait))

    def _settled(self, search: bool, count_wait: float = 0.0) -> None:
        self._debounce = None
        if search:
            self.search(count_wait)

    @on(Select.Changed)
    def _chosen(self, event: Select.Changed) -> None:
        # One deliberate choice: search at once (even before the view is armed: a choice made early, on a
        # slow machine, must not be lost). A Select announcing its first value (blank) when it is mounted
        # changes no filter and searches nothing.
        query = self._read_query()
        if query is not None and query != self._query:
            self._query = query
            self._load(query)

    def search(self, count_wait: float = 0.0) -> None:
        query = self._read_query()
        if query is None:
            return
        self._query = query
        self._load(query, count_wait)

    @work(thread=True, exclusive=True, group="cb-search", exit_on_error=False)
    def _load(self, query: cb.CallbackQuery, count_wait: float = 0.0) -> None:
        session = self.session
        worker = get_current_worker()
        try:
            rows = session.callbacks.search(query, limit=PAGE)
            # The rows first: counting a large period takes longer than finding its newest page.
            self.app.call_from_thread(self._show, query, rows, None)
            deadline = time.monotonic() + count_wait
            while time.monotonic() < deadline and not worker.is_cancelled:
                time.sleep(0.01)  # typing: the count waits for a pause (see COUNT_WAIT_S)
            if worker.is_cancelled:
                return  # a newer search replaced this one: its count is not wanted (it holds the store)
            total = session.callbacks.count(query)
        except ContipleError as exc:
            self.app.call_from_thread(self._say, exc.message(), True)
            return
        self.app.call_from_thread(self._show_total, query, total)

    def _fetch(self, query: cb.CallbackQuery):
        session = self.session

        def fetch(after, limit):
            return session.callbacks.search(query, after=after, limit=limit)

        return fetch

    def _show(self, query: cb.CallbackQuery, rows: list[cb.Callback], total: int | None) -> None:
        if query != self._query:
            return  # a newer search is on its way
        self._total = total
        self.query_one(CallbackTable).show_from_top(self._fetch(query), rows)

    def _show_total(self, query: cb.CallbackQuery, total: int) -> None:
        if query == self._query:
            self._set_total(total)

    def _status_line(self) -> None:
        """The line "first–last of total · n selected", set as CallbackTable.changed_hook: drawn with the
        rows."""
        table = self.query_one(CallbackTable)
        first = (len(table._pages) - 1) * PAGE + 1 if table.row_count else 0
        last = first + table.row_count - 1 if table.row_count else 0
        total = "…" if self._total is None else f"{self._total:,}"  # still counting
        self._say(
            t(
                "cb.status_line",
                first=f"{first:,}",
                last=f"{last:,}",
                total=total,
                selected=len(table.selected),
            )
        )

    def _say(self, text: str, error: bool = False) -> None:
        found = self.query("#cb-status-line")
        if not found:
            return  # the view is being composed or taken down (a store change arrived meanwhile)
        if (text, error) == self._said:
            return  # already on screen: nothing to redraw
        self._said = (text, error)
        line = found.first(Static)
        # One line of fixed height and full width: its new text needs no layout pass of the screen.
        line.update(Text(("⚠ " if error else "") + text, style="bold" if error else ""), layout=False)

    def reload(self) -> None:
        """Callbacks (or the directory) changed, here or in another console: re-read what is on screen.

        Everything is read in threads and compared with what is shown: the page's rows are redrawn only
        where they changed (CallbackTable.refresh_page), the status line only when the total or a name
        changed. The cursor and the selection stay."""
        table = self.query_one(CallbackTable)
        if table.fetch is not None:
            table.refresh_page()
            self._refresh_total(self._query)

    @work(thread=True, exclusive=True, group="cb-count", exit_on_error=False)
    def _refresh_total(self, query: cb.CallbackQuery) -> None:
        session = self.session
        try:
            names = session.directory.names()
            total = session.callbacks.count(query)
        except ContipleError as exc:
            self.app.call_from_thread(self._say, exc.message(), True)
            return
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._refreshed, query, names, total)

    def _refreshed(self, query: cb.CallbackQuery, names: dict[int, str], total: int) -> None:
        if names != self._names:  # a user renamed (the assignee column holds this dict)
            self._names.clear()
            self._names.update(names)
            self.query_one(CallbackTable).redraw()
        self._show_total(query, total)

    def _set_total(self, total: int) -> None:
        self._total = total
        self._status_line()

    # -- actions --------------------------------------------------------------------------------

    def action_focus_search(self) -> None:
        self.query_one("#cb-phone", Input).focus()

    def action_complete(self) -> None:
        table = self.query_one(CallbackTable)
        ids = [c.id for c in table.chosen()]
        if not ids:
            self.app.notify(t("err.cb_none_selected"), severity="warning")
            return
        try:
            changed = self.session.callbacks.complete(ids)
        except ContipleError as exc:
            self.app.notify(exc.message(), severity="error")
            return
        table.clear_selection()
        table.refresh_page()
        self.app.notify(t("cb.completed", count=changed))

    def action_connect(self) -> None:
        table = self.query_one(CallbackTable)
        callback = table.current
        if callback is None:
            self.app.notify(t("err.cb_none_selected"), severity="warning")
            return
        self.post_message(DialRequested(self, callback))

    def action_register_history(self) -> None:
        from contiple_tui.screens.history_form import HistoryFormScreen

        table = self.query_one(CallbackTable)
        self.app.push_screen(HistoryFormScreen(self.session, table.current))

    def action_export(self) -> None:
        self.post_message(ExportRequested(self, "callbacks", self._query))
