"""The CTI websocket protocol, version 1: message shapes, encoding, and strict validation.

Documented with an example of every message in docs/cti-protocol.md. JSON text frames; timestamps are
UTC ISO-8601 strings with a trailing "Z" (never ages); every event carries a monotonic ``seq``.
Anything that arrives from the network is validated here before the rest of the program sees it:
unknown message types are ignored, malformed frames raise :class:`ProtocolError` (counted, never fatal).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from contiple_tui.safe_text import clean

PROTOCOL_VERSION = 1
MAX_FRAME_BYTES = 4 * 1024 * 1024  # larger frames are refused by the websocket layer
MAX_COUNT = 10**9  # any counter or duration beyond this is hostile
MAX_TEXT = 200  # names, ids, reasons
MAX_ITEMS = 100_000  # agents, services, waiting callers in one snapshot


class ProtocolError(ValueError):
    """A frame that breaks the protocol. Carries a short reason for the log."""


class AgentState(StrEnum):
    LOGGED_OUT = "logged_out"
    READY = "ready"  # 대기중
    RINGING = "ringing"  # counted with talking (상담중)
    TALKING = "talking"  # 상담중
    DIALING = "dialing"  # counted with outbound (O/B)
    OUTBOUND = "outbound"  # O/B: connected outbound call
    ACW = "acw"  # after-call work (업무처리)
    BREAK = "break"  # 휴식


class Event(StrEnum):
    CALL_QUEUED = "call_queued"
    CALL_RINGING = "call_ringing"
    CALL_ANSWERED = "call_answered"
    CALL_ABANDONED = "call_abandoned"
    CALL_ENDED = "call_ended"
    OUTBOUND_DIALING = "outbound_dialing"
    OUTBOUND_CONNECTED = "outbound_connected"
    OUTBOUND_FAILED = "outbound_failed"
    OUTBOUND_ENDED = "outbound_ended"
    AGENT_STATE = "agent_state"
    CALLBACK_REQUESTED = "callback_requested"
    DAILY_RESET = "daily_reset"


# Events that only move the services' numbers (the boards). A console that shows no board subscribes to
# the others alone (docs/cti-protocol.md, "Subscriptions"): it still takes callback requests in, knows
# every agent's state and follows its own calls, for a fraction of the frames.
BOARD_EVENTS = frozenset(
    {
        Event.CALL_QUEUED,
        Event.CALL_RINGING,
        Event.CALL_ANSWERED,
        Event.CALL_ABANDONED,
        Event.CALL_ENDED,
        Event.DAILY_RESET,
    }
)
WITHOUT_BOARDS: tuple[str, ...] = tuple(str(e) for e in Event if e not in BOARD_EVENTS)


class Command(StrEnum):
    DIAL = "dial"
    SET_STATE = "set_state"
    LOGIN = "login"
    LOGOUT = "logout"
    STATS = "stats"  # the simulator's exact counters (the simulator is the authority)


# Fields each event must carry, with their kinds (see _FIELD_KINDS).
EVENT_FIELDS: dict[Event, dict[str, str]] = {
    Event.CALL_QUEUED: {"service": "id", "call_id": "id", "caller": "text?", "enqueued_at": "time"},
    Event.CALL_RINGING: {"service": "id", "call_id": "id", "agent_id": "id"},
    Event.CALL_ANSWERED: {"service": "id", "call_id": "id", "agent_id": "id", "wait_s": "count"},
    Event.CALL_ABANDONED: {"service": "id", "call_id": "id", "wait_s": "count", "reason": "text?"},
    Event.CALL_ENDED: {"service": "id", "call_id": "id", "agent_id": "id"},
    Event.OUTBOUND_DIALING: {
        "agent_id": "id",
        "call_id": "id",
        "number": "text",
        "service": "id?",
        "command_id": "text?",
    },
    Event.OUTBOUND_CONNECTED: {"agent_id": "id", "call_id": "id"},
    Event.OUTBOUND_FAILED: {"agent_id": "id", "call_id": "id", "reason": "text"},
    Event.OUTBOUND_ENDED: {"agent_id": "id", "call_id": "id"},
    Event.AGENT_STATE: {"agent_id": "id", "previous": "state", "state": "state", "since": "time"},
    Event.CALLBACK_REQUESTED: {
        "request_id": "id",
        "service": "id",
        "phone": "text",
        "name": "text?",
        "ivr_route": "text?",
        "requested_at": "time",
    },
    Event.DAILY_RESET: {"service": "id", "day": "day"},
}

_ID_RE = re.compile(r"^[A-Za-z0-9._:@-]{1,64}$")
_DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# C0/C1 control characters (ESC, BEL, CSI...) never reach a terminal from the feed.


def utc_now() -> datetime:
    return datetime.now(UTC)


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def parse_time(text: Any) -> datetime:
    """UTC 'Z' timestamps within this century: year 1 or 9999 would overflow date arithmetic later."""
    if not isinstance(text, str) or len(text) > 40 or not text.endswith("Z"):
        raise ProtocolError("bad timestamp")
    try:
        moment = datetime.fromisoformat(text[:-1] + "+00:00")
    except ValueError:
        raise ProtocolError("bad timestamp") from None
    if not EARLIEST <= moment < LATEST:
        raise ProtocolError("timestamp out of range")
    return moment


@lru_cache(maxsize=64)
def _zone_ok(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ValueError, OSError):  # ZoneInfoNotFoundError is a KeyError subclass, see below
        return False
    except KeyError:
        return False
    return True


def _timezone(value: Any) -> str:
    name = clean_text(value, 64)
    if not _zone_ok(name):
        raise ProtocolError("unknown time zone")
    return name


def clean_text(value: Any, limit: int = MAX_TEXT) -> str:
    """A string from the feed, safe to show (:func:`contiple_tui.safe_text.clean`: no control or bidi
    characters, lone surrogates replaced), at most ``limit`` characters."""
    if not isinstance(value, str):
        raise ProtocolError("expected a string")
    if len(value) > limit * 4:
        raise ProtocolError("string too long")
    return clean(value, None)[:limit]


def valid_id(value: Any) -> bool:
    """Ids (services, agents, calls) are short and plain: letters, digits and . _ : @ -."""
    return isinstance(value, str) and _ID_RE.match(value) is not None


def _id(value: Any) -> str:
    if not valid_id(value):
        raise ProtocolError("bad id")
    return value


def _count(value: Any) -> int:
    # bool is an int in Python; a hostile true/false must not count as 1/0.
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= MAX_COUNT:
        raise ProtocolError("bad number")
    return int(value)


def _state(value: Any) -> AgentState:
    try:
        return AgentState(value)
    except ValueError:
        raise ProtocolError("bad agent state") from None


def _field(kind: str, value: Any) -> Any:
    optional = kind.endswith("?")
    kind = kind.rstrip("?")
    if value is None:
        if optional:
            return None
        raise ProtocolError("missing field")
    if kind == "id":
        return _id(value)
    if kind == "text":
        return clean_text(value)
    if kind == "count":
        return _count(value)
    if kind == "time":
        return parse_time(value)
    if kind == "state":
        return _state(value)
    if kind == "day":
        if not isinstance(value, str) or not _DAY_RE.match(value):
            raise ProtocolError("bad day")
        return value
    raise AssertionError(kind)


# -- decoded server messages -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Welcome:
    protocol: int
    heartbeat_s: float
    server_time: datetime
    epoch: str
    resume: bool
    time_scale: float = 1.0
    # The server filters by subscription ("events" present in welcome); ``events`` is the filter in
    # effect (None: every event). A server without filters sends everything and ignores "subscribe".
    filters: bool = False
    events: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class Heartbeat:
    server_time: datetime
    seq: int


@dataclass(frozen=True, slots=True)
class WaitingCall:
    call_id: str
    enqueued_at: datetime


@dataclass(frozen=True, slots=True)
class ServiceSnapshot:
    service: str
    name: str
    timezone: str
    day: str
    sl_threshold_s: int
    waiting: tuple[WaitingCall, ...]
    inbound: int
    answered: int
    abandoned: int
    answered_within_sl: int


@dataclass(frozen=True, slots=True)
class AgentSnapshot:
    agent_id: str
    name: str
    state: AgentState
    since: datetime
    services: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Snapshot:
    seq: int
    server_time: datetime
    services: tuple[ServiceSnapshot, ...]
    agents: tuple[AgentSnapshot, ...]


@dataclass(frozen=True, slots=True)
class EventMessage:
    seq: int
    ts: datetime
    event: Event
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Reply:
    id: str
    ok: bool
    reason: str | None
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ServerError:
    reason: str


ServerMessage = Welcome | Heartbeat | Snapshot | EventMessage | Reply | ServerError


def _obj(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ProtocolError("expected an object")
    return value


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list) or len(value) > MAX_ITEMS:
        raise ProtocolError("expected a bounded list")
    return value


def _service_snapshot(raw: Any) -> ServiceSnapshot:
    raw = _obj(raw)
    counters = _obj(raw.get("counters"))
    waiting = tuple(
        WaitingCall(_id(_obj(w).get("call_id")), parse_time(_obj(w).get("enqueued_at")))
        for w in _list(raw.get("waiting", []))
    )
    snap = ServiceSnapshot(
        service=_id(raw.get("service")),
        name=clean_text(raw.get("name", "")),
        timezone=_timezone(raw.get("timezone", "Asia/Seoul")),
        day=_field("day", raw.get("day")),
        sl_threshold_s=_count(raw.get("sl_threshold_s", 20)),
        waiting=waiting,
        inbound=_count(counters.get("inbound")),
        answered=_count(counters.get("answered")),
        abandoned=_count(counters.get("abandoned")),
        answered_within_sl=_count(counters.get("answered_within_sl")),
    )
    if snap.answered + snap.abandoned > snap.inbound or snap.answered_within_sl > snap.answered:
        raise ProtocolError("inconsistent counters")
    return snap


def _agent_snapshot(raw: Any) -> AgentSnapshot:
    raw = _obj(raw)
    return AgentSnapshot(
        agent_id=_id(raw.get("agent_id")),
        name=clean_text(raw.get("name", "")),
        state=_state(raw.get("state")),
        since=parse_time(raw.get("since")),
        services=tuple(_id(s) for s in _list(raw.get("services", []))),
    )


def decode_server(frame: str | bytes) -> ServerMessage | None:
    """Decode one frame from the server. ``None`` for a well-formed message of an unknown type."""
    if isinstance(frame, bytes):
        raise ProtocolError("binary frame")
    if len(frame) > MAX_FRAME_BYTES:
        raise ProtocolError("frame too large")
    try:
        raw = json.loads(frame)
    except (ValueError, RecursionError):
        raise ProtocolError("invalid JSON") from None
    raw = _obj(raw)
    kind = raw.get("type")
    if kind == "event":
        seq = _count(raw.get("seq"))
        try:
            event = Event(str(raw.get("event")))
        except ValueError:
            return None  # an event type from a newer server: ignored
        spec = EVENT_FIELDS[event]
        data = {name: _field(k, raw.get(name)) for name, k in spec.items()}
        return EventMessage(seq=seq, ts=parse_time(raw.get("ts")), event=event, data=data)
    if kind == "heartbeat":
        return Heartbeat(server_time=parse_time(raw.get("server_time")), seq=_count(raw.get("seq")))
    if kind == "snapshot":
        return Snapshot(
            seq=_count(raw.get("seq")),
            server_time=parse_time(raw.get("server_time")),
            services=tuple(_service_snapshot(s) for s in _list(raw.get("services"))),
            agents=tuple(_agent_snapshot(a) for a in _list(raw.get("agents"))),
        )
    if kind == "welcome":
        heartbeat = raw.get("heartbeat_s")
        scale = raw.get("time_scale", 1)
        if (
            isinstance(heartbeat, bool)
            or not isinstance(heartbeat, (int, float))
            or not 0.05 <= heartbeat <= 300
        ):
            raise ProtocolError("bad heartbeat period")
        if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not 0 < scale <= 10_000:
            raise ProtocolError("bad time scale")
        return Welcome(
            protocol=_count(raw.get("protocol")),
            heartbeat_s=float(heartbeat),
            server_time=parse_time(raw.get("server_time")),
            epoch=_id(raw.get("epoch")),
            resume=raw.get("resume") is True,
            time_scale=float(scale),
            filters="events" in raw,
            events=None if raw.get("events") is None else tuple(_id(e) for e in _list(raw.get("events"))),
        )
    if kind == "reply":
        ok = raw.get("ok")
        if not isinstance(ok, bool):
            raise ProtocolError("bad reply")
        reason = raw.get("reason")
        data = raw.get("data", {})
        return Reply(
            id=clean_text(raw.get("id"), 64),
            ok=ok,
            reason=None if reason is None else clean_text(reason),
            data=_obj(data),
        )
    if kind == "error":
        return ServerError(reason=clean_text(raw.get("reason", "")))
    if isinstance(kind, str):
        return None  # unknown message type: ignored
    raise ProtocolError("missing type")


# -- encoding ------------------------------------------------------------------------------------


def encode(message: dict[str, Any]) -> str:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))


def hello(
    token: str | None,
    console: dict[str, Any],
    epoch: str | None,
    last_seq: int | None,
    events: tuple[str, ...] | None = None,
) -> str:
    """``events``: the event names wanted (None: all of them)."""
    return encode(
        {
            "type": "hello",
            "protocol": PROTOCOL_VERSION,
            "token": token,
            "console": console,
            "epoch": epoch,
            "last_seq": last_seq,
            "events": None if events is None else list(events),
        }
    )


def subscribe(events: tuple[str, ...] | None) -> str:
    """Change the events wanted (None: all). Widening is answered with a snapshot."""
    return encode({"type": "subscribe", "events": None if events is None else list(events)})


def command(command_id: str, name: Command, **args: Any) -> str:
    return encode({"type": "command", "id": command_id, "command": str(name), **args})


def resync() -> str:
    return encode({"type": "resync"})
