"""Records of SMS sending: template categories and templates, messages and their recipients."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from contiple_tui.domain.sms_rules import SendType


@dataclass(frozen=True, slots=True)
class TemplateImage:
    file_name: str
    data: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class Template:
    id: int
    service_id: int
    category_id: int
    name: str
    description: str
    send_type: SendType
    in_use: bool
    editable: bool
    sender_no: str | None
    title: str
    body: str
    images: tuple[TemplateImage, ...] = ()
    effective_in_use: bool = True  # in use, and so are its category and the category's parent


@dataclass(slots=True)
class Category:
    id: int
    service_id: int
    parent_id: int | None
    name: str
    in_use: bool
    children: list[Category] = field(default_factory=list)
    templates: list[Template] = field(default_factory=list)

    @property
    def is_top(self) -> bool:
        return self.parent_id is None


class MessageStatus(StrEnum):
    """A send as the history shows it, summed up from its recipients."""

    PENDING = "pending"  # stored; the gateway has not answered yet
    UNKNOWN = "unknown"  # the answer was lost and the send was not found at the gateway (checked again)
    RESERVED = "reserved"
    REQUESTED = "requested"  # accepted, not every recipient final yet
    SENT = "sent"  # every recipient sent
    PARTIAL = "partial"  # some sent, some failed or cancelled
    FAILED = "failed"  # refused by the gateway, or every recipient failed
    CANCELLED = "cancelled"


OPEN_STATUSES = (
    MessageStatus.PENDING,
    MessageStatus.UNKNOWN,
    MessageStatus.RESERVED,
    MessageStatus.REQUESTED,
)


@dataclass(frozen=True, slots=True)
class Message:
    id: int
    service_id: int
    user_id: int
    user_name: str
    template_id: int | None
    template_name: str | None
    send_type: SendType
    sender_no: str
    title: str
    body: str
    reserved_for: int | None  # epoch seconds
    created_at: int
    gateway: str
    grouping_key: str
    request_id: str | None
    status: MessageStatus
    result_code: str | None
    result_message: str
    recipient_count: int
    first_recipient: str
    image_count: int = 0
    last_lookup_at: int | None = None  # when an unknown send was last looked up by its grouping key


@dataclass(frozen=True, slots=True)
class Recipient:
    id: int
    message_id: int
    recipient_no: str
    recipient_seq: int | None
    state: str  # sms.gateway.RecipientState
    result_code: str | None
    result_message: str
    updated_at: int


@dataclass(frozen=True, slots=True)
class MessageImage:
    file_name: str
    width: int
    height: int
    data: bytes = field(repr=False)
