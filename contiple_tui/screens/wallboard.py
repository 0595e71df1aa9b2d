"""The wallboard menus (3-1 overview, 3-2 by service, 3-3 by agent) inside the console, with pop-out."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen

from contiple_tui.core.session import Session
from contiple_tui.domain import permissions
from contiple_tui.domain.menus import Menu
from contiple_tui.i18n import get_language, t
from contiple_tui.screens.agent_detail import AgentDetailScreen
from contiple_tui.screens.base import MenuView
from contiple_tui.widgets.bindings import Localized
from contiple_tui.widgets.wallboard_panel import BoardScope, WallboardPanel

VIEW_OF_MENU = {
    "wallboard_overview": "overview",
    "wallboard_services": "services",
    "wallboard_agents": "agents",
}


def wallboard_services(session: Session):
    return [s for s in session.services if permissions.may_view_wallboard(session.user, s)]


class WallboardControls:
    """Keys shared by every place a wallboard panel is shown."""

    BINDINGS = [
        Binding("space", "toggle_rotation", "key.rotate_pause", id="wallboard.pause"),
        Binding("v", "flip", "key.flip", id="wallboard.flip"),
        Binding("a", "agent_detail", "key.agent_detail", id="wallboard.agents"),
    ]

    @property
    def panel(self) -> WallboardPanel:
        return self.query_one(WallboardPanel)  # type: ignore[attr-defined]

    def action_toggle_rotation(self) -> None:
        if self.panel.view == "overview":
            self.panel.toggle_rotation()

    def action_flip(self) -> None:
        self.panel.flip()

    def agent_names(self) -> dict[str, str]:
        """Names by CTI agent id, for the agent detail: each host knows where they come from."""
        raise NotImplementedError

    def action_agent_detail(self) -> None:
        panel = self.panel
        client = panel.client
        if client is None or not client.model.has_data:
            return
        table = panel.current_table
        code = None
        if panel.shown == "agents" and table.row_count:
            key = table.key_at(table.cursor_row)
            code = key if key in panel.scope.codes else None
        code = code or panel.scope.codes[0]
        names = self.agent_names()
        self.app.push_screen(AgentDetailScreen(client, code, panel.scope.names.get(code, code), names))  # type: ignore[attr-defined]


class WallboardView(WallboardControls, MenuView):
    TOPICS = frozenset({"directory"})
    BINDINGS = WallboardControls.BINDINGS + [Binding("p", "popout", "key.popout", id="wallboard.popout")]

    def agent_names(self) -> dict[str, str]:
        return self.session.directory.agent_names()

    def __init__(self, menu: Menu, session: Session) -> None:
        super().__init__(menu, session)
        self.can_focus = True

    def compose(self) -> ComposeResult:
        scope = BoardScope.from_services(wallboard_services(self.session))
        config = self.context.config
        yield WallboardPanel(
            self.context.cti,
            scope,
            view=VIEW_OF_MENU[self.menu.id],
            interval=config.wallboard_interval if config is not None else 5.0,
        )

    def reload(self) -> None:
        # The services or their thresholds changed: the board takes the new scope on its next draw.
        self.panel.scope = BoardScope.from_services(wallboard_services(self.session))
        self.panel.invalidate()

    def action_popout(self) -> None:
        """팝업: inside tmux, a new tmux window running the wallboard; elsewhere, a full screen."""
        view = VIEW_OF_MENU[self.menu.id]
        cti, config = self.context.cti, self.context.config
        url = cti.url if cti is not None else None
        command = wallboard_argv(str(config.data_dir), self.session.user.login, url, view) if config else None
        if os.environ.get("TMUX") and command:
            title = t(f"menu.{self.menu.id}")
            subprocess.run(["tmux", "new-window", "-n", title, shlex.join(command)], check=False)
            return
        panel = self.panel
        directory = self.session.directory
        self.app.push_screen(
            PopoutScreen(panel.client, panel.scope, view, panel.interval, directory.agent_names)
        )


class PopoutScreen(WallboardControls, Localized, Screen[None]):
    BINDINGS = WallboardControls.BINDINGS + [
        Binding("escape", "app.pop_screen", "key.close", id="popout.close")
    ]

    def __init__(
        self, client, scope: BoardScope, view: str, interval: float, agent_names: Callable[[], dict[str, str]]
    ) -> None:
        super().__init__()
        self._args = (client, scope, view, interval)
        self.agent_names = agent_names  # type: ignore[method-assign]  # the console's directory

    def compose(self) -> ComposeResult:
        client, scope, view, interval = self._args
        yield WallboardPanel(client, scope, view=view, interval=interval, id="popout-panel")


def wallboard_argv(data_dir: str, login: str, cti_url: str | None, view: str) -> list[str]:
    argv = [
        sys.executable,
        "-m",
        "contiple_tui",
        "--data-dir",
        data_dir,
        "--user",
        login,
        "--lang",
        get_language(),
    ]
    if cti_url:
        argv += ["--cti-url", cti_url]
    return argv + ["wallboard", "--view", view]
