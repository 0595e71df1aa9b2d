"""Callback management (콜백 관리): intake, search, connect/complete, assignment, processing status.

Every action a person performs re-reads its user and service from the store (core.identity.acting: a
user disabled in another process is refused at the next action), checks PRODUCT.md's permission rules
(core.permissions) and is one transaction;
read-modify-write runs under ``BEGIN IMMEDIATE`` so two consoles never both win.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from contiple_tui.core.identity import acting
from contiple_tui.domain import permissions as perm
from contiple_tui.domain.models import CallbackStatus, OutboundTicketMode, Service, User
from contiple_tui.domain.queries import CallbackQuery
from contiple_tui.errors import ValidationError
from contiple_tui.safe_text import clean
from contiple_tui.store import Conn, Store

MAX_FEED_TEXT = 200  # names and routes from the feed (the protocol's own limit)
DIAL_GUARD_S = 120  # a dial not reported back within this is considered over
PHONE_RE = re.compile(r"^0[0-9]{8,11}$")  # Korean numbers, digits only: 9 to 12 digits


@dataclass(frozen=True, slots=True)
class Callback:
    id: int
    service_id: int
    cti_request_id: str
    customer_phone: str
    customer_name: str | None
    phone_valid: bool
    ivr_route: str | None
    requested_at: int
    last_requested_at: int
    request_count: int
    status: CallbackStatus
    assignee_id: int | None
    assigned_by: int | None
    assigned_at: int | None
    attempts: int
    last_attempt_at: int | None
    completed_at: int | None
    completed_by: int | None
    dialing_since: int | None


class IntakeOutcome(StrEnum):
    CREATED = "created"
    MERGED = "merged"  # same number, same service, still open: one callback, count + 1
    DUPLICATE = "duplicate"  # this request id was already taken in (redelivery, another console)


@dataclass
class AssignResult:
    assigned: dict[int, list[int]] = field(default_factory=dict)  # agent id -> callback ids
    skipped: list[int] = field(default_factory=list)  # taken or changed by someone else meanwhile

    @property
    def count(self) -> int:
        return sum(len(ids) for ids in self.assigned.values())


def normalize_phone(raw: str) -> tuple[str, bool]:
    """Digits only, and whether it looks like a Korean phone number (kept and flagged when not)."""
    digits = re.sub(r"[\s\-().]", "", raw or "")
    return digits[:32], bool(PHONE_RE.match(digits))


def day_range(service: Service, first: date | None, last: date | None) -> tuple[int | None, int | None]:
    """Epoch bounds [start of first day, start of the day after last) in the service's time zone."""
    if first and last and first > last:
        raise ValidationError("err.date_range_reversed")
    zone = ZoneInfo(service.timezone)

    def start(day: date) -> int:
        return int(datetime(day.year, day.month, day.day, tzinfo=zone).timestamp())

    return (start(first) if first else None, start(last + timedelta(days=1)) if last else None)


# -- intake (1-1) ---------------------------------------------------------------------------------


def intake(
    store: Store,
    service: Service,
    *,
    request_id: str,
    phone: str,
    name: str | None,
    ivr_route: str | None,
    requested_at: datetime,
    also: Callable[[Conn], None] | None = None,
) -> tuple[IntakeOutcome, int]:
    """Take one CTI callback request in, exactly once, however often and by however many consoles.

    ``also`` runs in the same write transaction (the intake lease holder renews its lease and moves the
    feed position there: one write transaction per request).

    Text from the feed is kept as printable text that the store can hold: a lone surrogate (a JSON
    ``"\\ud800"`` escape) becomes U+FFFD, controls and bidi marks are dropped, rather than the request
    being lost to an encoding error.
    """
    digits, valid = normalize_phone(clean(phone, 64))
    name = clean(name, MAX_FEED_TEXT) or None
    ivr_route = clean(ivr_route, MAX_FEED_TEXT) or None
    request_id = clean(request_id, MAX_FEED_TEXT)
    at = int(requested_at.timestamp())

    def write(conn: Conn) -> tuple[IntakeOutcome, int]:
        known = store.callbacks.request_owner(conn, service.id, request_id)
        if known is not None:
            return IntakeOutcome.DUPLICATE, known
        open_id = store.callbacks.open_callback_for_phone(conn, service.id, digits) if valid else None
        if open_id is not None:
            store.callbacks.merge_request(conn, open_id, at)
            outcome, callback_id = IntakeOutcome.MERGED, open_id
        else:
            callback_id = store.callbacks.insert_request(
                conn, service.id, request_id, digits, name, valid, ivr_route, at
            )
            outcome = IntakeOutcome.CREATED
        store.callbacks.record_request(conn, service.id, request_id, callback_id, at)
        return outcome, callback_id

    def write_all(conn: Conn) -> tuple[IntakeOutcome, int]:
        result = write(conn)
        if also is not None:
            also(conn)
        return result

    return store.db.run_write(write_all)


