"""What the core asks of an SMS gateway, and the sandbox gateway that sends nothing.

The core stores every message before it calls a gateway and records the answer after, so a gateway
keeps no state of its own that matters: the sandbox is stateless, NHN Cloud keeps its own.
"""

from __future__ import annotations

import itertools
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from contiple_tui.domain.sms_rules import SendType
from contiple_tui.errors import ContipleError


class RecipientState(StrEnum):
    """Where one recipient's message is. Final: sent, failed, cancelled."""

    PENDING = "pending"  # stored, not yet answered by the gateway (or the answer was lost)
    RESERVED = "reserved"  # accepted for a later time; can be cancelled
    REQUESTED = "requested"  # accepted, on its way to the carrier
    SENT = "sent"  # the carrier took it (NHN msgStatus 3)
    FAILED = "failed"
    CANCELLED = "cancelled"


FINAL_STATES = frozenset({RecipientState.SENT, RecipientState.FAILED, RecipientState.CANCELLED})


@dataclass(frozen=True, slots=True)
class OutgoingImage:
    file_name: str
    data: bytes


@dataclass(frozen=True, slots=True)
class SendRequest:
    send_type: SendType
    sender_no: str
    body: str
    recipients: tuple[str, ...]
    grouping_key: str  # unique per send: finds the send again when its answer was lost
    user_login: str
    title: str = ""
    images: tuple[OutgoingImage, ...] = ()
    reserve_at: datetime | None = None  # aware; the gateway converts to its own time zone
    requested_at: datetime | None = None  # aware; when the user pressed send (for look-ups)


@dataclass(frozen=True, slots=True)
class RecipientResult:
    recipient_no: str
    recipient_seq: int | None
    state: RecipientState
    result_code: str | None = None  # the gateway's code for this recipient, as text
    result_message: str = ""


@dataclass(frozen=True, slots=True)
class SendResult:
    request_id: str
    recipients: tuple[RecipientResult, ...]
    image_ids: tuple[str, ...] = field(default=())


class GatewayError(ContipleError):
    """The gateway refused or could not be reached. ``code`` is its result code when it answered.

    ``maybe_sent``: the request left the machine and no answer came back, so it may have been
    accepted; the core looks it up by its grouping key before trying again.
    """

    def __init__(self, key: str, /, *, code: int | None = None, maybe_sent: bool = False, **params: object):
        super().__init__(key, code=code if code is not None else "", **params)
        self.code = code
        self.maybe_sent = maybe_sent


class SendUnknown(GatewayError):
    """The send may have reached the gateway and whether it did is not known yet: its answer was lost
    and the look-up by grouping key did not find it (yet), or the answer could not be stored. It is kept
    as *unknown* and looked up again by every status refresh; it is never posted again automatically.
    Exit code 3 of ``sms send``: "do not retry"."""

    exit_code = 3

    def __init__(self, key: str, /, **params: Any) -> None:
        super().__init__(key, maybe_sent=True, **params)


class Gateway(ABC):
    name: str  # "sandbox" or "nhn"

    @abstractmethod
    def send(self, request: SendRequest) -> SendResult:
        """Send (or reserve) one message to its recipients in one request. Raises GatewayError."""

    @abstractmethod
    def find_sent(self, request: SendRequest) -> SendResult | None:
        """The send made with ``request.grouping_key``, if the gateway has it (after a lost answer)."""

    @abstractmethod
    def statuses(self, send_type: SendType, request_id: str, reserved: bool) -> list[RecipientResult]:
        """Each recipient's current state for a request."""

    @abstractmethod
    def cancel(self, request_id: str, recipient_seqs: list[int], user_login: str) -> int:
        """Cancel reserved recipients; returns how many were cancelled."""

    @abstractmethod
    def sender_numbers(self) -> list[str]:
        """Usable registered sender numbers."""

    def close(self) -> None:  # noqa: B027 - optional
        pass


class SandboxGateway(Gateway):
    """Sends nothing outside the machine. Accepts what NHN would accept; reservations become sent
    when due (the core decides that from the stored time, see ``core.sms.refresh``)."""

    name = "sandbox"
    _counter = itertools.count(1)

    def __init__(self, sender_numbers: tuple[str, ...] = ()) -> None:
        self._senders = list(sender_numbers)

    def send(self, request: SendRequest) -> SendResult:
        request_id = f"SANDBOX-{time.strftime('%Y%m%d%H%M%S')}-{next(self._counter):06d}"
        state = RecipientState.RESERVED if request.reserve_at else RecipientState.SENT
        results = tuple(
            RecipientResult(no, seq, state, "0", "SANDBOX")
            for seq, no in enumerate(request.recipients, start=1)
        )
        images = tuple(f"sandbox-{i}" for i, _ in enumerate(request.images, start=1))
        return SendResult(request_id, results, images)

    def find_sent(self, request: SendRequest) -> SendResult | None:
        return None  # the sandbox always answers

    def statuses(self, send_type: SendType, request_id: str, reserved: bool) -> list[RecipientResult]:
        return []  # nothing changes outside the store

    def cancel(self, request_id: str, recipient_seqs: list[int], user_login: str) -> int:
        return len(recipient_seqs)

    def sender_numbers(self) -> list[str]:
        return list(self._senders)
