"""What a user asks the store for: the callback search (1-2) and the SMS history filter (2-3).

Plain values, built by the screens and the CLI, read by the core's checks and by the store's SQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from contiple_tui.domain.models import CallbackStatus
from contiple_tui.domain.sms_models import MessageStatus
from contiple_tui.domain.sms_rules import SendType


@dataclass(frozen=True)
class CallbackQuery:
    """Search (1-2): every field optional; dates are requested dates in the service's time zone."""

    date_from: date | None = None
    date_to: date | None = None
    status: CallbackStatus | None = None
    ivr_route: str | None = None
    phone: str | None = None  # any part of the number
    assignee_id: int | None = None
    assigner_id: int | None = None


@dataclass(frozen=True, slots=True)
class HistoryFilter:
    """SMS history (2-3): every field optional."""

    start: int | None = None  # epoch, inclusive
    end: int | None = None  # epoch, exclusive
    send_type: SendType | None = None
    status: MessageStatus | None = None
    recipient: str = ""  # digits, part of a number
    sender_no: str = ""  # digits, part of the sender number
    user_id: int | None = None  # an agent's own sends
