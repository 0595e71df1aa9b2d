"""The phone-system simulator's world: queues, callers and agents, driven by a simulated clock.

No networking and no real time here: the owner moves the clock with :meth:`SimEngine.advance` and gets
back the events (protocol frames as dicts) that happened, so tests run a simulated day in milliseconds.
Deterministic for a given seed and the same sequence of calls. Memory stays bounded however long it
runs: only live calls and their pending timers are kept; finished calls are forgotten.

Headless: never imports textual.
"""

from __future__ import annotations

import heapq
import itertools
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from contiple_tui.cti.protocol import AgentState, Command, Event, format_time, valid_id
from contiple_tui.sim.demo import korean_name
from contiple_tui.store import Store

# Timing of the simulated world, in simulated seconds (means chosen to look like a real contact center).
RING_S = (2.0, 8.0)  # uniform
TALK_MIN_S, TALK_MEAN_S = 20.0, 180.0
ACW_MIN_S, ACW_MEAN_S = 5.0, 30.0
# A person sitting down at a console while their agent is on a call finishes it within this time (demo).
ATTEND_WRAP_S = 3.0
PATIENCE_MEAN_S = 90.0
CALLBACK_OFFER_AFTER_S = 30.0  # the voice menu offers a callback to callers still waiting then
CALLBACK_TAKE_RATE = 0.15
DIAL_S = (3.0, 10.0)
DIAL_CONNECT_RATE = 0.75
OUTBOUND_TALK_S = (30.0, 240.0)
BREAK_S = (300.0, 900.0)
ROSTER_MEAN_S = 90 * 60.0  # each agent reconsiders break/logout about every 90 minutes
LOGOUT_SHARE = 0.08  # of those moments, the rest are breaks
RELOGIN_MIN_S, RELOGIN_MEAN_S = 300.0, 45 * 60.0
# Inbound calls per hour per staffed agent. A free agent handles ~16 calls/hour (ring + talk + acw ≈ 215 s);
# with breaks and logouts this keeps agents ~80% busy: queues form, ~85% answered, service level ~75%.
CALLS_PER_AGENT_HOUR = 11.0

ON_CALL = frozenset({AgentState.RINGING, AgentState.TALKING, AgentState.DIALING, AgentState.OUTBOUND})
SETTABLE = frozenset({AgentState.READY, AgentState.BREAK, AgentState.ACW})
DIALABLE = frozenset({AgentState.READY, AgentState.ACW})
_NUMBER_RE = re.compile(r"^[0-9]{9,13}$")
# Ids the simulator sends must pass the client's strict decoder, or every frame naming them is dropped.
_MAX_COMMAND_ID = 64


# -- the directory the simulator serves ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SimService:
    code: str
    name: str
    timezone: str = "Asia/Seoul"
    sl_threshold_s: int = 20
    ivr_routes: tuple[str, ...] = ()  # route codes a callback request may carry
    callbacks: bool = True  # the service takes callback requests (its callback feature is on)


@dataclass(frozen=True, slots=True)
class SimAgent:
    agent_id: str
    name: str
    services: tuple[str, ...]
    login: str = ""  # the console user this agent is (the demo: a person at a console drives it)


@dataclass(frozen=True, slots=True)
class SimDirectory:
    services: tuple[SimService, ...]
    agents: tuple[SimAgent, ...]


def load_directory(store: Store) -> SimDirectory:
    """The CTI-enabled services and the enabled users with a CTI agent id (read-only)."""
    services = [s for s in store.services.list() if s.cti_enabled]
    code_of = {s.id: s.code for s in services}
    agents = [
        SimAgent(
            agent_id=user.cti_agent_id,
            name=user.name,
            services=tuple(code_of[sid] for sid in user.service_ids if sid in code_of),
            login=user.login,
        )
        for user in store.users.list()
        if user.cti_agent_id and not user.disabled and valid_id(user.cti_agent_id)
    ]
    return SimDirectory(
        services=tuple(
            SimService(
                s.code,
                s.name,
                s.timezone,
                s.sl_threshold_s,
                tuple(r.code for r in s.ivr_routes),
                s.callback_enabled,
            )
            for s in services
        ),
        agents=tuple(sorted(agents, key=lambda a: a.agent_id)),
    )


