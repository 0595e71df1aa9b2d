"""Wallboard (전광판) metrics: the rows of 3-2 (by service) and 3-3 (by agent), and alert levels.

answer rate = answered ÷ inbound × 100; service level = answered within the threshold ÷ inbound × 100;
with no inbound calls a rate is None and shows "—", never 0 or 100.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from contiple_tui.cti.model import LiveModel
from contiple_tui.cti.protocol import AgentState
from contiple_tui.domain.models import Thresholds

NO_VALUE = "—"


def rate(numerator: int, denominator: int) -> float | None:
    return None if denominator <= 0 else numerator / denominator * 100


def format_rate(value: float | None) -> str:
    return NO_VALUE if value is None else f"{value:.1f}%"


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return NO_VALUE
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


class Level(Enum):
    OK = "ok"
    WARN = "warn"
    CRIT = "crit"


def service_level_alert(t: Thresholds, value: float | None) -> Level:
    """Service level is worse when lower."""
    if value is None:
        return Level.OK
    return Level.CRIT if value < t.sl_crit_pct else Level.WARN if value < t.sl_warn_pct else Level.OK


def waiting_alert(t: Thresholds, value: int) -> Level:
    return Level.CRIT if value >= t.waiting_crit else Level.WARN if value >= t.waiting_warn else Level.OK


def longest_wait_alert(t: Thresholds, seconds: float | None) -> Level:
    if seconds is None:
        return Level.OK
    return Level.CRIT if seconds >= t.wait_crit_s else Level.WARN if seconds >= t.wait_warn_s else Level.OK


@dataclass(frozen=True)
class ServiceRow:
    """3-2 매체별 현황, plus the longest current wait."""

    service: str
    name: str
    waiting: int
    inbound: int
    answered: int
    abandoned: int
    answer_rate: float | None
    service_level: float | None
    longest_wait_s: float | None
    sl_threshold_s: int | None


@dataclass(frozen=True)
class AgentRow:
    """3-3 상담원별 현황, one row per service."""

    service: str
    name: str
    waiting: int
    login: int
    ready: int
    talking: int
    outbound: int
    break_acw: int
    answer_rate: float | None
    service_level: float | None


TALKING = {AgentState.TALKING, AgentState.RINGING}
OUTBOUND = {AgentState.OUTBOUND, AgentState.DIALING}
BREAK_ACW = {AgentState.BREAK, AgentState.ACW}


def service_rows(
    model: LiveModel, codes: list[str], names: dict[str, str], now: datetime
) -> list[ServiceRow]:
    rows = []
    for code in codes:
        live = model.services.get(code)
        if live is None:
            continue
        oldest = live.oldest_wait_start()
        rows.append(
            ServiceRow(
                service=code,
                name=names.get(code) or live.name or code,
                waiting=len(live.waiting),
                inbound=live.inbound,
                answered=live.answered,
                abandoned=live.abandoned,
                answer_rate=rate(live.answered, live.inbound),
                service_level=rate(live.answered_within_sl, live.inbound),
                longest_wait_s=None if oldest is None else max(0.0, (now - oldest).total_seconds()),
                sl_threshold_s=live.sl_threshold_s,
            )
        )
    return rows


def service_totals(rows: list[ServiceRow], model: LiveModel) -> ServiceRow:
    within = sum(model.services[r.service].answered_within_sl for r in rows)
    inbound = sum(r.inbound for r in rows)
    answered = sum(r.answered for r in rows)
    waits = [r.longest_wait_s for r in rows if r.longest_wait_s is not None]
    thresholds = {r.sl_threshold_s for r in rows}
    return ServiceRow(
        service="",
        name="",
        waiting=sum(r.waiting for r in rows),
        inbound=inbound,
        answered=answered,
        abandoned=sum(r.abandoned for r in rows),
        answer_rate=rate(answered, inbound),
        service_level=rate(within, inbound),
        longest_wait_s=max(waits) if waits else None,
        sl_threshold_s=thresholds.pop() if len(thresholds) == 1 else None,
    )


def _agent_counts(agents) -> tuple[int, int, int, int, int]:
    login = ready = talking = outbound = break_acw = 0
    for agent in agents:
        state = agent.state
        if state is AgentState.LOGGED_OUT:
            continue
        login += 1
        if state is AgentState.READY:
            ready += 1
        elif state in TALKING:
            talking += 1
        elif state in OUTBOUND:
            outbound += 1
        elif state in BREAK_ACW:
            break_acw += 1
    return login, ready, talking, outbound, break_acw


def agent_rows(model: LiveModel, codes: list[str], names: dict[str, str]) -> list[AgentRow]:
    rows = []
    for code in codes:
        live = model.services.get(code)
        if live is None:
            continue
        members = [a for a in model.agents.values() if code in a.services]
        login, ready, talking, outbound, break_acw = _agent_counts(members)
        rows.append(
            AgentRow(
                service=code,
                name=names.get(code) or live.name or code,
                waiting=len(live.waiting),
                login=login,
                ready=ready,
                talking=talking,
                outbound=outbound,
                break_acw=break_acw,
                answer_rate=rate(live.answered, live.inbound),
                service_level=rate(live.answered_within_sl, live.inbound),
            )
        )
    return rows


def agent_totals(rows: list[AgentRow], model: LiveModel) -> AgentRow:
    """Agents in several services are counted once in the totals."""
    codes = {r.service for r in rows}
    members = [a for a in model.agents.values() if codes & set(a.services)]
    login, ready, talking, outbound, break_acw = _agent_counts(members)
    inbound = sum(model.services[c].inbound for c in codes)
    answered = sum(model.services[c].answered for c in codes)
    within = sum(model.services[c].answered_within_sl for c in codes)
    return AgentRow(
        service="",
        name="",
        waiting=sum(r.waiting for r in rows),
        login=login,
        ready=ready,
        talking=talking,
        outbound=outbound,
        break_acw=break_acw,
        answer_rate=rate(answered, inbound),
        service_level=rate(within, inbound),
    )
