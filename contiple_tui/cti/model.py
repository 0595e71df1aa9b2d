"""The console's live picture of the phone system, built from a snapshot and the events after it.

Pure state (no I/O): the client feeds it decoded messages; the wallboard reads it. Applying the same
messages always gives the same picture, which is what lets tests compare it with the simulator's own
counters.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from contiple_tui.cti.protocol import AgentState, Event, EventMessage, Snapshot

MAX_WAITING = 50_000  # per service; beyond this the feed is hostile or broken


@dataclass
class ServiceLive:
    service: str
    name: str
    timezone: str
    day: str
    sl_threshold_s: int
    waiting: OrderedDict[str, datetime] = field(default_factory=OrderedDict)
    inbound: int = 0
    answered: int = 0
    abandoned: int = 0
    answered_within_sl: int = 0

    def oldest_wait_start(self) -> datetime | None:
        # Kept in enqueue order (snapshot sorted, events append), so the first is the oldest: no scan
        # of thousands of callers on every redraw.
        return next(iter(self.waiting.values()), None)


@dataclass
class AgentLive:
    agent_id: str
    name: str
    state: AgentState
    since: datetime
    services: tuple[str, ...]


class Applied(Enum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"  # seq not above the last applied: ignored
    GAP = "gap"  # seq jumped ahead: the caller must resync


class LiveModel:
    def __init__(self) -> None:
        self.seq: int | None = None
        self.server_time: datetime | None = None
        self.services: dict[str, ServiceLive] = {}
        self.agents: dict[str, AgentLive] = {}
        self.version = 0  # bumped on every change, so views redraw only when something changed

    @property
    def has_data(self) -> bool:
        return self.seq is not None

    def clear(self) -> None:
        self.seq = None
        self.services.clear()
        self.agents.clear()
        self.version += 1

    def apply_snapshot(self, snapshot: Snapshot) -> None:
        self.seq = snapshot.seq
        self.server_time = snapshot.server_time
        self.services = {
            s.service: ServiceLive(
                service=s.service,
                name=s.name,
                timezone=s.timezone,
                day=s.day,
                sl_threshold_s=s.sl_threshold_s,
                waiting=OrderedDict(
                    (w.call_id, w.enqueued_at)
                    for w in sorted(s.waiting, key=lambda w: w.enqueued_at)[:MAX_WAITING]
                ),
                inbound=s.inbound,
                answered=s.answered,
                abandoned=s.abandoned,
                answered_within_sl=s.answered_within_sl,
            )
            for s in snapshot.services
        }
        self.agents = {
            a.agent_id: AgentLive(a.agent_id, a.name, a.state, a.since, a.services) for a in snapshot.agents
        }
        self.version += 1

    def apply_event(self, message: EventMessage, contiguous: bool = True) -> Applied:
        """``contiguous=False`` under a subscription that leaves events out: a jump in ``seq`` is expected
        (the events between were not subscribed to), so it is no gap."""
        if self.seq is None:
            return Applied.GAP  # events before any snapshot cannot be placed
        if message.seq <= self.seq:
            return Applied.DUPLICATE
        if contiguous and message.seq != self.seq + 1:
            return Applied.GAP
        self.seq = message.seq
        self.server_time = message.ts
        self._apply(message.event, message.data)
        self.version += 1
        return Applied.APPLIED

    def _apply(self, event: Event, data: dict) -> None:
        if event is Event.AGENT_STATE:
            agent = self.agents.get(data["agent_id"])
            if agent is None:  # an agent the snapshot did not list: known from now on, in no service
                agent = self.agents[data["agent_id"]] = AgentLive(
                    data["agent_id"], "", data["state"], data["since"], ()
                )
            agent.state = data["state"]
            agent.since = data["since"]
            return
        service = self.services.get(data.get("service") or "")
        if service is None:
            return
        if event is Event.CALL_QUEUED:
            service.inbound += 1
            if len(service.waiting) < MAX_WAITING:
                service.waiting[data["call_id"]] = data["enqueued_at"]
        elif event is Event.CALL_ANSWERED:
            service.answered += 1
            if data["wait_s"] <= service.sl_threshold_s:
                service.answered_within_sl += 1
            service.waiting.pop(data["call_id"], None)
        elif event is Event.CALL_ABANDONED:
            service.abandoned += 1
            service.waiting.pop(data["call_id"], None)
        elif event is Event.DAILY_RESET:
            # Callers still waiting stay, and count as the new day's inbound (as the server counts).
            service.day = data["day"]
            service.inbound = len(service.waiting)
            service.answered = service.abandoned = service.answered_within_sl = 0

    def counters(self) -> dict[str, dict[str, int]]:
        """The same shape as the simulator's ``stats`` reply, for exact comparison."""
        return {
            code: {
                "inbound": s.inbound,
                "answered": s.answered,
                "abandoned": s.abandoned,
                "answered_within_sl": s.answered_within_sl,
                "waiting": len(s.waiting),
            }
            for code, s in self.services.items()
        }
