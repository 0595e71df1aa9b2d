"""Per-agent detail of one service (from 3-3): name, state and time in state, ticking."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Static

from contiple_tui.core.wallboard import format_duration
from contiple_tui.cti.client import CtiClient
from contiple_tui.cti.protocol import AgentState
from contiple_tui.i18n import t
from contiple_tui.screens.dialog import Dialog
from contiple_tui.widgets.board import BoardTable
from contiple_tui.widgets.safe import cut, plain
from contiple_tui.widgets.wallboard_panel import disconnected_text

# Most useful first: who is free, who is busy, who is away.
STATE_ORDER = [
    AgentState.READY,
    AgentState.RINGING,
    AgentState.TALKING,
    AgentState.DIALING,
    AgentState.OUTBOUND,
    AgentState.ACW,
    AgentState.BREAK,
    AgentState.LOGGED_OUT,
]


class AgentDetailScreen(Dialog[None]):
    BINDINGS = [Binding("escape", "dismiss(None)", "key.close", id="agents.close")]

    def __init__(self, client: CtiClient, service: str, title: str, names: dict[str, str]) -> None:
        super().__init__()
        self.client = client
        self.service = service
        self.title_text = title
        self.names = names  # CTI agent id -> name in the store

    def compose(self) -> ComposeResult:
        with Vertical(id="agent-dialog"):
            yield Static(
                plain(t("wb.detail.title", service=cut(self.title_text, 60)), style="bold"), id="agent-title"
            )
            yield Static(id="agent-banner", classes="wb-banner")
            yield BoardTable(
                [
                    ("name", t("wb.detail.name"), 10),
                    ("agent_id", t("wb.detail.agent_id"), 8),
                    ("state", t("wb.detail.state"), 10),
                    ("time", t("wb.detail.time_in_state"), 8),
                ],
                text_columns=("name", "agent_id", "state"),
                id="agent-table",
            )
            yield Static(t("wb.detail.hint"), id="agent-hint")

    def on_mount(self) -> None:
        self.refresh_rows()
        self.set_interval(1.0, self.refresh_rows)

    def refresh_rows(self) -> None:
        live = self.client.boards_live
        banner = self.query_one("#agent-banner", Static)
        banner.display = not live
        self.query_one("#agent-table").set_class(not live, "-stale")
        if not live:
            zone = (
                next(iter(self.client.model.services.values())).timezone
                if self.client.model.services
                else "Asia/Seoul"
            )
            banner.update(disconnected_text(self.client, zone))
        now = self.client.server_now()
        agents = [a for a in self.client.model.agents.values() if self.service in a.services]
        agents.sort(key=lambda a: (STATE_ORDER.index(a.state), a.since))
        rows = [
            (
                agent.agent_id,
                (
                    plain(
                        self.names.get(agent.agent_id) or agent.name or agent.agent_id,
                        max_chars=200,
                        no_wrap=True,
                    ),
                    plain(agent.agent_id, max_chars=40),
                    Text(t(f"agent_state.{agent.state}")),
                    Text(format_duration((now - agent.since).total_seconds()), justify="right"),
                ),
            )
            for agent in agents
        ]
        self.query_one(BoardTable).set_rows(rows)
