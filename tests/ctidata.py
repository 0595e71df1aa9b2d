"""Protocol frames for tests: a fixed snapshot and event builders (real protocol JSON)."""

from __future__ import annotations

import json

T0 = "2026-11-25T01:30:00.000Z"  # 10:30 in Seoul


def snapshot(seq: int = 10, *, name_cs: str = "고객센터", waiting_cs: int = 2) -> dict:
    return {
        "type": "snapshot",
        "seq": seq,
        "server_time": T0,
        "services": [
            {
                "service": "cs",
                "name": name_cs,
                "timezone": "Asia/Seoul",
                "day": "2026-11-25",
                "sl_threshold_s": 20,
                "waiting": [
                    {"call_id": f"w{i}", "enqueued_at": "2026-11-25T01:29:00.000Z"} for i in range(waiting_cs)
                ],
                "counters": {"inbound": 100, "answered": 90, "abandoned": 8, "answered_within_sl": 72},
            },
            {
                "service": "sales",
                "name": "영업팀",
                "timezone": "Asia/Seoul",
                "day": "2026-11-25",
                "sl_threshold_s": 30,
                "waiting": [],
                "counters": {"inbound": 0, "answered": 0, "abandoned": 0, "answered_within_sl": 0},
            },
        ],
        "agents": [
            {
                "agent_id": "1001",
                "name": "한지민",
                "state": "ready",
                "since": T0,
                "services": ["cs", "sales"],
            },
            {"agent_id": "1002", "name": "서서윤", "state": "talking", "since": T0, "services": ["cs"]},
            {"agent_id": "1003", "name": "박도현", "state": "ringing", "since": T0, "services": ["cs"]},
            {"agent_id": "1005", "name": "류서윤", "state": "dialing", "since": T0, "services": ["cs"]},
            {"agent_id": "1006", "name": "안지유", "state": "break", "since": T0, "services": ["sales"]},
            {"agent_id": "1007", "name": "이지우", "state": "acw", "since": T0, "services": ["sales"]},
            {"agent_id": "1008", "name": "신유준", "state": "logged_out", "since": T0, "services": ["cs"]},
        ],
    }


def event(seq: int, event_name: str, **fields) -> dict:
    return {"type": "event", "seq": seq, "ts": T0, "event": event_name, **fields}


def welcome(
    epoch: str = "test-1", resume: bool = False, heartbeat_s: float = 5, time_scale: float = 1
) -> dict:
    return {
        "type": "welcome",
        "protocol": 1,
        "heartbeat_s": heartbeat_s,
        "server_time": T0,
        "epoch": epoch,
        "resume": resume,
        "time_scale": time_scale,
    }


def dumps(message: dict) -> str:
    return json.dumps(message, ensure_ascii=False)
