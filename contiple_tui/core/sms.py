"""SMS sending (PRODUCT.md 2-1, 2-2, 2-3): templates, composing and sending, history, cancel.

Every action checks permissions first. A send is stored before the gateway is called and its answer
recorded after, so nothing is lost and nothing is sent twice: the gateway is asked to send exactly once.
A send whose answer was lost is *unknown* until a look-up by its grouping key finds it (then it is
recorded as the gateway has it) or until repeated successful empty look-ups after NHN's visibility
window say it never arrived (then it failed, and only the user may send it again). See docs/sms.md.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from contiple_tui.core.identity import acting  # every action re-reads its user and service
from contiple_tui.domain import permissions as perms
from contiple_tui.domain import safe_input
from contiple_tui.domain import sms_rules as rules
from contiple_tui.domain.images import MmsImage, check_image_bytes, check_image_set
from contiple_tui.domain.models import Service, User
from contiple_tui.domain.queries import HistoryFilter
from contiple_tui.domain.sms_models import (
    Category,
    Message,
    MessageImage,
    MessageStatus,
    Template,
    TemplateImage,
)
from contiple_tui.domain.sms_rules import SendType
from contiple_tui.errors import NotFound, PermissionDenied, StoreError, ValidationError
from contiple_tui.i18n import t
from contiple_tui.safe_text import clean
from contiple_tui.sms.gateway import (
    FINAL_STATES,
    Gateway,
    GatewayError,
    OutgoingImage,
    RecipientResult,
    RecipientState,
    SendRequest,
    SendResult,
    SendUnknown,
)
from contiple_tui.store.engine import database_errors

if TYPE_CHECKING:
    from contiple_tui.store import Store

NAME_MAX = 100
# A send whose answer was lost is declared "never arrived" only when, after VISIBILITY_WINDOW_S since it
# was stored (NHN lists an accepted send within seconds; 15 minutes is far past any delay seen, and is
# UNCONFIRMED by NHN's docs), at least EMPTY_LOOKUPS_NEEDED successful look-ups by its grouping key found
# nothing, spread over at least EMPTY_LOOKUPS_SPAN_S. A failed look-up (gateway down) proves nothing.
VISIBILITY_WINDOW_S = 15 * 60
EMPTY_LOOKUPS_NEEDED = 3
EMPTY_LOOKUPS_SPAN_S = 2 * 60
LOOKUP_NOTE_EVERY_S = 60  # inside the window, "last looked up" is written at most this often
PENDING_GRACE_S = 60  # a send still "sending" after this, not found at the gateway, shows as unknown
# (looked up all the same: a console that died, or a disk that filled, after the request went out)
DESCRIPTION_MAX = 500

log = logging.getLogger(__name__)


def service_now(service: Service, now: float | None = None) -> datetime:
    """Now in the service's time zone (reservations are typed and checked there)."""
    return datetime.fromtimestamp(time.time() if now is None else now, ZoneInfo(service.timezone))


# -- templates (2-1) ------------------------------------------------------------------------------


@acting
def template_tree(store: Store, user: User, service: Service) -> list[Category]:
    perms.require_manage_sms_templates(user, service)
    return store.sms.tree(service.id)


@acting
def usable_templates(store: Store, user: User, service: Service) -> list[tuple[Category, Category, Template]]:
    """For the composer: templates in use under categories in use, as (top, sub, template)."""
    perms.require_send_sms(user, service)
    result: list[tuple[Category, Category, Template]] = []
    for top in store.sms.tree(service.id):
        if not top.in_use:
            continue
        for sub in top.children:
            if sub.in_use:
                result.extend((top, sub, tpl) for tpl in sub.templates if tpl.in_use)
    return result


def _clean_name(name: str, field: str = "name") -> str:
    safe_input.check(field, name)
    name = " ".join(name.split())
    if not name:
        raise ValidationError("sms.err.name_empty")
    if len(name) > NAME_MAX:
        raise ValidationError("sms.err.name_too_long", limit=NAME_MAX)
    return name