# -- list (1-2) -----------------------------------------------------------------------------------


def _scope(user: User, service: Service, assigning: bool = False) -> int | None:
    """None for every callback of the service (admins; and assigners on the assignment screens),
    else the user's own."""
    if assigning:
        perm.require_assign_callbacks(user, service)
        return None
    return None if perm.callback_list_scope(user, service) is perm.Scope.ALL else user.id


@acting
def search(
    store: Store,
    user: User,
    service: Service,
    query: CallbackQuery,
    *,
    after: tuple[int, int] | None = None,
    limit: int = 100,
    assigning: bool = False,
) -> list[Callback]:
    """One page, newest first. ``after`` is the (requested_at, id) of the last row of the page before.

    ``assigning``: the assignment screens (1-3, 1-4), where assigners see every callback of the service.
    """
    lo, hi = day_range(service, query.date_from, query.date_to)
    rows = store.callbacks.search(service.id, _scope(user, service, assigning), query, lo, hi, after, limit)
    return [_build(row) for row in rows]


@acting
def count(store: Store, user: User, service: Service, query: CallbackQuery) -> int:
    lo, hi = day_range(service, query.date_from, query.date_to)
    return store.callbacks.count(service.id, _scope(user, service), query, lo, hi)


def _build(row: tuple | None) -> Callback:
    if row is None:  # read inside the write that just changed it: never gone
        raise RuntimeError("callback vanished inside its own transaction")
    values = list(row)
    values[5] = bool(values[5])
    values[10] = CallbackStatus(values[10])
    return Callback(*values)


@acting
def get(store: Store, user: User, service: Service, callback_id: int) -> Callback | None:
    row = store.callbacks.get(callback_id)
    if row is None:
        return None
    callback = _build(row)
    scope = _scope(user, service)
    if callback.service_id != service.id or (scope is not None and callback.assignee_id != scope):
        return None  # not visible to this user: as if it did not exist
    return callback


# -- connect and complete -------------------------------------------------------------------------


@acting
def begin_dial(store: Store, user: User, service: Service, callback_id: int, cti_logged_in: bool) -> Callback:
    """Connect (연결): mark the callback as dialling, before the phone system is asked to dial.

    Refuses a second connect while a dial of the same callback is in progress (double presses). The
    attempt is counted (with its history line and, on_dial, the ticket) only once the phone system
    accepts the dial (dial_accepted); a refused dial ends with end_dial and counts nothing.
    """
    now = int(time.time())

    def write(conn: Conn) -> Callback:
        row = store.callbacks.get_for_update(conn, callback_id, service.id)
        if row is None:
            raise ValidationError("err.cb_not_found", id=callback_id)
        callback = _build(row)
        perm.require_connect_callback(user, service, callback.assignee_id, cti_logged_in)
        if callback.status is CallbackStatus.COMPLETED:
            raise ValidationError("err.cb_completed", id=callback_id)
        if callback.dialing_since is not None and now - callback.dialing_since < DIAL_GUARD_S:
            raise ValidationError("err.cb_dialing", id=callback_id)
        store.callbacks.start_dial(conn, callback_id, now)
        return _build(store.callbacks.get_for_update(conn, callback_id, service.id))

    return store.db.run_write(write)


@acting
def dial_accepted(store: Store, user: User, service: Service, callback_id: int) -> Callback:
    """The phone system accepted the dial: the attempt counts, with its history line and (on_dial) the
    outbound ticket. Only for a callback of this service that the user may dial."""
    now = int(time.time())

    def write(conn: Conn) -> Callback:
        callback = _dial_outcome_target(conn, store, user, service, callback_id)
        store.callbacks.count_attempt(conn, callback_id, now)
        store.callbacks.add_history(conn, callback_id, now, user.id, "dial", None, None, None, None)
        if service.outbound_ticket_mode is OutboundTicketMode.ON_DIAL:
            _outbound_ticket(conn, store, user, service, callback, now)
        return _build(store.callbacks.get_for_update(conn, callback_id, service.id))

    return store.db.run_write(write)


@acting
def dial_answered(store: Store, user: User, service: Service, callback_id: int) -> None:
    """The CTI reported that the customer answered: on_connect creates the ticket now.

    Only for a callback of this service that the user may dial (its assignee, or an admin, with phone).
    """
    now = int(time.time())

    def write(conn: Conn) -> None:
        callback = _dial_outcome_target(conn, store, user, service, callback_id)
        if service.outbound_ticket_mode is OutboundTicketMode.ON_CONNECT:
            _outbound_ticket(conn, store, user, service, callback, now)

    store.db.run_write(write)


