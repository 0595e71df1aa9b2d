"""Connect (연결): dial a callback's customer through the CTI and follow the call to its end.

The core marks the callback as dialling (one transaction, so a double press cannot dial twice); the
CTI is asked to dial; the outcome events (answered, failed, ended) close the attempt. Headless.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from contiple_tui.core import callbacks as cb
from contiple_tui.core.session import Session
from contiple_tui.cti.client import CommandRejected, CtiClient
from contiple_tui.cti.protocol import AgentState, Command, Event, EventMessage
from contiple_tui.domain.phone import format_phone
from contiple_tui.errors import ContipleError
from contiple_tui.i18n import t

log = logging.getLogger(__name__)
Notify = Callable[[str, str], None]  # (message, severity)


class CallbackDialer:
    def __init__(self, session: Session, client: CtiClient | None, notify: Notify) -> None:
        self.session = session
        self.client = client
        self.notify = notify
        self.calls: dict[str, int] = {}  # CTI call id -> callback id
        self._tasks: set[asyncio.Task] = set()
        if client is not None:
            client.subscribe(self._on_cti)

    def cti_logged_in(self) -> bool:
        """The user's agent is known to the live phone system and not logged out."""
        client, agent_id = self.client, self.session.user.cti_agent_id
        if client is None or not client.live or not agent_id:
            return False
        agent = client.model.agents.get(agent_id)
        return agent is not None and agent.state is not AgentState.LOGGED_OUT

    def connect(self, callback: cb.Callback) -> None:
        session = self.session
        client = self.client
        if client is None or not client.live:
            # The link is down (or there is none): say that, not "not allowed".
            self.notify(t("cb.cti_down" if client is not None else "cb.no_cti"), "error")
            return
        try:
            dialled = session.callbacks.begin_dial(callback.id, self.cti_logged_in())
        except ContipleError as exc:
            self.notify(exc.message(), "error")
            return
        task = asyncio.get_running_loop().create_task(self._dial(dialled))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _dial(self, callback: cb.Callback) -> None:
        session = self.session
        assert self.client is not None
        try:
            data = await self.client.command(
                Command.DIAL,
                agent_id=session.user.cti_agent_id,
                number=callback.customer_phone,
                service=session.service.code,
                ref=f"callback:{callback.id}",
            )
        except (CommandRejected, ConnectionError) as exc:
            try:
                session.callbacks.end_dial(callback.id)
            except ContipleError as refused:  # disabled meanwhile: the dial guard lapses by itself
                log.warning("dial end not recorded: %s", refused)
            reason = exc.reason if isinstance(exc, CommandRejected) else "disconnected"
            self.notify(t("cb.dial_failed", reason=t(f"cti.reason.{reason}")), "error")
            return
        call_id = str(data.get("call_id", ""))
        if call_id:
            self.calls[call_id] = callback.id
        try:  # accepted: now the attempt counts
            callback = session.callbacks.dial_accepted(callback.id)
        except ContipleError as exc:  # disabled meanwhile, or the store refused: the call goes on
            log.warning("dial attempt not recorded: %s", exc)
        self.notify(
            t("cb.dialing", phone=format_phone(callback.customer_phone), attempt=callback.attempts),
            "information",
        )

    def _on_cti(self, client: CtiClient, what: object) -> None:
        if not isinstance(what, EventMessage):
            return
        call_id = what.data.get("call_id")
        callback_id = self.calls.get(call_id) if isinstance(call_id, str) else None
        if callback_id is None:
            return
        session = self.session
        try:
            if what.event is Event.OUTBOUND_CONNECTED:
                session.callbacks.dial_answered(callback_id)
            elif what.event in (Event.OUTBOUND_FAILED, Event.OUTBOUND_ENDED):
                self.calls.pop(str(call_id), None)
                session.callbacks.end_dial(callback_id)
                if what.event is Event.OUTBOUND_FAILED:
                    reason = str(what.data.get("reason", ""))
                    self.notify(t("cb.dial_failed", reason=t(f"cti.reason.{reason}")), "warning")
        except ContipleError as exc:
            log.warning("dial outcome not recorded: %s", exc)