@acting
def add_category(
    store: Store, user: User, service: Service, name: str, parent_id: int | None = None, in_use: bool = True
) -> int:
    """A first-level category, or a second-level one under a first-level ``parent_id``."""
    perms.require_manage_sms_templates(user, service)
    name = _clean_name(name, "category_name")

    def write(conn):
        if parent_id is not None:
            parent = store.sms.category(conn, parent_id)
            if parent is None or parent.service_id != service.id:
                raise NotFound("sms.err.category_missing")
            if parent.parent_id is not None:
                raise ValidationError("sms.err.category_depth")
        return store.sms.insert_category(conn, service.id, parent_id, name, in_use, int(time.time()))

    return store.db.run_write(write)


@acting
def update_category(
    store: Store, user: User, service: Service, category_id: int, name: str, in_use: bool
) -> None:
    perms.require_manage_sms_templates(user, service)
    name = _clean_name(name, "category_name")

    def write(conn):
        _own_category(store, conn, service, category_id)
        store.sms.update_category(conn, category_id, name, in_use)

    store.db.run_write(write)


@acting
def category_contents(store: Store, user: User, service: Service, category_id: int) -> tuple[int, int]:
    """(sub-categories, templates) below a category: what the delete confirmation names."""
    perms.require_manage_sms_templates(user, service)
    with store.db.read() as conn:
        _own_category(store, conn, service, category_id)
        return store.sms.category_contents(conn, category_id)


@acting
def delete_category(store: Store, user: User, service: Service, category_id: int) -> tuple[int, int]:
    """Deletes the category with its sub-categories and templates; returns what went with it."""
    perms.require_manage_sms_templates(user, service)

    def write(conn):
        _own_category(store, conn, service, category_id)
        counts = store.sms.category_contents(conn, category_id)
        store.sms.delete_category(conn, category_id)
        return counts

    return store.db.run_write(write)


def _own_category(store: Store, conn, service: Service, category_id: int) -> Category:
    cat = store.sms.category(conn, category_id)
    if cat is None or cat.service_id != service.id:
        raise NotFound("sms.err.category_missing")
    return cat


@dataclass(slots=True)
class TemplateDraft:
    category_id: int
    name: str
    send_type: SendType
    body: str
    title: str = ""
    description: str = ""
    in_use: bool = True
    editable: bool = True
    sender_no: str | None = None
    images: tuple[MmsImage, ...] | None = None  # None: keep the stored ones (on edit)


@acting
def save_template(
    store: Store, user: User, service: Service, draft: TemplateDraft, template_id: int | None = None
) -> int:
    """Create (``template_id`` None) or update a template under a second-level category."""
    perms.require_manage_sms_templates(user, service)
    name = _clean_name(draft.name, "template_name")
    safe_input.check("description", draft.description)
    safe_input.check("sms_title", draft.title, newlines=True)
    safe_input.check("sms_body", draft.body, newlines=True)
    if len(draft.description) > DESCRIPTION_MAX:
        raise ValidationError("sms.err.description_too_long", limit=DESCRIPTION_MAX)
    images = draft.images
    image_count = len(images) if images is not None else 0
    if images is not None:
        check_image_set(images)
    if draft.sender_no:
        rules.check_sender(draft.sender_no, service.sender_numbers)

    def write(conn):
        cat = _own_category(store, conn, service, draft.category_id)
        if cat.parent_id is None:
            raise ValidationError("sms.err.template_top_level")
        count = image_count
        if images is None and template_id is not None:
            old = store.sms.template(conn, template_id)
            count = len(old.images) if old else 0
        title = draft.title if draft.send_type is SendType.MMS else ""
        rules.validate_content(draft.send_type, title, draft.body, count)
        if template_id is not None:
            old = store.sms.template(conn, template_id)
            if old is None or old.service_id != service.id:
                raise NotFound("sms.err.template_missing")
        fields = {
            "name": name,
            "description": draft.description.strip(),
            "send_type": draft.send_type,
            "in_use": draft.in_use,
            "editable": draft.editable,
            "sender_no": draft.sender_no or None,
            "title": title,
            "body": draft.body,
        }
        stored = None if images is None else [TemplateImage(i.file_name, i.data) for i in images]
        return store.sms.save_template(
            conn, template_id, service.id, cat.id, fields, stored, int(time.time())
        )

    return store.db.run_write(write)


