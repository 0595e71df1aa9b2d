"""Korean sample data for the demo: services, people, callbacks over the last 60 days.

Deterministic for a given seed, and fast: a million callbacks are generated as plain tuples and written
with ``executemany`` in one transaction (see bench/bench_seed.py).
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

from contiple_tui.core import directory
from contiple_tui.domain.models import CallbackStatus, IvrRoute, OutboundTicketMode, Perm, Role
from contiple_tui.store import Conn, Store

DAY = 86_400
BATCH = 50_000
AREA_CODES = (31, 32, 51, 53, 62)
SURNAMES = "김이박최정강조윤장임한오서신권황안송류홍"
GIVEN = (
    "민준 서연 도윤 서윤 시우 지우 하준 하은 주원 지민 지호 수아 준서 지유 예준 채원 건우 다은 "
    "현우 수빈 우진 지아 선우 예린 연우 소율 유준 윤서 정우 민서 승현 하린 준혁 은서 도현 가은"
).split()

SERVICES = (
    dict(
        code="cs",
        name="고객센터",
        outbound_ticket_mode=OutboundTicketMode.ON_DIAL,
        sender_numbers=["15880001", "0212345678"],
        ivr_routes=[
            IvrRoute("1", "주문/결제 문의"),
            IvrRoute("2", "배송 문의"),
            IvrRoute("3", "반품/교환"),
            IvrRoute("9", "상담원 연결 대기"),
        ],
    ),
    dict(
        code="sales",
        name="영업팀",
        outbound_ticket_mode=OutboundTicketMode.ON_CONNECT,
        sl_threshold_s=30,
        sender_numbers=["15880002"],
        ivr_routes=[IvrRoute("1", "신규 가입 상담"), IvrRoute("2", "요금제 변경")],
    ),
    dict(
        code="care",
        name="A/S센터",
        sms_enabled=False,
        sender_numbers=[],
        ivr_routes=[IvrRoute("1", "수리 접수"), IvrRoute("2", "수리 진행 확인")],
    ),
)


@dataclass(frozen=True)
class DemoAgent:
    login: str
    perms: frozenset[Perm]
    services: tuple[str, ...]


def demo_agents(count: int) -> list[DemoAgent]:
    """agent01 leads (phone + callback_assign, two services); the last two have no phone (SMS only)."""
    agents = []
    for i in range(1, count + 1):
        if i == 1:
            perms, services = frozenset({Perm.PHONE, Perm.CALLBACK_ASSIGN}), ("cs", "sales")
        elif count >= 4 and i > count - 2:
            perms, services = frozenset(), ("cs",)
        else:
            perms = frozenset({Perm.PHONE})
            services = (SERVICES[(i - 2) % len(SERVICES)]["code"],)
        agents.append(DemoAgent(f"agent{i:02d}", perms, services))
    return agents


def korean_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def is_seeded(store: Store) -> bool:
    return store.users.get_by_login("admin") is not None


def seed(
    store: Store,
    *,
    callbacks: int = 2_000,
    agents: int = 12,
    seed: int = 7,
    now: float | None = None,
    sms: bool = True,
) -> None:
    """Fill an empty store with the demo world."""
    rng = random.Random(seed)
    now_s = int(now if now is not None else time.time())
    for spec in SERVICES:
        directory.add_service(store, **spec)
    codes = [s["code"] for s in SERVICES]
    directory.add_user(store, login="admin", name="김지훈", role=Role.ADMIN, services=codes)
    directory.add_user(store, login="tv", name="전광판 TV", role=Role.WALLBOARD, services=codes)
    used_names: set[str] = set()
    for n, agent in enumerate(demo_agents(agents), start=1):
        name = korean_name(rng)
        while name in used_names and len(used_names) < len(SURNAMES) * len(GIVEN):
            name = korean_name(rng)
        used_names.add(name)
        directory.add_user(
            store,
            login=agent.login,
            name=name,
            role=Role.AGENT,
            perms=agent.perms,
            services=agent.services,
            cti_agent_id=f"{1000 + n}" if Perm.PHONE in agent.perms else None,
        )
    _seed_callbacks(store, rng, callbacks, now_s)
    if sms:
        from contiple_tui.sim.sms_demo import seed_sms  # Pillow only when seeding

        seed_sms(store, now_s)


def _seed_callbacks(store: Store, rng: random.Random, count: int, now_s: int) -> None:
    services = store.services.list()
    users = store.users.list()
    admin = next(u for u in users if u.login == "admin")
    # Per service: who can receive callbacks, who can assign them, which IVR routes exist.
    plan = []
    for service in services:
        if not service.callback_enabled:
            continue
        assignees = [
            u.id for u in users if u.member_of(service) and u.role is Role.AGENT and Perm.PHONE in u.perms
        ]
        assigners = [admin.id] + [
            u.id
            for u in users
            if u.member_of(service) and u.role is Role.AGENT and Perm.CALLBACK_ASSIGN in u.perms
        ]
        routes = [r.code for r in service.ivr_routes] or [None]
        if assignees:
            plan.append((service.id, assignees, assigners, routes))
    weights = [5, 3, 2][: len(plan)]
    cumulative = [sum(weights[: k + 1]) / sum(weights) for k in range(len(weights))]
    names = [korean_name(rng) for _ in range(500)]
    unassigned, assigned, completed = (str(s) for s in CallbackStatus)
    rand = rng.random  # int(rand() * n) instead of randrange/choice: 3x faster for a million rows

    def rows(first: int, last: int, out: list, history: list) -> None:
        for i in range(first, last):
            pick = rand()
            k = 0
            while pick > cumulative[k]:
                k += 1
            sid, assignees, assigners, routes = plan[k]
            # Older requests are mostly done; the last few days still have open work.
            age = int((rand() ** 1.6) * 60 * DAY)
            requested = now_s - age
            r = rand()
            if r < 0.8:
                phone = f"010{10_000_000 + int(rand() * 90_000_000)}"
            elif r < 0.9:
                phone = f"02{2_000_000 + int(rand() * 8_000_000)}"
            else:
                phone = f"0{AREA_CODES[int(rand() * 5)]}{2_000_000 + int(rand() * 8_000_000)}"
            name = names[int(rand() * 500)] if rand() < 0.6 else None
            repeats = 1 if rand() < 0.9 else 2 + int(rand() * 2)
            last_req = requested + (60 + int(rand() * 3540) if repeats > 1 else 0)
            r = rand()
            if age > 3 * DAY:
                status = completed if r < 0.85 else (assigned if r < 0.95 else unassigned)
            else:
                status = completed if r < 0.3 else (assigned if r < 0.65 else unassigned)
            assignee = assigner = assigned_at = completed_at = completed_by = last_attempt = None
            attempts = 0
            if status != unassigned:
                assignee = assignees[int(rand() * len(assignees))]
                assigner = assigners[int(rand() * len(assigners))]
                assigned_at = min(last_req + 120 + int(rand() * 14_280), now_s)
                history.append((i, assigned_at, assigner, "assign", unassigned, assigned, None, assignee))
                attempts = int(rand() * (3 if status == assigned else 4))
                if attempts:
                    last_attempt = min(assigned_at + 60 + int(rand() * 7140), now_s)
                if status == completed:
                    completed_at = min((last_attempt or assigned_at) + 60 + int(rand() * 1740), now_s)
                    completed_by = assignee if rand() < 0.9 else admin.id
                    history.append(
                        (i, completed_at, completed_by, "complete", assigned, completed, assignee, assignee)
                    )
            elif rand() < 0.05:
                # An assignment that was cancelled (할당 취소) and went back to unassigned.
                who = assignees[int(rand() * len(assignees))]
                back = assigners[int(rand() * len(assigners))]
                t1 = min(last_req + 300, now_s)
                history.append((i, t1, back, "assign", unassigned, assigned, None, who))
                history.append((i, min(t1 + 600, now_s), back, "unassign", assigned, unassigned, who, None))
            out.append(
                (
                    i,
                    sid,
                    f"demo-{i:08d}",
                    phone,
                    name,
                    routes[int(rand() * len(routes))],
                    requested,
                    last_req,
                    repeats,
                    status,
                    assignee,
                    assigner,
                    assigned_at,
                    attempts,
                    last_attempt,
                    completed_at,
                    completed_by,
                )
            )

    def write(conn: Conn) -> None:
        with store.callbacks.bulk_load(conn):
            for first in range(1, count + 1, BATCH):
                batch: list[tuple] = []
                history: list[tuple] = []
                rows(first, min(first + BATCH, count + 1), batch, history)
                store.callbacks.bulk_insert(conn, batch, history)
        store.set_meta(conn, "demo_seeded_at", str(now_s))

    store.db.run_write(write)