def _dial_outcome_target(
    conn: Conn, store: Store, user: User, service: Service, callback_id: int
) -> Callback:
    """Inside a write: the callback a dial's outcome is about, if the user may record it."""
    row = store.callbacks.get_for_update(conn, callback_id, service.id)
    if row is None:
        raise ValidationError("err.cb_not_found", id=callback_id)
    callback = _build(row)
    perm.require_dial_outcome(user, service, callback.assignee_id)
    return callback


def _outbound_ticket(
    conn: Conn, store: Store, user: User, service: Service, callback: Callback, now: int
) -> None:
    store.callbacks.insert_ticket(
        conn,
        service.id,
        "OUT",
        callback.customer_phone,
        callback.customer_name,
        "callback",
        "",
        user.id,
        callback.id,
        now,
    )


@acting
def end_dial(store: Store, user: User, service: Service, callback_id: int) -> None:
    """The call is over (ended, failed or refused): the callback may be dialled again.

    Only for a callback of this service that the user may dial (its assignee, or an admin, with phone).
    """

    def write(conn: Conn) -> None:
        _dial_outcome_target(conn, store, user, service, callback_id)
        store.callbacks.stop_dial(conn, callback_id)

    store.db.run_write(write)


@acting
def complete(store: Store, user: User, service: Service, callback_ids: Sequence[int]) -> int:
    """Complete (완료): allowed without dialling; pressing it twice is harmless. Returns how many changed."""
    now = int(time.time())

    def write(conn: Conn) -> int:
        changed = 0
        for callback_id in callback_ids:
            row = store.callbacks.get_for_update(conn, callback_id, service.id)
            if row is None:
                raise ValidationError("err.cb_not_found", id=callback_id)
            callback = _build(row)
            perm.require_complete_callback(user, service, callback.assignee_id)
            if callback.status is CallbackStatus.COMPLETED:
                continue
            store.callbacks.set_completed(conn, callback_id, now, user.id)
            store.callbacks.add_history(
                conn,
                callback_id,
                now,
                user.id,
                "complete",
                str(callback.status),
                str(CallbackStatus.COMPLETED),
                callback.assignee_id,
                callback.assignee_id,
            )
            changed += 1
        return changed

    return store.db.run_write(write)


@acting
def register_history(
    store: Store,
    user: User,
    service: Service,
    *,
    subject: str,
    memo: str = "",
    phone: str | None = None,
    name: str | None = None,
    direction: str = "OUT",
    callback_id: int | None = None,
) -> int:
    """Register history (이력 등록): a ticket, related to a callback or not."""
    perm.require_register_history(user, service)
    subject = subject.strip()
    if not subject or len(subject) > 200:
        raise ValidationError("err.ticket_subject")
    if direction not in ("IN", "OUT"):
        raise ValidationError("err.ticket_direction")
    if callback_id is not None and get(store, user, service, callback_id) is None:
        raise ValidationError("err.cb_not_found", id=callback_id)
    digits = normalize_phone(phone)[0] if phone else None

    def write(conn: Conn) -> int:
        return store.callbacks.insert_ticket(
            conn, service.id, direction, digits, name, subject, memo, user.id, callback_id, int(time.time())
        )

    return store.db.run_write(write)


# -- assignment (1-3, 1-4) ------------------------------------------------------------------------


@acting
def assignable_agents(store: Store, user: User, service: Service) -> list[tuple[User, int]]:
    """The agents with phone in the service, with their number of incomplete callbacks."""
    perm.require_assign_callbacks(user, service)
    loads = store.callbacks.incomplete_by_assignee(service.id)
    agents = [u for u in store.users.list(service.id) if perm.may_receive_assignment(u, service)]
    return [(agent, loads.get(agent.id, 0)) for agent in agents]


def _check_targets(store: Store, service: Service, agent_ids: Sequence[int]) -> None:
    for agent_id in agent_ids:
        agent = store.users.get(agent_id)
        if agent is None or not perm.may_receive_assignment(agent, service):
            raise ValidationError("err.cb_bad_assignee", id=agent_id)


@acting
def assign_equal(
    store: Store, user: User, service: Service, callback_ids: Sequence[int], agent_ids: Sequence[int]
) -> AssignResult:
    """Equal split (균등할당): dealt one by one, in list order, to the selected agents in turn."""
    perm.require_assign_callbacks(user, service)
    if not callback_ids:
        raise ValidationError("err.cb_none_selected")
    if not agent_ids:
        raise ValidationError("err.cb_no_agents")
    return _assign(store, user, service, callback_ids, list(dict.fromkeys(agent_ids)))