def get_template(store: Store, user: User, service: Service, template_id: int) -> Template:
    perms.require_send_sms(user, service)
    with store.db.read() as conn:
        tpl = store.sms.template(conn, template_id)
    if tpl is None or tpl.service_id != service.id:
        raise NotFound("sms.err.template_missing")
    return tpl


@acting
def delete_template(store: Store, user: User, service: Service, template_id: int) -> None:
    perms.require_manage_sms_templates(user, service)

    def write(conn):
        tpl = store.sms.template(conn, template_id)
        if tpl is None or tpl.service_id != service.id:
            raise NotFound("sms.err.template_missing")
        store.sms.delete_template(conn, template_id)

    store.db.run_write(write)


# -- composing and sending (2-2) ----------------------------------------------------------------------


@dataclass(slots=True)
class Draft:
    """What the composer or `sms send` collected, unchecked."""

    send_type: SendType
    sender_no: str
    body: str
    recipients: str  # as typed: digits and commas
    title: str = ""
    images: tuple[MmsImage, ...] = ()
    reserve: str = ""  # "YYYY-MM-DD HH:MM" in the service's time zone, or "" to send now
    template_id: int | None = None


@dataclass(frozen=True, slots=True)
class Prepared:
    """A draft that passed every rule: what will be sent."""

    send_type: SendType
    sender_no: str
    title: str
    body: str
    recipients: tuple[str, ...]
    duplicates: int
    images: tuple[MmsImage, ...]
    reserve_at: datetime | None
    template: Template | None


@acting
def prepare(
    store: Store, user: User, service: Service, draft: Draft, now: datetime | None = None
) -> Prepared:
    """Check every rule of 2-2; raises ValidationError (or PermissionDenied) on the first broken one."""
    perms.require_send_sms(user, service)
    safe_input.check("sms_title", draft.title, newlines=True)
    safe_input.check("sms_body", draft.body, newlines=True)
    now = now or service_now(service)
    template = None
    if draft.template_id is not None:
        template = get_template(store, user, service, draft.template_id)
        if not template.effective_in_use:
            raise ValidationError("sms.err.template_not_in_use", name=template.name)
        _check_locked(template, draft.send_type, draft.title, draft.body)
    title = draft.title
    rules.validate_content(draft.send_type, title, draft.body, len(draft.images))
    if draft.images:
        check_image_set(draft.images)
    if not service.sender_numbers:
        raise ValidationError("sms.err.no_sender_numbers")
    sender = rules.check_sender(draft.sender_no, service.sender_numbers)
    parsed = rules.parse_recipients(draft.recipients)
    reserve_at = rules.parse_reservation(draft.reserve, now) if draft.reserve.strip() else None
    return Prepared(
        draft.send_type,
        sender,
        title,
        draft.body,
        parsed.numbers,
        parsed.duplicates,
        tuple(draft.images),
        reserve_at,
        template,
    )


@dataclass(frozen=True, slots=True)
class SendOutcome:
    message_id: int
    status: MessageStatus
    recipients: int
    duplicates: int
    gateway: str
    request_id: str | None


def summarize(states: dict[str, int]) -> MessageStatus:
    """A send's status from its recipients' states."""
    total = sum(states.values())
    if total == 0:
        return MessageStatus.PENDING

    def n(state: RecipientState) -> int:
        return states.get(str(state), 0)

    if n(RecipientState.PENDING):
        return MessageStatus.PENDING
    if n(RecipientState.RESERVED):
        return MessageStatus.RESERVED
    if n(RecipientState.REQUESTED):
        return MessageStatus.REQUESTED
    if n(RecipientState.SENT) == total:
        return MessageStatus.SENT
    if n(RecipientState.CANCELLED) == total:
        return MessageStatus.CANCELLED
    if n(RecipientState.SENT):
        return MessageStatus.PARTIAL
    if n(RecipientState.FAILED) == total:
        return MessageStatus.FAILED
    return MessageStatus.PARTIAL if n(RecipientState.CANCELLED) else MessageStatus.FAILED


