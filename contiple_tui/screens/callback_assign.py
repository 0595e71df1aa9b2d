"""1-3 콜백 할당: unassigned callbacks on the left, agents with phone on the right; equal or manual split."""

from __future__ import annotations

from datetime import timedelta

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Select, Static, Switch

from contiple_tui.core import callbacks as cb
from contiple_tui.cti.protocol import AgentState
from contiple_tui.domain.models import CallbackStatus
from contiple_tui.errors import ContipleError
from contiple_tui.i18n import t
from contiple_tui.screens.base import TableView
from contiple_tui.screens.callback_list import DEFAULT_DAYS, parse_day
from contiple_tui.widgets.agent_picker import AgentPicker
from contiple_tui.widgets.callback_table import PAGE, CallbackTable, callback_columns
from contiple_tui.widgets.date_input import date_input
from contiple_tui.widgets.safe import cut, options


class CallbackAssignView(TableView):
    TOPICS = frozenset({"callbacks", "directory"})
    FOCUS = "CallbackTable"  # opened from the menu: the list takes the keys
    PARTNER = "#as-agents"  # Tab from the list: the agents to assign to, before the filters
    BINDINGS = [
        Binding("e", "equal_split", "key.equal_split", id="assign.equal"),
        Binding("m", "manual", "key.manual", id="assign.manual"),
        Binding("l", "toggle_logged_in", "key.logged_in_only", id="assign.logged_in"),
    ]

    def __init__(self, menu, session) -> None:
        super().__init__(menu, session)
        self._query = cb.CallbackQuery(status=CallbackStatus.UNASSIGNED)

    def compose(self) -> ComposeResult:
        service = self.session.service
        today = self.today()
        routes = [(f"{r.code} {r.name}", r.code) for r in service.ivr_routes]
        with Horizontal(classes="cb-filters -wraps"):  # more than two fields (TableView.NARROW)
            yield date_input(
                today - timedelta(days=DEFAULT_DAYS - 1), id="as-from", tooltip=t("cb.filter.from")
            )
            yield date_input(today, id="as-to", tooltip=t("cb.filter.to"))
            yield Select(options(routes), prompt=t("cb.filter.ivr"), id="as-ivr", compact=True)
            yield Input(
                placeholder=t("cb.filter.phone"),
                id="as-phone",
                compact=True,
                restrict=r"[0-9]*",
                max_length=13,
            )
        yield Static(id="as-totals")
        with Horizontal(id="as-body"):
            yield CallbackTable(
                callback_columns(service, {}, ("requested", "phone", "ivr", "requests")), id="as-table"
            )
            with Vertical(id="as-agents-pane"):
                yield AgentPicker(id="as-agents")
                with Horizontal(id="as-toggle-row"):
                    yield Switch(value=False, id="as-logged-in", animate=False)
                    yield Static(t("assign.logged_in_only"), id="as-toggle-label")
                with Horizontal(id="as-buttons"):
                    yield Button(t("key.equal_split"), id="as-equal", variant="primary", compact=True)
                    yield Button(t("key.manual"), id="as-manual", compact=True)
        yield Static(id="as-status")

    def on_mount(self) -> None:
        self.reload()

    # -- data ----------------------------------------------------------------------------------

    def _read_query(self) -> cb.CallbackQuery | None:
        try:
            first = parse_day(self.query_one("#as-from", Input).value)
            last = parse_day(self.query_one("#as-to", Input).value)
        except ValueError as exc:
            self._say(t("err.date_invalid", value=str(exc)), error=True)
            return None
        route = self.query_one("#as-ivr", Select).value
        return cb.CallbackQuery(
            date_from=first,
            date_to=last,
            status=CallbackStatus.UNASSIGNED,
            ivr_route=route if isinstance(route, str) else None,
            phone=self.query_one("#as-phone", Input).value or None,
        )

    @on(Input.Changed)
    @on(Select.Changed)
    def _filters_changed(self, event) -> None:
        if getattr(self, "_debounce", None) is not None:
            self._debounce.stop()
        self._debounce = self.set_timer(0.25, self.reload)

    def reload(self) -> None:
        query = self._read_query()
        if query is None:
            return
        self._query = query
        self._load(query, self._logged_in_only())

    def _logged_in_only(self) -> bool:
        return self.query_one("#as-logged-in", Switch).value

    @work(thread=True, exclusive=True, group="assign-load", exit_on_error=False)
    def _load(self, query: cb.CallbackQuery, logged_in_only: bool) -> None:
        session = self.session
        try:
            rows = session.callbacks.search(query, limit=PAGE, assigning=True)
            totals = session.callbacks.assignment_totals(query)
            agents = session.callbacks.assignable_agents()
        except ContipleError as exc:
            self.app.call_from_thread(self._say, exc.message(), True)
            return
        self.app.call_from_thread(self._show, query, rows, totals, agents, logged_in_only)

    def _fetch(self, query: cb.CallbackQuery):
        session = self.session
        return lambda after, limit: session.callbacks.search(query, after=after, limit=limit, assigning=True)

    def _cti_state(self, cti_agent_id: str | None) -> AgentState | None:
        client = self.context.cti
        if client is None or not client.live or not cti_agent_id:
            return None
        agent = client.model.agents.get(cti_agent_id)
        return agent.state if agent else None

    def _show(self, query, rows, totals, agents, logged_in_only: bool) -> None:
        if query != self._query:
            return
        table = self.query_one(CallbackTable)
        table.show_from_top(self._fetch(query), rows)
        table.selected &= {r.id for r in rows} | table.selected  # keep what is still selectable
        total, assigned, unassigned = totals
        self.query_one("#as-totals", Static).update(
            Text(
                t(
                    "assign.totals",
                    total=f"{total:,}",
                    assigned=f"{assigned:,}",
                    unassigned=f"{unassigned:,}",
                ),
                style="bold",
            )
        )
        shown = []
        for user, load in agents:
            state = self._cti_state(user.cti_agent_id)
            logged_in = state is not None and state is not AgentState.LOGGED_OUT
            if logged_in_only and not logged_in:
                continue
            cti = "●" if logged_in else "○"  # logged in to the CTI: a symbol, not colour alone
            shown.append((user.id, f"{cut(user.name, 30)} {cti} {t('assign.incomplete', count=load)}"))
        self.query_one(AgentPicker).set_agents(shown)

    # -- actions -------------------------------------------------------------------------------

    def _say(self, text: str, error: bool = False) -> None:
        self.query_one("#as-status", Static).update(
            Text(("⚠ " if error else "") + text, style="bold" if error else "")
        )

    def _assign(self, manual: bool) -> None:
        session = self.session
        table = self.query_one(CallbackTable)
        callback_ids = table.chosen_ids() if table.selected else []
        agent_ids = list(self.query_one(AgentPicker).selected)
        action = session.callbacks.assign_manual if manual else session.callbacks.assign_equal
        try:
            result = action(callback_ids, agent_ids)
        except ContipleError as exc:
            self._say(exc.message(), error=True)
            self.app.notify(exc.message(), severity="error")
            return
        table.clear_selection()
        message = t("assign.done", count=result.count, agents=len(result.assigned))
        if result.skipped:
            message += " " + t("assign.skipped", count=len(result.skipped))
        self._say(message)
        self.app.notify(message, severity="warning" if result.skipped else "information")
        self.reload()

    def action_equal_split(self) -> None:
        self._assign(manual=False)

    def action_manual(self) -> None:
        self._assign(manual=True)

    def action_toggle_logged_in(self) -> None:
        switch = self.query_one("#as-logged-in", Switch)
        switch.value = not switch.value

    @on(Switch.Changed, "#as-logged-in")
    def _toggle(self) -> None:
        self.reload()

    @on(Button.Pressed, "#as-equal")
    def _equal_pressed(self) -> None:
        self.action_equal_split()

    @on(Button.Pressed, "#as-manual")
    def _manual_pressed(self) -> None:
        self.action_manual()
