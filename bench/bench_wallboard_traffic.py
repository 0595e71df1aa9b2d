"""Terminal output of the kiosk wallboard at 20 events/s, against a full repaint per update
(target: ≤ 10 % of the full-repaint figure).

Setup: a demo store (services cs/sales/care, user `tv`) is seeded, untimed. The simulator runs in its
own process (bench/_simproc.py: the real `Simulator`, speed 1, heartbeat 5 s, its normal traffic plus
`sim.burst(2)` every 100 ms on an absolute schedule, i.e. 20 burst events/s). The real program,
`python -m contiple_tui --data-dir DIR --user tv --cti-url ws://127.0.0.1:PORT wallboard --kiosk`
(overview: services and agents boards rotating every 5 s, headline digits, a clock ticking each
second, as on a wall TV), runs on the slave side of a 160x45 pseudo-terminal (TERM=xterm-256color);
a thread reads the master all the time and counts every byte the program writes.

Two runs, one after the other, each with a fresh simulator and kiosk: normal (as shipped: one picture
a second, on the beat), and with CONTIPLE_TUI_BENCH_FULL_REPAINT=1 and `--refresh 0` (WallboardPanel
then redraws on every update of the feed and calls `screen.refresh(repaint=True, layout=True)` each
time: the whole screen is repainted on each update, the naive kiosk). In each, once the
simulator reports the kiosk connected, 5 s of warm-up, then the bytes written in the next 30 s.

Results: `wallboard_traffic` (bytes/s, normal run; baseline: the full-repaint run; the target shown
is 10 % of that baseline) and `wallboard_traffic_ratio` (normal / full repaint, %, target 10).
BENCH_SHORT=1: 10 s per run.
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
    emit,
    kiosk_cmd,
    kiosk_sample,
    log,
    seed_demo,
    short_mode,
)

SIZE = (160, 45)
WARMUP_S = 5.0
TARGET_RATIO = 10.0


def run(tmp: str, env: dict[str, str], data_dir: str, store: str, duration: float, full: bool) -> float:
    name = "full repaint" if full else "normal"
    env = dict(env)
    if full:
        env["CONTIPLE_TUI_BENCH_FULL_REPAINT"] = "1"
    sim = SimProcess(store, env=bench_env(tmp), cwd=tmp, rate=20, period=0.1, heartbeat=5.0, seed=21)
    kiosk = None
    try:
        port = sim.start()
        cmd = kiosk_cmd(data_dir, port) + (["--refresh", "0"] if full else [])
        kiosk = PtyProc(cmd, env=env, cwd=tmp, size=SIZE)
        deadline = time.monotonic() + 30
        while not (sim.status and sim.status[-1].get("clients", 0) >= 1):
            if time.monotonic() > deadline or kiosk.proc.poll() is not None:
                log(f"FAIL ({name}): the kiosk did not connect; output: {bytes(kiosk.tail[-2000:])!r}")
                raise SystemExit(1)
            time.sleep(0.1)
        time.sleep(WARMUP_S)
        t0, c0, s0, b0, seq0 = kiosk_sample(kiosk, sim)
        load = OtherLoad()
        time.sleep(duration)
        t1, c1, s1, b1, seq1 = kiosk_sample(kiosk, sim)
        load.report(name, c1 - c0 + s1 - s0)
        if kiosk.proc.poll() is not None or b"Traceback" in kiosk.tail:
            log(f"FAIL ({name}): the kiosk died or showed a traceback: {bytes(kiosk.tail[-2000:])!r}")
            raise SystemExit(1)
        rate = (b1 - b0) / (t1 - t0)
        log(
            f"{name}: {b1 - b0:,} bytes in {t1 - t0:.1f} s = {rate:,.0f} bytes/s; "
            f"{(seq1 - seq0) / (t1 - t0):.1f} events/s (simulator status); kiosk CPU "
            f"{(c1 - c0) / (t1 - t0) * 100:.1f} % of a core; drops {sim.last().get('dropped')}"
        )
        return rate
    finally:
        if kiosk is not None:
            kiosk.close()
        sim.stop()


def main() -> int:
    duration = 10.0 if short_mode() else 30.0
    code = CodeState()
    tmp = tempfile.mkdtemp(prefix="contiple-bench-traffic-")
    try:
        env = bench_env(tmp)
        data_dir = seed_demo(tmp, env)
        store = os.path.join(data_dir, "contiple.sqlite3")
        normal = run(tmp, env, data_dir, store, duration, full=False)
        full = run(tmp, env, data_dir, store, duration, full=True)
        if full <= 0:
            log("FAIL: the full-repaint run wrote nothing")
            return 1
        ratio = normal / full * 100
        log(f"normal / full repaint: {ratio:.1f} %")
        emit("wallboard_traffic", normal, round(full * TARGET_RATIO / 100, 1), full, unit="bytes/s")
        emit("wallboard_traffic_ratio", ratio, TARGET_RATIO, None, unit="%")
        code.check()
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