def template_text(template: Template) -> tuple[str, str]:
    """A template's (title, body) as the composer shows them: the stored text made safe to show
    (:func:`contiple_tui.safe_text.clean`: tabs as spaces, carriage returns and other controls
    dropped; the title on one line). Text stored before the door refused such characters differs
    from what is stored, so a locked template is compared in this form, never byte for byte."""
    return clean(template.title, None), clean(template.body, None, newlines=True)


def _check_locked(template: Template, send_type: SendType, title: str, body: str) -> None:
    """A locked (non-editable) template's text is sent as it is: refuse any change to it (compared as
    :func:`template_text` shows it, on both sides)."""
    if template.editable:
        return
    locked_title, locked_body = template_text(template)
    if clean(body, None, newlines=True) != locked_body or (
        send_type is SendType.MMS and clean(title, None) != locked_title
    ):
        raise ValidationError("sms.err.template_locked", name=template.name)


def recheck(store: Store, user: User, service: Service, prepared: Prepared, now: datetime) -> Prepared:
    """Every rule of 2-2 checked again on what is about to be sent, from the store's own records (the
    service's registered sender numbers, the template), whoever built ``prepared``: bytes, characters
    the carrier cannot encode, control characters, recipients, the reservation window (time has passed
    since it was typed) and the images (decoded again). Returns the send as the core checked it.

    ``user`` and ``service`` must be as the store has them now: :func:`send` passes what ``@acting``
    has just re-read (the registered sender numbers are checked against that record)."""
    if not isinstance(prepared, Prepared):
        raise TypeError("send() takes what prepare() returned")
    perms.require_send_sms(user, service)
    safe_input.check("sms_title", prepared.title, newlines=True)
    safe_input.check("sms_body", prepared.body, newlines=True)
    template = None
    if prepared.template is not None:
        template = get_template(store, user, service, prepared.template.id)
        if not template.effective_in_use:
            raise ValidationError("sms.err.template_not_in_use", name=template.name)
        _check_locked(template, prepared.send_type, prepared.title, prepared.body)
    send_type = SendType(prepared.send_type)
    title = prepared.title if send_type is SendType.MMS else ""
    rules.validate_content(send_type, title, prepared.body, len(prepared.images))
    images = tuple(check_image_bytes(i.file_name, i.data) for i in prepared.images)
    if images:
        check_image_set(images)
    if not service.sender_numbers:
        raise ValidationError("sms.err.no_sender_numbers")
    sender = rules.check_sender(prepared.sender_no, service.sender_numbers)
    if any(not isinstance(n, str) for n in prepared.recipients):
        raise ValidationError("sms.err.no_recipients")
    parsed = rules.parse_recipients(",".join(prepared.recipients))
    reserve_at = prepared.reserve_at
    if reserve_at is not None:
        rules.check_reservation(reserve_at, now)
    return Prepared(
        send_type,
        sender,
        title,
        prepared.body,
        parsed.numbers,
        max(prepared.duplicates, parsed.duplicates),
        images,
        reserve_at,
        template,
    )