# -- live state ----------------------------------------------------------------------------------------


@dataclass(slots=True, eq=False)
class _Call:
    call_id: str
    service: str
    caller: str | None
    enqueued_at: float
    agent: _Agent | None = None  # the agent it rings at or talks to


@dataclass(slots=True, eq=False)
class _Outbound:
    call_id: str
    agent: _Agent


@dataclass(slots=True, eq=False)
class _Agent:
    info: SimAgent
    state: AgentState
    since: float
    gen: int = 0  # bumped on every state change, so timers set for an older state are ignored
    call: _Call | _Outbound | None = None


@dataclass(slots=True, eq=False)
class _Service:
    info: SimService
    zone: ZoneInfo
    rate: float  # inbound calls per simulated second
    day: date
    waiting: dict[str, _Call] = field(default_factory=dict)  # in queue order
    inbound: int = 0
    answered: int = 0
    abandoned: int = 0
    answered_within_sl: int = 0

    def counters(self) -> dict[str, int]:
        return {
            "inbound": self.inbound,
            "answered": self.answered,
            "abandoned": self.abandoned,
            "answered_within_sl": self.answered_within_sl,
        }


def iso_time(t: float) -> str:
    """A simulated moment (POSIX seconds) as a protocol timestamp."""
    return format_time(datetime.fromtimestamp(t, UTC))


