"""The console's header: service in use, who is signed in, CTI connection state, clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.events import Click
from textual.message import Message
from textual.widgets import Static

from contiple_tui.core.session import Session
from contiple_tui.i18n import t
from contiple_tui.widgets.safe import cut, plain


class ConsoleHeader(Horizontal):
    """One line; the service name is clickable when the user has several services."""

    class SwitchServiceRequested(Message):
        pass

    def __init__(self, session: Session, clock: Callable[[], datetime], **kwargs) -> None:
        super().__init__(**kwargs)
        self.session = session
        self.clock = clock
        self.cti_state = "offline"
        self._clock_text = ""

    def compose(self) -> ComposeResult:
        yield Static(t("app.brand"), id="brand")
        yield Static(id="service")
        yield Static(id="who")
        yield Static(id="cti")
        yield Static(id="clock")

    def on_mount(self) -> None:
        self.refresh_identity()
        self.tick()
        self.set_interval(1.0, self.tick)

    def refresh_identity(self) -> None:
        session = self.session
        service = session.service
        switch = " ▾" if len(session.services) > 1 else ""
        self.query_one("#service", Static).update(plain(f"{cut(service.name, 30)}{switch}", no_wrap=True))
        self.query_one("#service").tooltip = t("header.switch_hint") if switch else None
        role = t(f"role.{session.user.role}")
        self.query_one("#who", Static).update(plain(f"{cut(session.user.name, 30)} · {role}", no_wrap=True))
        self.set_cti_state(self.cti_state)

    def set_cti_state(self, state: str, why: str | None = None) -> None:
        """``state`` is connected | connecting | offline | stale, each with a symbol, not only a colour;
        ``why`` says why the link is down (widgets/link_reason.py)."""
        self.cti_state = state
        symbol = {"connected": "●", "connecting": "◐", "stale": "◌"}.get(state, "○")
        cti = self.query_one("#cti", Static)
        reason = f" · {cut(why, 40)}" if why and state != "connected" else ""
        cti.update(plain(f"{symbol} {t('header.cti')} {t(f'cti.{state}')}{reason}", no_wrap=True))
        cti.set_classes(f"cti-{state}")

    def tick(self) -> None:
        """Hours and minutes: an idle console repaints nothing between two minutes (a repaint a second was
        most of what 50 idle consoles on one host cost). Fixed width in the stylesheet: no layout pass."""
        now = self.clock().astimezone(ZoneInfo(self.session.service.timezone))
        text = now.strftime("%H:%M")
        if text != self._clock_text:
            self._clock_text = text
            self.query_one("#clock", Static).update(text, layout=False)

    def on_click(self, event: Click) -> None:
        if event.widget is not None and event.widget.id == "service" and len(self.session.services) > 1:
            self.post_message(self.SwitchServiceRequested())