@acting
def send(
    store: Store,
    user: User,
    service: Service,
    prepared: Prepared,
    gateway: Gateway,
    now: datetime | None = None,
) -> SendOutcome:
    """Check every rule again, store the send, hand it to the gateway in exactly one request, record
    the answer.

    Raises ValidationError (nothing stored, nothing sent) when a rule is broken; GatewayError when the
    gateway refused or could not be reached (kept as failed: nothing went out); :class:`SendUnknown`
    (exit code 3) when the request went out and whether the gateway took it is not known: its answer
    was lost and the look-up did not find it, or the answer could not be stored. Such a send is kept
    as unknown and looked up again by ``refresh``; it is never posted again by itself.
    """
    now = now or service_now(service)
    prepared = recheck(store, user, service, prepared, now)
    key = f"ct-{uuid.uuid4().hex}"
    created = int(now.timestamp())
    tpl = prepared.template

    def insert(conn):
        return store.sms.insert_message(
            conn,
            service_id=service.id,
            user_id=user.id,
            template_id=tpl.id if tpl else None,
            template_name=tpl.name if tpl else None,
            send_type=prepared.send_type,
            sender_no=prepared.sender_no,
            title=prepared.title,
            body=prepared.body,
            reserved_for=int(prepared.reserve_at.timestamp()) if prepared.reserve_at else None,
            now=created,
            gateway=gateway.name,
            grouping_key=key,
            recipients=prepared.recipients,
            images=[MessageImage(i.file_name, i.width, i.height, i.data) for i in prepared.images],
        )

    message_id = store.db.run_write(insert)
    request = SendRequest(
        send_type=prepared.send_type,
        sender_no=prepared.sender_no,
        body=prepared.body,
        recipients=prepared.recipients,
        grouping_key=key,
        user_login=user.login,
        title=prepared.title,
        images=tuple(OutgoingImage(i.file_name, i.data) for i in prepared.images),
        reserve_at=prepared.reserve_at,
        requested_at=now,
    )
    result = _deliver(store, message_id, gateway, request)
    try:
        status = _record(store, message_id, result)
    except database_errors(StoreError) as exc:
        # It went out (the gateway answered) but cannot be written down (disk full, read-only): the
        # stored row still has its grouping key, so the next refresh finds it at the gateway.
        raise SendUnknown(
            "sms.outcome.not_recorded", id=message_id, request_id=result.request_id, reason=str(exc)
        ) from exc
    return SendOutcome(
        message_id, status, len(prepared.recipients), prepared.duplicates, gateway.name, result.request_id
    )


def _deliver(store: Store, message_id: int, gateway: Gateway, request: SendRequest) -> SendResult:
    """Exactly one send request. After a lost answer the send is looked up once by its key; if that
    fails or finds nothing, it is unknown (never sent again here)."""
    try:
        return gateway.send(request)
    except GatewayError as exc:
        if not exc.maybe_sent:
            _fail(store, message_id, exc)
            raise
        found = _find(gateway, request)
        if found is not None:
            return found
        _mark_unknown(store, message_id, exc)
        raise SendUnknown("sms.outcome.unknown", id=message_id, reason=exc.message().rstrip(".")) from exc


def _find(gateway: Gateway, request: SendRequest) -> SendResult | None:
    try:
        return gateway.find_sent(request)
    except GatewayError:
        return None


def _fail(store: Store, message_id: int, exc: GatewayError) -> None:
    now = int(time.time())
    code = str(exc.code) if exc.code is not None else None
    text = exc.message()

    def write(conn):
        store.sms.set_all_recipients(conn, message_id, str(RecipientState.FAILED), code, text, now)
        store.sms.set_request(conn, message_id, None, MessageStatus.FAILED, code, text)

    try:
        store.db.run_write(write)
    except database_errors(StoreError):
        pass  # kept as pending with its key: the look-ups find nothing and settle it as not sent


def _mark_unknown(store: Store, message_id: int, exc: GatewayError) -> None:
    def write(conn):
        store.sms.set_request(conn, message_id, None, MessageStatus.UNKNOWN, None, exc.message())

    try:
        store.db.run_write(write)
    except database_errors(StoreError):
        pass  # kept as pending with its key: refresh looks it up all the same


def _record(store: Store, message_id: int, result: SendResult) -> MessageStatus:
    now = int(time.time())

    def write(conn):
        store.sms.update_recipients(conn, message_id, _rows(result.recipients), now)
        status = summarize(store.sms.recipient_states(conn, message_id))
        store.sms.set_request(conn, message_id, result.request_id, status, "0", "")
        return status

    return store.db.run_write(write)


def _rows(results) -> list[tuple]:
    return [(r.recipient_no, r.recipient_seq, str(r.state), r.result_code, r.result_message) for r in results]


# -- sender numbers ---------------------------------------------------------------------------------


