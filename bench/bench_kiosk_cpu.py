"""Kiosk wallboard CPU at a steady 20 events/s (target ≤ 5 % of one core over 60 s, rotation included)
and its RSS growth over 1,000,000 events (target ≤ 10 MB).

Setup: a demo store (services cs/sales/care, user `tv`) is seeded, untimed. The simulator runs in its
own process (bench/_simproc.py: the real `Simulator`, speed 1, heartbeat 5 s, its normal traffic plus
`sim.burst(...)` on an absolute schedule). The real program,
`python -m contiple_tui --data-dir DIR --user tv --cti-url ws://127.0.0.1:PORT wallboard --kiosk`
(overview view: services and agents boards rotating every 5 s, big headline digits, the clock), runs
on the slave side of a 160x45 pseudo-terminal (TERM=xterm-256color); a thread drains the master all
the time, so the program never blocks on output.

1. `kiosk_cpu` (% of one core, target 5): the simulator sends `burst(2)` every 100 ms (20 events/s
   plus its own few). Once the simulator reports the kiosk connected, 5 s of warm-up, then
   utime + stime of the kiosk process (all threads, /proc/PID/stat) over 60 s of wall clock, as a
   percentage of one core. Baseline: the same figure for the simulator process in the same window.
2. `kiosk_rss_growth` (MB, target 10): a fresh kiosk and simulator; the simulator bursts up to
   20,000 events/s but paced by the kiosk (a tick is skipped while the kiosk's send queue in the
   simulator holds more than 2,000 frames), i.e. as fast as the kiosk keeps up. After 50,000
   warm-up events, VmRSS of the kiosk (/proc/PID/status) is read; the bursts continue until at least
   1,000,000 more events were sent, then stop; once the kiosk's queue is empty, plus 3 s, VmRSS is
   read again. Value: the difference (MB = 10**6 bytes). Baseline: VmRSS after the warm-up. The
   simulator must not have dropped the kiosk as too slow (it would then skip events): checked (exit 1).

BENCH_SHORT=1: 20 s of CPU measurement and 100,000 events.
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
    kiosk_sample,
    log,
    rss_mb,
    seed_demo,
    short_mode,
)

SIZE = (160, 45)
WARMUP_S = 5.0
TARGET_CPU = 5.0
TARGET_RSS_MB = 10.0
RSS_WARMUP_EVENTS = 50_000


def wait_connected(sim: SimProcess, kiosk: PtyProc, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sim.status and sim.status[-1].get("clients", 0) >= 1:
            return
        if kiosk.proc.poll() is not None:
            break
        time.sleep(0.1)
    log(
        f"FAIL: the kiosk did not connect (exit {kiosk.proc.poll()}); last output: "
        f"{bytes(kiosk.tail[-2000:])!r}"
    )
    raise SystemExit(1)


def check_alive(kiosk: PtyProc, what: str) -> None:
    if kiosk.proc.poll() is not None:
        log(
            f"FAIL: the kiosk exited during {what} (exit {kiosk.proc.returncode}); "
            f"last output: {bytes(kiosk.tail[-2000:])!r}"
        )
        raise SystemExit(1)


def cpu_phase(tmp: str, env: dict[str, str], data_dir: str, store: str, duration: float) -> None:
    sim = SimProcess(store, env=env, cwd=tmp, rate=20, period=0.1, heartbeat=5.0, seed=11)
    kiosk = None
    try:
        port = sim.start()
        kiosk = PtyProc(kiosk_cmd(data_dir, port), env=env, cwd=tmp, size=SIZE)
        wait_connected(sim, kiosk)
        log(f"cpu: kiosk {kiosk.proc.pid} connected to simulator {sim.pid}; warming up {WARMUP_S} s")
        time.sleep(WARMUP_S)
        check_alive(kiosk, "warm-up")
        t0, k0, s0, b0, seq0 = kiosk_sample(kiosk, sim)
        load = OtherLoad()
        rss0 = rss_mb(kiosk.proc.pid)
        time.sleep(duration)
        t1, k1, s1, b1, seq1 = kiosk_sample(kiosk, sim)
        load.report("cpu window", k1 - k0 + s1 - s0)
        rss1 = rss_mb(kiosk.proc.pid)
        check_alive(kiosk, "the measurement")
        wall = t1 - t0
        status = sim.last()
        log(
            f"cpu: {wall:.1f} s; kiosk {k1 - k0:.2f} s CPU = {(k1 - k0) / wall * 100:.2f} % of a core; "
            f"simulator {(s1 - s0) / wall * 100:.2f} %; events sent {seq1 - seq0} "
            f"({(seq1 - seq0) / wall:.1f}/s, per the simulator's status lines); kiosk output "
            f"{(b1 - b0) / wall:.0f} bytes/s; kiosk RSS {rss0:.1f} -> {rss1:.1f} MB; "
            f"simulator drops {status.get('dropped')}, late ticks {status.get('late_ticks')}"
        )
        if b"Traceback" in kiosk.tail:
            log("FAIL: a traceback on the kiosk's screen")
            raise SystemExit(1)
        emit("kiosk_cpu", (k1 - k0) / wall * 100, TARGET_CPU, (s1 - s0) / wall * 100, unit="%")
    finally:
        if kiosk is not None:
            kiosk.close()
        sim.stop()


def rss_phase(tmp: str, env: dict[str, str], data_dir: str, store: str, events: int) -> None:
    sim = SimProcess(
        store, env=env, cwd=tmp, rate=20_000, period=0.05, heartbeat=5.0, seed=12, max_backlog=2_000
    )
    kiosk = None
    try:
        port = sim.start()
        kiosk = PtyProc(kiosk_cmd(data_dir, port), env=env, cwd=tmp, size=SIZE)
        wait_connected(sim, kiosk)
        log(f"rss: kiosk {kiosk.proc.pid} connected; {RSS_WARMUP_EVENTS:,} warm-up events, then {events:,}")
        start = time.monotonic()
        while sim.last().get("burst_events", 0) < RSS_WARMUP_EVENTS:
            check_alive(kiosk, "the warm-up")
            if time.monotonic() - start > 300:
                log("FAIL: warm-up events not sent within 300 s")
                raise SystemExit(1)
            time.sleep(0.2)
        ev0, rss0, t0 = sim.last()["burst_events"], rss_mb(kiosk.proc.pid), time.monotonic()
        cpu0, sim_cpu0 = cpu_seconds(kiosk.proc.pid), cpu_seconds(sim.pid)
        load = OtherLoad()
        log(f"rss: after warm-up ({ev0:,} burst events): {rss0:.1f} MB")
        samples = [(0.0, 0, rss0)]
        next_sample = t0 + 10
        while True:
            status = sim.last()
            sent = status.get("burst_events", 0) - ev0
            if sent >= events:
                break
            check_alive(kiosk, "the run")
            if time.monotonic() >= next_sample:
                samples.append((time.monotonic() - t0, sent, rss_mb(kiosk.proc.pid)))
                next_sample += 10
            if time.monotonic() - t0 > 900:
                log("FAIL: events not sent within 900 s")
                raise SystemExit(1)
            time.sleep(0.2)
        sim.send("pause")
        t_sent = time.monotonic()
        while True:  # until the kiosk has read everything: two status lines in a row with an empty queue
            time.sleep(1.0)
            tail = sim.status[-2:]
            if len(tail) == 2 and all(s.get("queued", 1) == 0 and s["read_at"] > t_sent + 1 for s in tail):
                break
            if time.monotonic() - t_sent > 120:
                log(f"FAIL: the kiosk did not drain its queue within 120 s: {sim.status[-1]}")
                raise SystemExit(1)
        time.sleep(3.0)
        check_alive(kiosk, "the drain")
        status = sim.last()
        total = status["burst_events"] - ev0
        wall = time.monotonic() - t0
        rss1 = rss_mb(kiosk.proc.pid)
        cpu1, sim_cpu1 = cpu_seconds(kiosk.proc.pid), cpu_seconds(sim.pid)
        load.report("rss run", cpu1 - cpu0 + sim_cpu1 - sim_cpu0)
        samples.append((wall, total, rss1))
        log(
            f"rss: {total:,} events in {wall:.1f} s ({total / wall:,.0f}/s as fast as the kiosk keeps up; "
            f"CPU: kiosk {(cpu1 - cpu0) / wall * 100:.0f} %, simulator "
            f"{(sim_cpu1 - sim_cpu0) / wall * 100:.0f} % of a core); "
            f"simulator drops {status['dropped']}, "
            f"skipped ticks {status['skipped_ticks']}"
        )
        log("rss samples (s, events, MB): " + ", ".join(f"({a:.0f}, {e:,}, {r:.1f})" for a, e, r in samples))
        if status["dropped"]:
            log("FAIL: the simulator dropped the kiosk as too slow: it did not see every event")
            raise SystemExit(1)
        emit("kiosk_rss_growth", rss1 - rss0, TARGET_RSS_MB, rss0, unit="MB")
    finally:
        if kiosk is not None:
            kiosk.close()
        sim.stop()


def main() -> int:
    short = short_mode()
    code = CodeState()
    tmp = tempfile.mkdtemp(prefix="contiple-bench-kiosk-")
    try:
        env = bench_env(tmp)
        data_dir = seed_demo(tmp, env)
        store = os.path.join(data_dir, "contiple.sqlite3")
        cpu_phase(tmp, env, data_dir, store, 20.0 if short else 60.0)
        rss_phase(tmp, env, data_dir, store, 100_000 if short else 1_000_000)
        code.check()
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
