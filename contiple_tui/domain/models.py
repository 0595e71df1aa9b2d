"""Plain records the store returns and the rules reason about."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"  # 관리자
    AGENT = "agent"  # 상담원
    WALLBOARD = "wallboard"  # read-only account for wall TVs


class Perm(StrEnum):
    PHONE = "phone"  # 전화 권한
    CALLBACK_ASSIGN = "callback_assign"  # 콜백 할당 권한


class CallbackStatus(StrEnum):
    UNASSIGNED = "unassigned"  # 미할당
    ASSIGNED = "assigned"  # 할당 (shown as 미처리 while not done)
    COMPLETED = "completed"  # 완료


class OutboundTicketMode(StrEnum):
    ON_DIAL = "on_dial"
    ON_CONNECT = "on_connect"


@dataclass(frozen=True, slots=True)
class IvrRoute:
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Wallboard alert levels of a service: warning and critical."""

    sl_warn_pct: float = 80.0
    sl_crit_pct: float = 60.0
    waiting_warn: int = 5
    waiting_crit: int = 10
    wait_warn_s: int = 60
    wait_crit_s: int = 120


@dataclass(frozen=True, slots=True)
class Service:
    id: int
    code: str
    name: str
    callback_enabled: bool = True
    sms_enabled: bool = True
    cti_enabled: bool = True
    outbound_ticket_mode: OutboundTicketMode = OutboundTicketMode.ON_DIAL
    sl_threshold_s: int = 20
    timezone: str = "Asia/Seoul"
    sender_numbers: tuple[str, ...] = ()
    ivr_routes: tuple[IvrRoute, ...] = ()
    thresholds: Thresholds = Thresholds()


@dataclass(frozen=True, slots=True)
class User:
    id: int
    login: str
    name: str
    role: Role
    perms: frozenset[Perm] = field(default_factory=frozenset)
    service_ids: tuple[int, ...] = ()
    cti_agent_id: str | None = None
    disabled: bool = False

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    def has(self, perm: Perm) -> bool:
        """Admins hold every permission; the wallboard role holds none."""
        if self.role is Role.ADMIN:
            return True
        if self.role is Role.WALLBOARD:
            return False
        return perm in self.perms

    def member_of(self, service: Service) -> bool:
        return service.id in self.service_ids