@acting
def sync_sender_numbers(
    store: Store, user: User, service: Service, gateway: Gateway
) -> tuple[list[str], list[str]]:
    """Replace the service's sender numbers with the gateway's usable ones (GET /sendNos); admins only.
    Returns (added, removed). Registering a number is done in NHN's console, with ownership papers."""
    perms.require_manage_sms_templates(user, service)
    from contiple_tui.core.directory import normalize_sender

    numbers = list(dict.fromkeys(normalize_sender(n) for n in gateway.sender_numbers()))
    if not numbers:
        raise ValidationError("sms.err.no_usable_senders")
    old = list(service.sender_numbers)
    store.db.run_write(lambda conn: store.services.replace_sender_numbers(conn, service.id, numbers))
    return [n for n in numbers if n not in old], [n for n in old if n not in numbers]


# -- history (2-3) -------------------------------------------------------------------------------------


def history_filter(user: User, service: Service, **kwargs) -> HistoryFilter:
    """The filter with the user's scope applied: agents see only what they sent."""
    scope = perms.sms_history_scope(user, service)
    if kwargs.get("start") is not None and kwargs.get("end") is not None and kwargs["start"] >= kwargs["end"]:
        raise ValidationError("err.date_range_reversed")
    return HistoryFilter(user_id=None if scope is perms.Scope.ALL else user.id, **kwargs)


@acting
def history(
    store: Store,
    user: User,
    service: Service,
    f: HistoryFilter,
    after: tuple[int, int] | None = None,
    limit: int = 100,
) -> list[Message]:
    _check_scope(user, service, f)
    return store.sms.history(service.id, f, after, limit)


@acting
def history_count(store: Store, user: User, service: Service, f: HistoryFilter) -> int:
    _check_scope(user, service, f)
    return store.sms.history_count(service.id, f)


def _check_scope(user: User, service: Service, f: HistoryFilter) -> None:
    scope = perms.sms_history_scope(user, service)
    if scope is perms.Scope.OWN and f.user_id != user.id:
        raise PermissionDenied(perms.Action.VIEW_SMS_HISTORY)


# One rule says whose sends a user may see and act on (an admin: any in the service; an agent: their own,
# as :func:`history_filter` scopes the list). Two doors apply it and differ only in what they say of
# another user's send: :func:`message` (the history's detail view) refuses it as not allowed;
# :func:`own_message` (acting on a send: ``sms cancel``) says "not found or not yours", the same as for
# a missing id, so that whether an id exists is not told to someone who may not touch it.


def _stored_message(store: Store, user: User, service: Service, message_id: int) -> Message | None:
    """The send with this id in this service, or None; refuses a user without SMS history here."""
    perms.require_view_sms_history(user, service)
    msg = store.sms.get_message(message_id)
    return msg if msg is not None and msg.service_id == service.id else None


def _is_theirs(user: User, msg: Message) -> bool:
    return user.is_admin or msg.user_id == user.id


@acting
def message(store: Store, user: User, service: Service, message_id: int) -> Message:
    """A send the user may see. A missing id raises NotFound, another user's send PermissionDenied."""
    msg = _stored_message(store, user, service, message_id)
    if msg is None:
        raise NotFound("sms.err.message_missing")
    if not _is_theirs(user, msg):
        raise PermissionDenied(perms.Action.VIEW_SMS_HISTORY)
    return msg


def may_cancel(user: User, msg: Message, now: float | None = None) -> bool:
    now = time.time() if now is None else now
    return (
        msg.status is MessageStatus.RESERVED
        and msg.reserved_for is not None
        and msg.reserved_for > now
        and _is_theirs(user, msg)
    )


def own_message(store: Store, user: User, service: Service, message_id: int) -> Message:
    """A send the user may act on (the same rule as :func:`message`). A missing id and another user's
    send raise the same NotFound ("not found or not yours")."""
    msg = _stored_message(store, user, service, message_id)
    if msg is None or not _is_theirs(user, msg):
        raise NotFound("sms.outcome.cancel_not_found", id=message_id)
    return msg


