"""Choose the service in use (현재 접속 중인 서비스) among the user's services."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from contiple_tui.core.session import Session
from contiple_tui.i18n import t
from contiple_tui.screens.dialog import Dialog
from contiple_tui.widgets.safe import cut, plain


class ServiceSwitchScreen(Dialog[str | None]):
    BINDINGS = [Binding("escape", "dismiss(None)", "key.cancel", id="switch.cancel")]

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session

    def compose(self) -> ComposeResult:
        with Vertical(id="switch-dialog"):
            yield Static(t("switch.title"), id="switch-title")
            options = [
                Option(
                    plain(
                        f"{'● ' if s.id == self.session.service.id else '  '}{cut(s.name, 40)} "
                        f"({cut(s.code, 20)})",
                        no_wrap=True,
                        overflow="ellipsis",
                    ),
                    id=s.code,
                )
                for s in self.session.services
            ]
            yield OptionList(*options, id="switch-list")
            yield Static(t("switch.hint"), id="switch-hint")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.highlighted = next(
            i for i, s in enumerate(self.session.services) if s.id == self.session.service.id
        )
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)