@acting
def assign_manual(
    store: Store, user: User, service: Service, callback_ids: Sequence[int], agent_ids: Sequence[int]
) -> AssignResult:
    """Manual (수동할당): every selected callback to exactly one agent."""
    perm.require_assign_callbacks(user, service)
    if not callback_ids:
        raise ValidationError("err.cb_none_selected")
    if len(set(agent_ids)) != 1:
        raise ValidationError("err.cb_manual_one_agent", count=len(set(agent_ids)))
    return _assign(store, user, service, callback_ids, [agent_ids[0]])


def _assign(
    store: Store, user: User, service: Service, callback_ids: Sequence[int], agents: list[int]
) -> AssignResult:
    _check_targets(store, service, agents)
    now = int(time.time())
    wanted = list(dict.fromkeys(callback_ids))

    def write(conn: Conn) -> AssignResult:
        # Under the write lock (BEGIN IMMEDIATE): what is unassigned now stays so until we commit.
        # Only that is dealt out: another supervisor may have taken the rest meanwhile.
        free = store.callbacks.unassigned_among(conn, service.id, wanted)
        result = AssignResult()
        plan: list[tuple[int, int]] = []
        for callback_id in wanted:
            if callback_id not in free:
                result.skipped.append(callback_id)
                continue
            agent = agents[len(plan) % len(agents)]
            plan.append((callback_id, agent))
            result.assigned.setdefault(agent, []).append(callback_id)
        changed = store.callbacks.assign_many(conn, service.id, plan, user.id, now)  # with the history rows
        if changed != len(plan):  # cannot happen under the lock; never commit a half-told result
            raise RuntimeError(f"assigned {changed} of {len(plan)} callbacks")
        return result

    return store.db.run_write(write)


@acting
def unassign(store: Store, user: User, service: Service, callback_ids: Sequence[int]) -> AssignResult:
    """Cancel assignment (할당 취소): incomplete callbacks go back to unassigned; history keeps it."""
    perm.require_assign_callbacks(user, service)
    if not callback_ids:
        raise ValidationError("err.cb_none_selected")
    now = int(time.time())

    def write(conn: Conn) -> AssignResult:
        result = AssignResult()
        for callback_id in dict.fromkeys(callback_ids):
            previous = store.callbacks.unassign_if_assigned(conn, callback_id, service.id)
            if previous is None:
                result.skipped.append(callback_id)
                continue
            store.callbacks.add_history(
                conn,
                callback_id,
                now,
                user.id,
                "unassign",
                str(CallbackStatus.ASSIGNED),
                str(CallbackStatus.UNASSIGNED),
                previous,
                None,
            )
            result.assigned.setdefault(previous, []).append(callback_id)
        return result

    return store.db.run_write(write)


@acting
def assignment_totals(
    store: Store, user: User, service: Service, query: CallbackQuery
) -> tuple[int, int, int]:
    """총 고객수 / 기할당 / 미할당 for the assignment screen (completed callbacks excluded)."""
    perm.require_assign_callbacks(user, service)
    lo, hi = day_range(service, query.date_from, query.date_to)
    assigned, unassigned = store.callbacks.assignment_totals(service.id, lo, hi)
    return assigned + unassigned, assigned, unassigned


# -- processing status (1-5) -----------------------------------------------------------------------


@dataclass(frozen=True)
class StatusRow:
    period: str  # "2026-11-25" or "2026-11"
    requested: int
    assigned: int
    completed: int

    @property
    def not_processed(self) -> int:
        return self.assigned - self.completed

    @property
    def rate(self) -> float | None:
        """Processing rate = completed ÷ assigned × 100; None ("—") with nothing assigned."""
        return None if self.assigned == 0 else self.completed / self.assigned * 100


@acting
def processing_status(
    store: Store, user: User, service: Service, first: date, last: date, *, monthly: bool = False
) -> tuple[list[StatusRow], list[tuple[User | None, StatusRow]]]:
    """Per day (or month) of request, and per agent, over the period."""
    perm.require_view_processing_status(user, service)
    lo, hi = day_range(service, first, last)
    assert lo is not None and hi is not None
    start = datetime(first.year, first.month, first.day, tzinfo=ZoneInfo(service.timezone))
    offset = int((start.utcoffset() or timedelta()).total_seconds())
    periods = [
        StatusRow(*row) for row in store.callbacks.status_by_period(service.id, lo, hi, offset, monthly)
    ]
    users = {u.id: u for u in store.users.list()}
    agents = [
        (users.get(assignee), StatusRow("", assigned, assigned, completed))
        for assignee, assigned, completed in store.callbacks.status_by_agent(service.id, lo, hi)
    ]
    return periods, agents


def assignments_for(store: Store, user_id: int, after_history_id: int) -> list[tuple[int, int]]:
    """(history id, callback id) of assignments to this user after a history id: for notifications,
    also of assignments made in another console process."""
    return store.callbacks.assignments_to(user_id, after_history_id)