@acting
def cancel_reservation(store: Store, user: User, service: Service, message_id: int, gateway: Gateway) -> int:
    """Cancel a reservation not yet sent, at the gateway and here. Returns recipients cancelled.

    Another user's send reads exactly as a missing one ("not found or not yours"): whether an id
    exists is not told to someone who may not touch it."""
    msg = own_message(store, user, service, message_id)
    if not may_cancel(user, msg):
        raise ValidationError("sms.err.not_cancellable")
    with store.db.read() as conn:
        seqs = store.sms.reserved_seqs(conn, message_id)
    if msg.request_id and seqs:
        gateway.cancel(msg.request_id, seqs, user.login)
    now = int(time.time())

    def write(conn):
        count = store.sms.set_all_recipients(
            conn,
            message_id,
            str(RecipientState.CANCELLED),
            None,
            "",
            now,
            only_state=str(RecipientState.RESERVED),
        )
        store.sms.set_status(conn, message_id, summarize(store.sms.recipient_states(conn, message_id)))
        return count

    return store.db.run_write(write)


# -- keeping statuses current ---------------------------------------------------------------------------


def refresh(
    store: Store,
    gateway_for: Callable[[Service, str], Gateway],
    services: list[Service],
    now: float | None = None,
) -> int:
    """Bring open sends up to date; returns how many changed.

    Sandbox: a reservation becomes sent when its time has come. NHN: each open request is asked for
    its recipients' states; an unknown send (or one left pending) is looked up by its grouping key and
    settled as :func:`_look_up` says. Nothing is ever sent from here. A send that cannot be looked up or
    recorded (the store fails on it) is logged and left as it was for the next refresh; the others go on.
    """
    now = time.time() if now is None else now
    changed = 0
    for service in services:
        gateways: dict[str, Gateway | None] = {}
        try:
            for msg in store.sms.open_messages(service.id):
                try:
                    changed += _refresh_one(store, gateway_for, gateways, service, msg, now)
                except database_errors(StoreError) as exc:
                    # This send alone cannot be looked up or recorded now: each write is one transaction,
                    # so it is kept as it was and the next refresh tries it again. The others go on.
                    log.warning("SMS send #%s not refreshed: %s", msg.id, clean(exc, 300))
        finally:
            for gateway in gateways.values():
                if gateway is not None:
                    gateway.close()
    return changed


def _refresh_one(
    store: Store,
    gateway_for: Callable[[Service, str], Gateway],
    gateways: dict[str, Gateway | None],
    service: Service,
    msg: Message,
    now: float,
) -> int:
    if msg.gateway == "sandbox":
        if msg.status is MessageStatus.RESERVED and msg.reserved_for is not None and msg.reserved_for <= now:
            return _sandbox_due(store, msg, int(now))
        if msg.status in (MessageStatus.PENDING, MessageStatus.UNKNOWN) and msg.created_at < now - 60:
            return _settle_pending(store, msg)
        return 0
    if msg.gateway not in gateways:
        try:
            gateways[msg.gateway] = gateway_for(service, msg.gateway)
        except GatewayError:  # keys removed since: leave those sends as they are
            gateways[msg.gateway] = None
    gateway = gateways[msg.gateway]
    return 0 if gateway is None else _refresh_remote(store, msg, gateway, now)


def _sandbox_due(store: Store, msg: Message, now: int) -> int:
    def write(conn):
        store.sms.set_all_recipients(
            conn,
            msg.id,
            str(RecipientState.SENT),
            "0",
            "SANDBOX",
            now,
            only_state=str(RecipientState.RESERVED),
        )
        store.sms.set_status(conn, msg.id, summarize(store.sms.recipient_states(conn, msg.id)))

    store.db.run_write(write)
    return 1


def _settle_pending(store: Store, msg: Message) -> int:
    """A send interrupted before its answer was recorded (the process died), which the gateway does not
    have (the sandbox never has anything): it was not sent, so it failed."""
    now = int(time.time())
    text = t("sms.err.interrupted")

    def write(conn):
        store.sms.set_all_recipients(conn, msg.id, str(RecipientState.FAILED), None, text, now)
        store.sms.set_request(conn, msg.id, None, MessageStatus.FAILED, None, text)

    store.db.run_write(write)
    return 1


