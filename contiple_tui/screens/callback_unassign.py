"""1-4 콜백 할당 취소: incomplete callbacks per agent; selected ones go back to unassigned."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from contiple_tui.core import callbacks as cb
from contiple_tui.domain.models import CallbackStatus
from contiple_tui.errors import ContipleError
from contiple_tui.i18n import t
from contiple_tui.screens.base import TableView
from contiple_tui.widgets.callback_table import PAGE, CallbackTable, callback_columns
from contiple_tui.widgets.safe import cut

ALL = "all"


class CallbackUnassignView(TableView):
    TOPICS = frozenset({"callbacks", "directory"})
    FOCUS = "CallbackTable"  # opened from the menu: the list takes the keys
    BINDINGS = [Binding("u", "unassign", "key.unassign", id="unassign.cancel")]

    def __init__(self, menu, session) -> None:
        super().__init__(menu, session)
        self._agent: int | None = None
        self._names: dict[int, str] = {}

    def compose(self) -> ComposeResult:
        self._names = self.session.directory.names()
        columns = callback_columns(
            self.session.service, self._names, ("requested", "phone", "assignee", "attempts")
        )
        with Horizontal(id="ua-body"):
            yield OptionList(id="ua-agents")
            yield CallbackTable(columns, id="ua-table")
        yield Static(id="ua-status")

    def on_mount(self) -> None:
        self.reload()

    def reload(self) -> None:
        self._load(self._agent)

    def _query(self, agent: int | None) -> cb.CallbackQuery:
        return cb.CallbackQuery(status=CallbackStatus.ASSIGNED, assignee_id=agent)

    @work(thread=True, exclusive=True, group="unassign-load", exit_on_error=False)
    def _load(self, agent: int | None) -> None:
        session = self.session
        try:
            agents = session.callbacks.assignable_agents()
            rows = session.callbacks.search(self._query(agent), limit=PAGE, assigning=True)
        except ContipleError as exc:
            self.app.call_from_thread(self._say, exc.message(), True)
            return
        self.app.call_from_thread(self._show, agent, agents, rows)

    def _show(self, agent, agents, rows) -> None:
        if agent != self._agent:
            return
        options = self.query_one("#ua-agents", OptionList)
        highlighted = options.highlighted
        options.clear_options()
        total = sum(load for _, load in agents)
        options.add_option(Option(Text(f"{t('unassign.everyone')}  {total:,}"), id=ALL))
        for user, load in agents:
            options.add_option(Option(Text(f"{cut(user.name, 30)}  {load:,}", no_wrap=True), id=str(user.id)))
        if highlighted is not None and highlighted < options.option_count:
            options.highlighted = highlighted
        session = self.session
        query = self._query(agent)
        table = self.query_one(CallbackTable)
        table.show_from_top(
            lambda after, limit: session.callbacks.search(query, after=after, limit=limit, assigning=True),
            rows,
        )

    @on(OptionList.OptionHighlighted, "#ua-agents")
    def _agent_chosen(self, event: OptionList.OptionHighlighted) -> None:
        agent = None if event.option.id in (None, ALL) else int(event.option.id)
        if agent != self._agent:
            self._agent = agent
            self.query_one(CallbackTable).clear_selection()
            self.reload()

    def _say(self, text: str, error: bool = False) -> None:
        self.query_one("#ua-status", Static).update(
            Text(("⚠ " if error else "") + text, style="bold" if error else "")
        )

    def action_unassign(self) -> None:
        session = self.session
        table = self.query_one(CallbackTable)
        ids = table.chosen_ids()
        try:
            result = session.callbacks.unassign(ids)
        except ContipleError as exc:
            self._say(exc.message(), error=True)
            self.app.notify(exc.message(), severity="error")
            return
        table.clear_selection()
        message = t("unassign.done", count=result.count)
        if result.skipped:
            message += " " + t("unassign.skipped", count=len(result.skipped))
        self._say(message)
        self.app.notify(message)
        self.reload()
