"""What a screen may ask for, bound to a session: ``session.callbacks``, ``session.sms`` and
``session.directory``.

Each service holds the session, so a call names only what it is about (``session.callbacks.search(query,
limit=50)``, not the store, the user and the service again). The actions are the core's own functions,
bound to the session's store, user and *current* service at each call: they check the permission and
re-read the user first (core/identity.py), in one place. Screens and widgets call these, never the store
(an import-linter contract in pyproject.toml).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Concatenate, Generic, ParamSpec, Protocol, TypeVar

from contiple_tui.core import callbacks as cb
from contiple_tui.core import sms
from contiple_tui.domain import permissions
from contiple_tui.domain.models import CallbackStatus, Service, User
from contiple_tui.domain.queries import HistoryFilter
from contiple_tui.domain.sms_models import Message, MessageImage, Recipient
from contiple_tui.store import Store

if TYPE_CHECKING:
    from contiple_tui.sms.gateway import Gateway

P = ParamSpec("P")
R = TypeVar("R")


class _Scope(Protocol):
    """What a session is to its services (core/session.py's Session)."""

    store: Store
    user: User
    service: Service


class _Action(Generic[P, R]):
    """A core action ``fn(store, user, service, ...)`` as a method of a session's service."""

    def __init__(self, fn: Callable[Concatenate[Store, User, Service, P], R]) -> None:
        self.fn = fn
        self.__doc__ = fn.__doc__

    def __get__(self, owner: _Bound | None, kind: type | None = None) -> Callable[P, R]:
        if owner is None:
            return self.fn  # type: ignore[return-value]  # the class attribute: the core function itself
        scope = owner.session
        return functools.partial(self.fn, scope.store, scope.user, scope.service)


class _Bound:
    def __init__(self, session: _Scope) -> None:
        self.session = session


class CallbackService(_Bound):
    """Callbacks (1-1 … 1-4) as the signed-in user may see and change them in the service in use."""

    search = _Action(cb.search)
    count = _Action(cb.count)
    get = _Action(cb.get)
    complete = _Action(cb.complete)
    register_history = _Action(cb.register_history)
    assignable_agents = _Action(cb.assignable_agents)
    assign_equal = _Action(cb.assign_equal)
    assign_manual = _Action(cb.assign_manual)
    unassign = _Action(cb.unassign)
    assignment_totals = _Action(cb.assignment_totals)
    processing_status = _Action(cb.processing_status)
    begin_dial = _Action(cb.begin_dial)
    dial_accepted = _Action(cb.dial_accepted)
    dial_answered = _Action(cb.dial_answered)
    end_dial = _Action(cb.end_dial)

    def status_counts(self) -> dict[CallbackStatus, int]:
        """Home's counts by status: the service's for an admin, the user's own for an agent (kept counts:
        well under a millisecond). PermissionDenied for those who may not see callbacks."""
        s = self.session
        scope = permissions.callback_list_scope(s.user, s.service)
        return s.store.callbacks.count_by_status(
            s.service.id, None if scope is permissions.Scope.ALL else s.user.id
        )


class SmsService(_Bound):
    """SMS/MMS (2-1 … 2-3) as the signed-in user may use them in the service in use."""

    template_tree = _Action(sms.template_tree)
    category_contents = _Action(sms.category_contents)
    add_category = _Action(sms.add_category)
    update_category = _Action(sms.update_category)
    delete_category = _Action(sms.delete_category)
    save_template = _Action(sms.save_template)
    delete_template = _Action(sms.delete_template)
    usable_templates = _Action(sms.usable_templates)
    prepare = _Action(sms.prepare)
    send = _Action(sms.send)
    history = _Action(sms.history)
    history_count = _Action(sms.history_count)
    message = _Action(sms.message)
    cancel_reservation = _Action(sms.cancel_reservation)

    def history_filter(self, **kwargs: Any) -> HistoryFilter:
        """The history's filter with the user's scope applied (agents see only what they sent)."""
        return sms.history_filter(self.session.user, self.session.service, **kwargs)

    def recipients(self, message_id: int, limit: int) -> list[Recipient]:
        """The recipients of a send the user may see (PermissionDenied for another agent's)."""
        msg = self.message(message_id)
        return self.session.store.sms.recipients(msg.id, limit=limit)

    def images(self, message_id: int) -> list[MessageImage]:
        msg = self.message(message_id)
        return self.session.store.sms.images(msg.id)

    def may_cancel(self, msg: Message, now: float | None = None) -> bool:
        return sms.may_cancel(self.session.user, msg, now=now)

    def refresh(self, gateway_by_name: Callable[[Service, str], Gateway], now: float | None = None) -> int:
        """Bring the service's open sends up to date (nothing when the user may not see SMS)."""
        s = self.session
        if not permissions.may_view_sms(s.user, s.service):
            return 0
        return sms.refresh(s.store, gateway_by_name, [s.service], now=now)


class DirectoryService(_Bound):
    """Who is who, for showing names: the people of the center, never their rights."""

    def names(self) -> dict[int, str]:
        """Every user's name by id (assignees, assigners, senders in lists)."""
        return {u.id: u.name for u in self.session.store.users.list()}

    def service_users(self) -> list[User]:
        """The users of the service in use (filters by person)."""
        return self.session.store.users.list(self.session.service.id)

    def agent_names(self) -> dict[str, str]:
        """Names by CTI agent id (the wallboard's agent board)."""
        return {u.cti_agent_id: u.name for u in self.session.store.users.list() if u.cti_agent_id}