class SimEngine:
    """The simulated contact center. Times are POSIX seconds on the simulated clock."""

    def __init__(
        self,
        directory: SimDirectory,
        *,
        start: float,
        seed: int | None = None,
        arrival_scale: float = 1.0,
        run_id: str = "0",
        callback_rate: float = CALLBACK_TAKE_RATE,
    ) -> None:
        if arrival_scale < 0:
            raise ValueError("arrival_scale must not be negative")
        if not 0 <= callback_rate <= 1:
            raise ValueError("callback_rate must be between 0 and 1")
        self._callback_rate = callback_rate  # share of callers offered a callback who take it
        self.now = start
        self.seq = 0
        self._rng = random.Random(seed)
        self._run_id = run_id  # makes callback request ids unique across simulator runs
        self._timers: list[tuple[float, int, Callable[..., None], tuple[Any, ...]]] = []
        self._timer_order = itertools.count()
        self._call_numbers = itertools.count(1)
        self._request_numbers = itertools.count(1)
        self._burst_numbers: itertools.count[int] | None = None  # burst_callbacks' phone numbers
        self._out: list[dict[str, Any]] = []
        self._agents = {a.agent_id: _Agent(a, AgentState.READY, start) for a in directory.agents}
        self._attended: dict[str, int] = {}  # agent id -> consoles of its person connected (attend())
        staff = self._staffing(directory)
        self._services: dict[str, _Service] = {}
        for info in directory.services:
            zone = ZoneInfo(info.timezone)
            # A service nobody staffs still rings (everyone gives up): that is what its board should show.
            rate = arrival_scale * CALLS_PER_AGENT_HOUR * max(staff[info.code], 1.0) / 3600
            svc = _Service(info, zone, rate, datetime.fromtimestamp(start, zone).date())
            self._services[info.code] = svc
            if rate > 0:
                self._at(start + self._rng.expovariate(rate), self._arrival, svc)
            self._at(self._next_midnight(svc), self._midnight, svc)
        self._initial_roster()

    # -- public API ---------------------------------------------------------------------------------

    def advance(self, until: float) -> list[dict[str, Any]]:
        """Run the world up to ``until``; returns the events that happened, in seq order."""
        while self._timers and self._timers[0][0] <= until:
            when, _, action, args = heapq.heappop(self._timers)
            self.now = max(self.now, when)
            action(*args)
        self.now = max(self.now, until)
        return self._flush()

    def next_due(self) -> float | None:
        """When the next thing happens (the owner sleeps until then)."""
        return self._timers[0][0] if self._timers else None

    def execute(self, message: dict[str, Any]) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        """Run a client ``command`` at the current time: its ``reply`` and the events it caused.

        The reply is ``None`` for a command without a usable ``id`` (nothing to answer to)."""
        command_id = message.get("id")
        if not isinstance(command_id, str) or not 0 < len(command_id) <= _MAX_COMMAND_ID:
            return None, []
        outcome = self._command(command_id, message)
        if isinstance(outcome, str):
            reply: dict[str, Any] = {"type": "reply", "id": command_id, "ok": False, "reason": outcome}
        else:
            reply = {"type": "reply", "id": command_id, "ok": True, "data": outcome}
        return reply, self._flush()

    def snapshot(self) -> dict[str, Any]:
        return {
            "type": "snapshot",
            "seq": self.seq,
            "server_time": iso_time(self.now),
            "services": [
                {
                    "service": s.info.code,
                    "name": s.info.name,
                    "timezone": s.info.timezone,
                    "day": s.day.isoformat(),
                    "sl_threshold_s": s.info.sl_threshold_s,
                    "waiting": [
                        {"call_id": c.call_id, "enqueued_at": iso_time(c.enqueued_at)}
                        for c in s.waiting.values()
                    ],
                    "counters": s.counters(),
                }
                for s in self._services.values()
            ],
            "agents": [
                {
                    "agent_id": a.info.agent_id,
                    "name": a.info.name,
                    "state": str(a.state),
                    "since": iso_time(a.since),
                    "services": list(a.info.services),
                }
                for a in self._agents.values()
            ],
        }

    def stats(self) -> dict[str, Any]:
        """The exact counters (the data of a ``stats`` reply)."""
        return {
            "seq": self.seq,
            "services": {
                code: {**s.counters(), "waiting": len(s.waiting)} for code, s in self._services.items()
            },
        }

    def burst(self, n: int) -> list[dict[str, Any]]:
        """``n`` valid events at once, for throughput tests: callers who queue and hang up at once.

        With an odd ``n`` the last caller stays and waits like any other (a ready agent may ring at once,
        which adds its events after the ``n``)."""
        if not self._services:
            raise ValueError("no CTI service to simulate calls for")
        services = itertools.cycle(self._services.values())
        for _ in range(n // 2):
            self._abandon(self._queue_call(next(services)), "hangup")
        if n % 2:
            self._start_waiting(self._queue_call(next(services)))
            self._dispatch()
        return self._flush()

    def burst_callbacks(self, n: int) -> list[dict[str, Any]]:
        """``n`` valid ``callback_requested`` events at once, for intake tests (as from the voice menu,
        without a queued call), spread in turn over the services that take callbacks (also across calls).

        Each has its own request id (``cb-<run>-b<number>``, from the same counter as the others) and its
        own mobile number, ``0100`` and seven digits counting up from a random start: a valid Korean
        number the demo's data never holds, so no request merges into an open callback. Requested at the
        engine's current time (the owner brings the world up to its clock first, as for :meth:`burst`)."""
        services = [s for s in self._services.values() if s.info.callbacks]
        if not services:
            raise ValueError("no CTI service takes callbacks")
        if self._burst_numbers is None:
            self._burst_numbers = itertools.count(self._rng.randrange(5_000_000))
        for _ in range(n):
            number = next(self._request_numbers)
            svc = services[number % len(services)]
            routes = svc.info.ivr_routes
            phone = f"0100{next(self._burst_numbers) % 10**7:07d}"
            self._emit(
                Event.CALLBACK_REQUESTED,
                request_id=f"cb-{self._run_id}-b{number:06d}",
                service=svc.info.code,
                phone=phone,
                name=korean_name(self._rng) if self._rng.random() < 0.4 else None,
                ivr_route=self._rng.choice(routes) if routes else None,
                requested_at=iso_time(self.now),
            )
        return self._flush()

    @property
    def footprint(self) -> dict[str, int]:
        """Sizes of what the engine keeps (bounded by live calls and agents, not by running time)."""
        return {
            "timers": len(self._timers),
            "waiting": sum(len(s.waiting) for s in self._services.values()),
            "agent_calls": sum(a.call is not None for a in self._agents.values()),
        }

    # -- plumbing -----------------------------------------------------------------------------------

    def _at(self, when: float, action: Callable[..., None], *args: Any) -> None:
        heapq.heappush(self._timers, (when, next(self._timer_order), action, args))

    def _emit(self, event: Event, **fields: Any) -> None:
        self.seq += 1
        self._out.append(
            {"type": "event", "seq": self.seq, "ts": iso_time(self.now), "event": str(event), **fields}
        )

    def _flush(self) -> list[dict[str, Any]]:
        out, self._out = self._out, []
        return out

    def _set_state(self, agent: _Agent, state: AgentState) -> None:
        if agent.state is state:
            return
        previous = agent.state
        agent.state, agent.since, agent.gen = state, self.now, agent.gen + 1
        self._emit(
            Event.AGENT_STATE,
            agent_id=agent.info.agent_id,
            previous=str(previous),
            state=str(state),
            since=iso_time(self.now),
        )

    @staticmethod
    def _staffing(directory: SimDirectory) -> dict[str, float]:
        """Agents per service; an agent in several services counts for a share in each."""
        staff = {s.code: 0.0 for s in directory.services}
        for agent in directory.agents:
            mine = [code for code in agent.services if code in staff]
            for code in mine:
                staff[code] += 1 / len(mine)
        return staff

    def _initial_roster(self) -> None:
        """Mostly ready, a few on a break, one or two logged out — a contact center mid-shift."""
        agents = list(self._agents.values())
        shuffled = self._rng.sample(agents, len(agents))
        logged_out = max(1, len(agents) // 8) if len(agents) >= 3 else 0
        on_break = max(1, len(agents) // 6) if len(agents) >= 4 else 0
        for i, agent in enumerate(shuffled):
            if i < logged_out:
                agent.state, agent.since = AgentState.LOGGED_OUT, self.now - self._rng.uniform(600, 3600)
                self._at(self.now + self._relogin_delay(), self._relogin, agent, agent.gen)
            elif i < logged_out + on_break:
                taken = self._rng.uniform(0, BREAK_S[0])
                agent.state, agent.since = AgentState.BREAK, self.now - taken
                self._at(
                    self.now + self._rng.uniform(*BREAK_S) - taken, self._back_to_ready, agent, agent.gen
                )
            else:
                agent.since = self.now - self._rng.uniform(0, 300)
        if agents:
            self._at(self.now + self._roster_delay(), self._roster)

    def _roster_delay(self) -> float:
        return self._rng.expovariate(len(self._agents) / ROSTER_MEAN_S)

    def _relogin_delay(self) -> float:
        return RELOGIN_MIN_S + self._rng.expovariate(1 / (RELOGIN_MEAN_S - RELOGIN_MIN_S))

    def _next_midnight(self, svc: _Service) -> float:
        today = datetime.fromtimestamp(self.now, svc.zone).date()
        return datetime.combine(today + timedelta(days=1), time(0), svc.zone).timestamp()

    def _phone(self) -> str:
        return f"010{self._rng.randrange(10**8):08d}"

    def _caller(self) -> str | None:
        pick = self._rng.random()
        if pick < 0.85:
            return self._phone()
        if pick < 0.95:
            return f"02{self._rng.randrange(2_000_000, 9_999_999)}"
        return None  # number withheld

    # -- inbound calls ------------------------------------------------------------------------------

    def _arrival(self, svc: _Service) -> None:
        self._start_waiting(self._queue_call(svc))
        self._dispatch()
        self._at(self.now + self._rng.expovariate(svc.rate), self._arrival, svc)

    def _queue_call(self, svc: _Service) -> _Call:
        call = _Call(f"c-{next(self._call_numbers)}", svc.info.code, self._caller(), self.now)
        svc.waiting[call.call_id] = call
        svc.inbound += 1
        self._emit(
            Event.CALL_QUEUED,
            service=svc.info.code,
            call_id=call.call_id,
            caller=call.caller,
            enqueued_at=iso_time(call.enqueued_at),
        )
        return call

    def _start_waiting(self, call: _Call) -> None:
        patience = self._rng.expovariate(1 / PATIENCE_MEAN_S)
        self._at(self.now + patience, self._give_up, call)
        if patience > CALLBACK_OFFER_AFTER_S:
            self._at(self.now + CALLBACK_OFFER_AFTER_S, self._offer_callback, call)

    def _still_waiting(self, call: _Call) -> bool:
        return self._services[call.service].waiting.get(call.call_id) is call

    def attend(self, login: str, delta: int) -> list[dict[str, Any]]:
        """A console of ``login`` connected (+1) or left (-1). While one is connected, that person's agent
        is theirs to drive: no inbound call rings it and it takes no break by itself, so Connect on a
        callback finds it free (the demo). A person sitting down ends a break or a logout, and finishes
        within seconds a call the agent was on (Connect then dials at once, from the after-call work).
        Returns the events that caused."""
        agent = next((a for a in self._agents.values() if login and a.info.login == login), None)
        if agent is None:
            return []
        count = max(0, self._attended.get(agent.info.agent_id, 0) + delta)
        if count:
            self._attended[agent.info.agent_id] = count
            if agent.state in (AgentState.BREAK, AgentState.LOGGED_OUT):
                self._set_state(agent, AgentState.READY)
            elif agent.state is AgentState.TALKING and isinstance(agent.call, _Call):
                self._at(self.now + ATTEND_WRAP_S, self._hang_up, agent.call)
        else:
            self._attended.pop(agent.info.agent_id, None)
        return self._flush()

    def _dispatch(self) -> None:
        """Ring the longest-idle ready agent of the service for each waiting caller, oldest caller first
        (never an agent a console drives: attend())."""
        unrung = sorted(
            (c for s in self._services.values() for c in s.waiting.values() if c.agent is None),
            key=lambda c: c.enqueued_at,
        )
        for call in unrung:
            ready = [
                a
                for a in self._agents.values()
                if a.state is AgentState.READY
                and call.service in a.info.services
                and a.info.agent_id not in self._attended
            ]
            if ready:
                self._ring(call, min(ready, key=lambda a: a.since))

    def _ring(self, call: _Call, agent: _Agent) -> None:
        call.agent, agent.call = agent, call
        self._emit(
            Event.CALL_RINGING, service=call.service, call_id=call.call_id, agent_id=agent.info.agent_id
        )
        self._set_state(agent, AgentState.RINGING)
        self._at(self.now + self._rng.uniform(*RING_S), self._answer, call)

    def _answer(self, call: _Call) -> None:
        if not self._still_waiting(call):
            return  # the caller hung up while it rang
        svc = self._services[call.service]
        del svc.waiting[call.call_id]
        wait_s = round(self.now - call.enqueued_at)
        svc.answered += 1
        svc.answered_within_sl += wait_s <= svc.info.sl_threshold_s
        agent = call.agent
        self._emit(
            Event.CALL_ANSWERED,
            service=call.service,
            call_id=call.call_id,
            agent_id=agent.info.agent_id,
            wait_s=wait_s,
        )
        self._set_state(agent, AgentState.TALKING)
        talk = TALK_MIN_S + self._rng.expovariate(1 / (TALK_MEAN_S - TALK_MIN_S))
        if agent.info.agent_id in self._attended:  # it rang before its person sat down
            talk = ATTEND_WRAP_S
        self._at(self.now + talk, self._hang_up, call)

    def _hang_up(self, call: _Call) -> None:
        agent = call.agent
        if agent is None or agent.call is not call:
            return  # already ended (its person finished it early: attend)
        agent.call = None
        self._emit(Event.CALL_ENDED, service=call.service, call_id=call.call_id, agent_id=agent.info.agent_id)
        self._start_acw(agent)

    def _give_up(self, call: _Call) -> None:
        if self._still_waiting(call):
            self._abandon(call, "hangup")

    def _offer_callback(self, call: _Call) -> None:
        if (
            not self._still_waiting(call)
            or call.agent is not None
            or self._rng.random() >= self._callback_rate
        ):
            return
        svc = self._services[call.service]
        self._abandon(call, "callback")
        self._callback_requested(
            svc, call.caller if call.caller and call.caller.startswith("010") else self._phone()
        )

    def _callback_requested(self, svc: _Service, mobile: str) -> None:
        routes = svc.info.ivr_routes
        self._emit(
            Event.CALLBACK_REQUESTED,
            request_id=f"cb-{self._run_id}-{next(self._request_numbers):06d}",
            service=svc.info.code,
            phone=mobile,
            name=korean_name(self._rng) if self._rng.random() < 0.4 else None,
            ivr_route=self._rng.choice(routes) if routes else None,
            requested_at=iso_time(self.now),
        )

    def callback_at(self, when: float) -> None:
        """A caller picks "call me back" in the voice menu at ``when`` (without waiting in the queue first),
        in the first service that takes callbacks: the demo's first request comes soon after it starts
        instead of after a caller's 30 s in the queue."""
        services = [s for s in self._services.values() if s.info.callbacks]
        if services:
            self._at(when, lambda: self._callback_requested(services[0], self._phone()))

    def _abandon(self, call: _Call, reason: str) -> None:
        svc = self._services[call.service]
        del svc.waiting[call.call_id]
        svc.abandoned += 1
        self._emit(
            Event.CALL_ABANDONED,
            service=call.service,
            call_id=call.call_id,
            wait_s=round(self.now - call.enqueued_at),
            reason=reason,
        )
        if call.agent is not None:  # it was ringing: that agent is free again
            call.agent.call = None
            self._set_state(call.agent, AgentState.READY)
            self._dispatch()

    def _midnight(self, svc: _Service) -> None:
        svc.day = datetime.fromtimestamp(self.now, svc.zone).date()
        # Callers still waiting are offered to the new day, so inbound = answered + abandoned + waiting
        # holds on every day (a snapshot with answered > inbound would be refused by clients).
        svc.inbound, svc.answered, svc.abandoned, svc.answered_within_sl = len(svc.waiting), 0, 0, 0
        self._emit(Event.DAILY_RESET, service=svc.info.code, day=svc.day.isoformat())
        self._at(self._next_midnight(svc), self._midnight, svc)

    # -- agents -------------------------------------------------------------------------------------

    def _start_acw(self, agent: _Agent) -> None:
        self._set_state(agent, AgentState.ACW)
        acw = ACW_MIN_S + self._rng.expovariate(1 / (ACW_MEAN_S - ACW_MIN_S))
        self._at(self.now + acw, self._back_to_ready, agent, agent.gen)

    def _back_to_ready(self, agent: _Agent, gen: int) -> None:
        if agent.gen == gen:
            self._set_state(agent, AgentState.READY)
            self._dispatch()

    def _relogin(self, agent: _Agent, gen: int) -> None:
        if agent.gen == gen and agent.state is AgentState.LOGGED_OUT:
            self._back_to_ready(agent, gen)

    def _roster(self) -> None:
        """Now and then an idle agent takes a break, more rarely logs out for a while."""
        agent = self._rng.choice(list(self._agents.values()))
        if agent.state is AgentState.READY and agent.info.agent_id not in self._attended:
            if self._rng.random() < LOGOUT_SHARE:
                self._set_state(agent, AgentState.LOGGED_OUT)
                self._at(self.now + self._relogin_delay(), self._relogin, agent, agent.gen)
            else:
                self._set_state(agent, AgentState.BREAK)
                self._at(self.now + self._rng.uniform(*BREAK_S), self._back_to_ready, agent, agent.gen)
        self._at(self.now + self._roster_delay(), self._roster)

    # -- outbound calls -----------------------------------------------------------------------------

    def _dial_result(self, call: _Outbound) -> None:
        agent = call.agent
        if self._rng.random() < DIAL_CONNECT_RATE:
            self._emit(Event.OUTBOUND_CONNECTED, agent_id=agent.info.agent_id, call_id=call.call_id)
            self._set_state(agent, AgentState.OUTBOUND)
            self._at(self.now + self._rng.uniform(*OUTBOUND_TALK_S), self._outbound_end, call)
        else:
            agent.call = None
            self._emit(
                Event.OUTBOUND_FAILED,
                agent_id=agent.info.agent_id,
                call_id=call.call_id,
                reason=self._rng.choice(("no_answer", "busy")),
            )
            self._set_state(agent, AgentState.READY)
            self._dispatch()

    def _outbound_end(self, call: _Outbound) -> None:
        call.agent.call = None
        self._emit(Event.OUTBOUND_ENDED, agent_id=call.agent.info.agent_id, call_id=call.call_id)
        self._start_acw(call.agent)

    # -- commands -----------------------------------------------------------------------------------

    def _command(self, command_id: str, message: dict[str, Any]) -> dict[str, Any] | str:
        """The reply data of an accepted command, or the reason it was refused."""
        name = message.get("command")
        if not isinstance(name, str):
            return "bad_request"
        if name == Command.STATS:
            return self.stats()
        if name not in (Command.DIAL, Command.SET_STATE, Command.LOGIN, Command.LOGOUT):
            return "unknown_command"
        agent_id = message.get("agent_id")
        if not isinstance(agent_id, str):
            return "bad_request"
        agent = self._agents.get(agent_id)
        if agent is None:
            return "unknown_agent"
        if name == Command.DIAL:
            return self._dial(command_id, agent, message)
        if name == Command.SET_STATE:
            return self._set_state_command(agent, message.get("state"))
        if name == Command.LOGIN:
            if agent.state is AgentState.LOGGED_OUT:
                self._set_state(agent, AgentState.READY)
                self._dispatch()
            return {}
        # logout
        if agent.state in ON_CALL:
            return "agent_busy"
        self._set_state(agent, AgentState.LOGGED_OUT)
        return {}

    def _dial(self, command_id: str, agent: _Agent, message: dict[str, Any]) -> dict[str, Any] | str:
        number, service = message.get("number"), message.get("service")
        service_ok = service is None or valid_id(service)
        if not isinstance(number, str) or not service_ok:
            return "bad_request"
        if agent.state is AgentState.LOGGED_OUT:
            return "agent_logged_out"
        if agent.state not in DIALABLE:
            return "agent_busy"
        if not _NUMBER_RE.match(number):
            return "invalid_number"
        call = _Outbound(f"o-{next(self._call_numbers)}", agent)
        agent.call = call
        self._emit(
            Event.OUTBOUND_DIALING,
            agent_id=agent.info.agent_id,
            call_id=call.call_id,
            number=number,
            service=service,
            command_id=command_id,
        )
        self._set_state(agent, AgentState.DIALING)
        self._at(self.now + self._rng.uniform(*DIAL_S), self._dial_result, call)
        return {"call_id": call.call_id}

    def _set_state_command(self, agent: _Agent, state: Any) -> dict[str, Any] | str:
        if not isinstance(state, str):
            return "bad_request"
        if state not in SETTABLE:
            return "invalid_state"
        if agent.state is AgentState.LOGGED_OUT:
            return "agent_logged_out"
        if agent.state in ON_CALL:
            return "agent_busy"
        # A state set by a person sticks until the next command: no timer brings the agent back.
        self._set_state(agent, AgentState(state))
        if agent.state is AgentState.READY:
            self._dispatch()
        return {}