def _refresh_remote(store: Store, msg: Message, gateway: Gateway, now: float) -> int:
    try:
        if msg.request_id is None:
            return _look_up(store, msg, gateway, now)
        results = gateway.statuses(msg.send_type, msg.request_id, msg.reserved_for is not None)
    except GatewayError:
        return 0
    if not results:
        return 0
    now = int(time.time())

    def write(conn):
        before = store.sms.recipient_states(conn, msg.id)
        store.sms.update_recipients(conn, msg.id, _rows(results), now)
        after = store.sms.recipient_states(conn, msg.id)
        store.sms.set_status(conn, msg.id, summarize(after))
        return int(before != after)

    return store.db.run_write(write)


def _look_up(store: Store, msg: Message, gateway: Gateway, now: float) -> int:
    """A send without NHN's request id (its answer was lost, or could not be stored): look it up by its
    grouping key. Found: recorded as NHN has it. Not found: unknown, until enough successful empty
    look-ups after the visibility window say it never arrived. Raises GatewayError when the look-up
    itself fails (nothing is concluded from that)."""
    request = SendRequest(
        send_type=msg.send_type,
        sender_no=msg.sender_no,
        body=msg.body,
        recipients=(msg.first_recipient,),
        grouping_key=msg.grouping_key,
        user_login="",
        title=msg.title,
        reserve_at=datetime.fromtimestamp(msg.reserved_for, ZoneInfo("UTC")) if msg.reserved_for else None,
        requested_at=datetime.fromtimestamp(msg.created_at, ZoneInfo("UTC")),
    )
    found = gateway.find_sent(request)
    if found is not None:
        _record(store, msg.id, found)
        return 1
    at = int(now)
    counted = now - msg.created_at >= VISIBILITY_WINDOW_S

    def write(conn):
        current = store.sms.message(conn, msg.id)
        if (
            current is None
            or current.request_id is not None
            or current.status not in (MessageStatus.PENDING, MessageStatus.UNKNOWN)
        ):
            return 0  # settled meanwhile by another console
        becomes_unknown = current.status is MessageStatus.PENDING and at - msg.created_at >= PENDING_GRACE_S
        if (
            not counted
            and not becomes_unknown
            and current.last_lookup_at is not None
            and at - current.last_lookup_at < LOOKUP_NOTE_EVERY_S
        ):
            return 0  # nothing to conclude yet: no write, so other consoles are not woken for nothing
        empty, first = store.sms.note_lookup(conn, msg.id, at, empty_counted=counted)
        if counted and empty >= EMPTY_LOOKUPS_NEEDED and at - first >= EMPTY_LOOKUPS_SPAN_S:
            text = t("sms.outcome.never_arrived", minutes=(at - msg.created_at) // 60, lookups=empty)
            store.sms.set_all_recipients(conn, msg.id, str(RecipientState.FAILED), None, text, at)
            store.sms.set_request(conn, msg.id, None, MessageStatus.FAILED, None, text)
            return 1
        if becomes_unknown:
            # Not "sending" any more (its console would have recorded an answer by now): say so.
            store.sms.set_request(
                conn, msg.id, None, MessageStatus.UNKNOWN, None, t("sms.outcome.not_found_yet")
            )
            return 1
        return 0

    return store.db.run_write(write)


def is_final(state: str) -> bool:
    return RecipientState(state) in FINAL_STATES


__all__ = [
    "Draft",
    "Prepared",
    "RecipientResult",
    "SendOutcome",
    "TemplateDraft",
    "add_category",
    "cancel_reservation",
    "category_contents",
    "delete_category",
    "delete_template",
    "get_template",
    "history",
    "history_count",
    "history_filter",
    "message",
    "may_cancel",
    "own_message",
    "prepare",
    "recheck",
    "refresh",
    "save_template",
    "send",
    "service_now",
    "template_text",
    "template_tree",
    "update_category",
    "usable_templates",
]
