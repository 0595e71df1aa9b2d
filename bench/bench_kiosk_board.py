"""The kiosk's big board against its small one, side by side in one run, on the real simulator mix
(issue 11: the bigger board must not cost more). Targets: kiosk CPU ≤ 2 % of a core, terminal output
≤ 5 % of a full repaint.

Setup: a demo store (services cs/sales/care, user `tv`) is seeded, untimed. One simulator in its own
process (bench/_simproc.py: the real `Simulator` with its normal traffic at `--arrival-scale 300`,
about 20 events/s, 300 simulated seconds of warm-up, heartbeat 5 s; no synthetic bursts). Five real
kiosks, `python -m contiple_tui --data-dir DIR --user tv --cti-url ws://127.0.0.1:PORT wallboard
--kiosk` (the overview: services and agents boards rotating every 5 s, headline digits, the clock), each
on the slave side of its own 160x45 pseudo-terminal (TERM=xterm-256color) whose master a thread drains
and counts:
- big: as shipped (the boards in big numbers when they fit: at 160x45 they do; one picture a second,
  on the beat: `[wallboard] kiosk_refresh` = 1);
- small: CONTIPLE_TUI_BENCH_SMALL_BOARD=1 (one line per row, the board before issue 11), same pace;
- full: big with CONTIPLE_TUI_BENCH_FULL_REPAINT=1 and `--refresh 0`: the naive kiosk, the whole
  screen repainted on every update of the feed (issue 3's baseline);
- big_live: big with `--refresh 0` (redrawn on every update, coalesced over 30 ms, as the console's
  wallboard is), information;
- full_paced: full at the shipped pace, information (the ratio to a full repaint at the same pace).
Once the simulator reports all connected, 5 s of warm-up, then utime + stime (/proc/PID/stat)
and bytes written by each over the same 60 s.
Results: `kiosk_board_cpu` (% of one core, big; baseline: small), `kiosk_board_traffic_ratio` (big's
bytes / full's bytes, %; baseline: small's bytes / full's), `kiosk_board_events` (events/s the
simulator sent in the window, information), and for information against the same targets:
`kiosk_board_live_cpu` (big_live's CPU) and
`kiosk_board_traffic_ratio_same_pace` (big's bytes / full_paced's). BENCH_SHORT=1: 20 s.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time

from _common import (
    CodeState,
    OtherLoad,
    PtyProc,
    SimProcess,
    bench_env,
    cpu_seconds,
    emit,
    kiosk_cmd,
    log,
    seed_demo,
    short_mode,
)

SIZE = (160, 45)
WARMUP_S = 5.0
TARGET_CPU = 2.0
TARGET_RATIO = 5.0
# kind: (environment, arguments after `wallboard --kiosk`)
KINDS: dict[str, tuple[dict[str, str], list[str]]] = {
    "big": ({}, []),
    "small": ({"CONTIPLE_TUI_BENCH_SMALL_BOARD": "1"}, []),
    "full": ({"CONTIPLE_TUI_BENCH_FULL_REPAINT": "1"}, ["--refresh", "0"]),
    "big_live": ({}, ["--refresh", "0"]),
    "full_paced": ({"CONTIPLE_TUI_BENCH_FULL_REPAINT": "1"}, []),
}


def main() -> int:
    duration = 20.0 if short_mode() else 60.0
    code = CodeState()
    tmp = tempfile.mkdtemp(prefix="contiple-bench-kiosk-board-")
    kiosks: dict[str, PtyProc] = {}
    sim = None
    try:
        env = bench_env(tmp)
        data_dir = seed_demo(tmp, env)
        store = os.path.join(data_dir, "contiple.sqlite3")
        sim = SimProcess(
            store, env=bench_env(tmp), cwd=tmp, arrival_scale=300, warmup=300, heartbeat=5.0, seed=11
        )
        port = sim.start()
        for kind, (extra, args) in KINDS.items():
            cmd = kiosk_cmd(data_dir, port) + args
            kiosks[kind] = PtyProc(cmd, env={**env, **extra}, cwd=tmp, size=SIZE)
        deadline = time.monotonic() + 60
        while not (sim.status and sim.status[-1].get("clients", 0) >= len(KINDS)):
            if time.monotonic() > deadline or any(k.proc.poll() is not None for k in kiosks.values()):
                log(f"FAIL: the kiosks did not all connect; status {sim.status[-1:]}")
                return 1
            time.sleep(0.1)
        time.sleep(WARMUP_S)
        t0, seq0 = time.monotonic(), sim.last()["seq"]
        start = {kind: (k.bytes_read(), cpu_seconds(k.proc.pid)) for kind, k in kiosks.items()}
        load, s0 = OtherLoad(), cpu_seconds(sim.pid)
        time.sleep(duration)
        t1, seq1 = time.monotonic(), sim.last()["seq"]
        end = {kind: (k.bytes_read(), cpu_seconds(k.proc.pid)) for kind, k in kiosks.items()}
        ours = sum(end[k][1] - start[k][1] for k in kiosks) + cpu_seconds(sim.pid) - s0
        load.report("kiosk board", ours)
        for kind, kiosk in kiosks.items():
            if kiosk.proc.poll() is not None or b"Traceback" in kiosk.tail:
                log(f"FAIL ({kind}): the kiosk died or showed a traceback: {bytes(kiosk.tail[-2000:])!r}")
                return 1
        span = t1 - t0
        cpu = {kind: (end[kind][1] - start[kind][1]) / span * 100 for kind in kiosks}
        rate = {kind: (end[kind][0] - start[kind][0]) / span for kind in kiosks}
        events = (seq1 - seq0) / span
        for kind in kiosks:
            log(f"{kind}: CPU {cpu[kind]:.2f} % of a core, {rate[kind]:,.0f} bytes/s")
        log(f"{events:.1f} events/s from the simulator; drops {sim.last().get('dropped')}")
        if rate["full"] <= 0 or rate["full_paced"] <= 0:
            log("FAIL: a full-repaint kiosk wrote nothing")
            return 1
        emit("kiosk_board_cpu", round(cpu["big"], 2), TARGET_CPU, round(cpu["small"], 2), unit="% of a core")
        emit(
            "kiosk_board_traffic_ratio",
            round(rate["big"] / rate["full"] * 100, 2),
            TARGET_RATIO,
            round(rate["small"] / rate["full"] * 100, 2),
            unit="%",
        )
        emit("kiosk_board_events", round(events, 1), 15, None, unit="events/s", higher_is_better=True)
        emit("kiosk_board_live_cpu", round(cpu["big_live"], 2), TARGET_CPU, None, unit="% of a core")
        emit(
            "kiosk_board_traffic_ratio_same_pace",
            round(rate["big"] / rate["full_paced"] * 100, 2),
            TARGET_RATIO,
            round(rate["small"] / rate["full_paced"] * 100, 2),
            unit="%",
        )
        code.check()
        return 0
    finally:
        for kiosk in kiosks.values():
            kiosk.close()
        if sim is not None:
            sim.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
