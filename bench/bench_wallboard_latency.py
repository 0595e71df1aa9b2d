"""Wallboard latency at 1,000 events/s for 60 s: event timestamp to screen update (target p95 ≤ 100 ms).

Setup: a demo store (services cs/sales/care, user `tv`) is seeded, untimed. The simulator runs in its
own process (bench/_simproc.py: the real `Simulator`, speed 1, heartbeat 1 s, normal traffic plus
`sim.burst(10)` every 10 ms on an absolute schedule, i.e. 1,000 burst events/s). A burst event's
`ts` is the simulator's clock when it emitted the event (`SimEngine._emit` stamps `iso_time(now)` after
`Simulator.burst` brought the world up to `clock.now()`); at speed 1 that clock is the wall-clock UTC
of the simulator's start plus monotonic time since, so it is compared with this process's
`time.time()` (the helper reports the drift between the two each second; it is logged). `ts` has
millisecond resolution (truncated), which adds at most 1 ms to every latency.

In this process the real `WallboardApp` (kiosk layout: headline digits, clock, the services board;
`refresh` 0: redrawn on every update of the feed, as the console's wallboard is, not paced to one picture
a second as a kiosk on a wall TV is by default) runs under Textual's test harness,
`app.run_test(size=(160, 45))`: the full message loop, layout and compositor, but a headless driver,
so the last step (turning the compositor's update into escape sequences and writing them to a
terminal) is not done; bench_wallboard_traffic covers real output.
It is connected by a real `CtiClient` over a real websocket. The board is fixed on the services view
(no rotation), where every burst event changes numbers on screen (inbound and abandoned counts); on
the agents board these events change little or nothing, so "the screen update that shows the event"
would be ill-defined there. Rotation is part of bench_kiosk_cpu.

Instrumentation, in this process only: a client listener records `seq -> ts` of every applied event;
`WallboardPanel._fill` is wrapped to record (wall time after it ran, `model.seq` it drew); the app's
`_display` (called by the screen with each compositor update) is wrapped to record the wall time
of each non-empty screen update with the seq of the last fill before it.

Latency of an event = time of the first screen update whose drawn seq ≥ the event's seq, minus the
event's `ts`. Over the events emitted in the measured window (after a 3 s warm-up), results:

- `wallboard_latency_p95` (ms, target 100): the 95th percentile; baseline: the median (p50).
  Events never drawn by the end (1 s after the window) count with latency = end - ts.
- `wallboard_events_per_s` (events/s, higher is better, target 990, i.e. 99 % of the 1,000/s
  pushed): events the client applied whose `ts` lies in the window, divided by the window length.
- `wallboard_backlog` (events, target 1000): once a second the simulator process prints its last seq;
  a reader thread here subtracts the client's applied seq at that moment (the two reads are not
  atomic: ±10 events is sampling skew). Value: the max over the last 10 s of the window; baseline:
  the max over the first 10 s. The slope of a least-squares line through all samples is logged, as
  are drops of slow clients by the simulator (there must be none).

Also logged: the split of the latency (ts -> applied by the client, ts -> `_fill`, fill -> screen
update), the longest gaps between screen updates, garbage collections, and the CPU of both processes.
BENCH_SHORT=1 measures 10 s instead of 60 s.
"""

from __future__ import annotations

import asyncio
import bisect
import gc
import itertools
import os
import shutil
import sys
import tempfile
import time

from _common import CodeState, OtherLoad, SimProcess, bench_env, cpu_seconds, emit, log, seed_demo, short_mode

RATE = 1000.0
PERIOD = 0.01
WARMUP_S = 3.0
DRAIN_S = 1.0
SIZE = (160, 45)
VIEW = "services"
TARGET_P95_MS = 100.0
TARGET_BACKLOG = 1000
TARGET_RATE = 990.0


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), round(q / 100 * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


def slope(points: list[tuple[float, float]]) -> float:
    n = len(points)
    if n < 2:
        return 0.0
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / sxx if sxx else 0.0


async def measure(
    data_dir: str, port: int, sim_pid: int, duration: float, samples: list, client_ref: dict
) -> dict:
    # Imported here: textual only in the measuring process, after the simulator is up.
    from contiple_tui import config as config_mod
    from contiple_tui.core.session import resolve_user
    from contiple_tui.cti.client import CtiClient
    from contiple_tui.cti.protocol import EventMessage
    from contiple_tui.domain import permissions
    from contiple_tui.i18n import set_language
    from contiple_tui.kiosk import WallboardApp
    from contiple_tui.store import Store
    from contiple_tui.widgets.wallboard_panel import WallboardPanel

    url = f"ws://127.0.0.1:{port}"
    cfg = config_mod.load(data_dir=data_dir, cti_url=url)
    set_language(cfg.lang)
    store = Store.in_dir(cfg.data_dir)
    user = resolve_user(store, "tv")
    services = [s for s in store.services.list() if permissions.may_view_wallboard(user, s)]
    client = CtiClient(url, token=cfg.cti_token, user="tv")
    client_ref["client"] = client  # for the reader thread that samples the backlog

    events: list[tuple[int, object, float]] = []  # (seq, ts datetime, wall time applied), in arrival order
    fills: list[tuple[float, int]] = []  # (wall time, drawn seq)
    displays: list[tuple[float, int]] = []  # (wall time, seq of the last fill before it)
    last_fill = {"seq": -1}

    def on_change(_client, what) -> None:
        if isinstance(what, EventMessage):
            events.append((what.seq, what.ts, time.time()))

    client.subscribe(on_change)

    gc_pauses: list[tuple[int, float]] = []  # (generation, seconds) of each collection in the window
    gc_started: dict[str, float] = {}

    def gc_timer(phase, info):
        if phase == "start":
            gc_started["t"] = time.perf_counter()
        elif "t" in gc_started:
            gc_pauses.append((info["generation"], time.perf_counter() - gc_started.pop("t")))

    original_fill = WallboardPanel._fill

    def timed_fill(self, client_):
        original_fill(self, client_)
        seq = client_.model.seq if client_.model.seq is not None else -1
        fills.append((time.time(), seq))
        last_fill["seq"] = seq

    WallboardPanel._fill = timed_fill  # this process only
    app = WallboardApp(
        store=store,
        client=client,
        services=services,
        config=cfg,
        view=VIEW,
        interval=cfg.wallboard_interval,
        kiosk=True,
    )
    original_display = app._display

    def timed_display(screen, renderable):
        original_display(screen, renderable)
        if renderable is not None:
            displays.append((time.time(), last_fill["seq"]))

    app._display = timed_display  # instance attribute: the screen calls app._display(...)

    try:
        async with app.run_test(size=SIZE):
            deadline = time.monotonic() + 20
            while not client.live:
                if time.monotonic() > deadline:
                    log("FAIL: the wallboard's client never went live")
                    raise SystemExit(1)
                await asyncio.sleep(0.05)
            log(f"live; warming up {WARMUP_S} s")
            await asyncio.sleep(WARMUP_S)
            gc.callbacks.append(gc_timer)
            cpu0, wall0 = time.process_time(), time.time()
            load, sim_cpu0 = OtherLoad(), cpu_seconds(sim_pid)
            samples.append("start")  # the reader thread records from here on
            await asyncio.sleep(duration)
            wall1 = time.time()
            cpu1 = time.process_time()
            load.report("measured window", cpu1 - cpu0 + cpu_seconds(sim_pid) - sim_cpu0)
            samples.append("stop")
            gc.callbacks.remove(gc_timer)
            await asyncio.sleep(DRAIN_S)
            end = time.time()
            stats = dict(vars(client.stats))
    finally:
        WallboardPanel._fill = original_fill
        store.close()
    return {
        "events": events,
        "fills": fills,
        "displays": displays,
        "t0": wall0,
        "t1": wall1,
        "end": end,
        "cpu": cpu1 - cpu0,
        "client_stats": stats,
        "gc": gc_pauses,
    }


def latencies(events, draws, t0: float, t1: float, end: float) -> tuple[list[float], int, int]:
    """Per event emitted in [t0, t1): seconds to the first draw with seq >= its seq."""
    draw_seqs = [seq for _, seq in draws]
    for a, b in itertools.pairwise(draw_seqs):
        if b < a:
            log("FAIL: drawn seq went backwards (the client restarted its model?)")
            raise SystemExit(1)
    out, counted, undrawn = [], 0, 0
    for seq, ts, _ in events:
        t = ts.timestamp()
        if not t0 <= t < t1:
            continue
        counted += 1
        i = bisect.bisect_left(draw_seqs, seq)
        if i < len(draws):
            out.append(max(0.0, draws[i][0] - t))
        else:
            undrawn += 1
            out.append(end - t)
    out.sort()
    return out, counted, undrawn


def spread(name: str, values: list[float]) -> None:
    values = sorted(values)
    if values:
        log(
            f"{name}: p50 {percentile(values, 50) * 1000:.1f} ms, p95 {percentile(values, 95) * 1000:.1f} "
            "ms, "
            f"p99 {percentile(values, 99) * 1000:.1f} ms, max {values[-1] * 1000:.1f} ms"
        )


def main() -> int:
    duration = 10.0 if short_mode() else 60.0
    code = CodeState()
    tmp = tempfile.mkdtemp(prefix="contiple-bench-wblat-")
    sim: SimProcess | None = None
    try:
        env = bench_env(tmp)
        data_dir = seed_demo(tmp, env)
        store = os.path.join(data_dir, "contiple.sqlite3")
        samples: list = []
        client_ref: dict = {}

        def on_status(line: dict) -> None:  # reader thread: pair the sim's seq with the client's now
            if samples and samples[0] == "start" and samples[-1] != "stop" and "client" in client_ref:
                applied = client_ref["client"].model.seq or 0
                samples.append((line["read_at"], line["seq"], applied, line["dropped"]))

        sim = SimProcess(store, env=env, cwd=tmp, rate=RATE, period=PERIOD, heartbeat=1.0, seed=7)
        port = sim.start(on_status=on_status)
        log(f"simulator process {sim.pid} on port {port}: burst(10) every 10 ms; measuring {duration:.0f} s")
        result = asyncio.run(measure(data_dir, port, sim.pid, duration, samples, client_ref))
        status = list(sim.status)
        sim_cpu = cpu_seconds(sim.pid)
        sim.stop()

        t0, t1, end = result["t0"], result["t1"], result["end"]
        window = t1 - t0
        events = result["events"]
        lat, counted, undrawn = latencies(events, result["displays"], t0, t1, end)
        if counted == 0:
            log("FAIL: no events in the measured window")
            return 1
        p50, p95 = percentile(lat, 50) * 1000, percentile(lat, 95) * 1000
        log(f"events in window: {counted} over {window:.2f} s; never drawn: {undrawn}")
        spread("event ts -> screen update", lat)
        spread("event ts -> _fill", latencies(events, result["fills"], t0, t1, end)[0])
        spread(
            "event ts -> applied by the client",
            [at - ts.timestamp() for _, ts, at in events if t0 <= ts.timestamp() < t1],
        )
        display_times = [at for at, _ in result["displays"]]
        fills_in = [f for f in result["fills"] if t0 <= f[0] < t1]
        to_display, unshown = [], 0
        for (at, _), nxt in itertools.zip_longest(fills_in, fills_in[1:], fillvalue=None):
            i = bisect.bisect_left(display_times, at)
            if i < len(display_times):
                to_display.append(display_times[i] - at)
                if nxt is not None and display_times[i] > nxt[0]:
                    unshown += 1
        spread("fill -> next screen update", to_display)
        displays_in = [d for d in result["displays"] if t0 <= d[0] < t1]
        log(
            f"fills in window: {len(fills_in)} ({len(fills_in) / window:.1f}/s), {unshown} of them not "
            "followed "
            f"by a screen update before the next fill; screen updates: {len(displays_in)} "
            f"({len(displays_in) / window:.1f}/s)"
        )
        spread("gap between fills", [b[0] - a[0] for a, b in itertools.pairwise(fills_in)])
        slow = sorted(((b[0] - a[0], b[0]) for a, b in itertools.pairwise(displays_in)), reverse=True)[:5]
        log(
            "longest gaps between screen updates: "
            + ", ".join(f"{gap * 1000:.0f} ms ending at +{at - t0:.2f} s" for gap, at in slow)
        )
        for gen in (0, 1, 2):
            pauses = [p for g, p in result["gc"] if g == gen]
            if pauses:
                log(
                    f"gc generation {gen}: {len(pauses)} collections, longest {max(pauses) * 1000:.1f} ms, "
                    f"total {sum(pauses) * 1000:.0f} ms"
                )
        log(
            f"CPU in window: measuring process {result['cpu'] / window * 100:.0f} % of a core; "
            f"simulator process {sim_cpu:.1f} s of CPU since its start"
        )
        log(f"client stats: {result['client_stats']}")
        offsets = [s["offset_ms"] for s in status if "offset_ms" in s]
        if offsets:
            log(
                f"simulator clock vs wall clock (ms, wall - sim): first {offsets[0]}, last {offsets[-1]}, "
                f"min {min(offsets)}, max {max(offsets)}"
            )
        log(f"simulator ticks caught up late: {status[-1].get('late_ticks') if status else None}")

        rate = counted / window
        points = [s for s in samples if isinstance(s, tuple)]
        if not points:
            log("FAIL: no backlog samples")
            return 1
        dropped = max(s[3] for s in points)
        backlog = [(at - t0, sim_seq - applied) for at, sim_seq, applied, _ in points]
        last10 = [b for at, b in backlog if at >= window - 10.0] or [backlog[-1][1]]
        first10 = [b for at, b in backlog if at < 10.0] or [backlog[0][1]]
        log(f"backlog samples (s, events): {[(round(a, 1), b) for a, b in backlog]}")
        log(f"backlog slope: {slope(backlog):.2f} events/s; slow-client drops by the simulator: {dropped}")
        if dropped:
            log("NOTE: the simulator dropped the client as too slow at least once")
        code.check()

        emit("wallboard_latency_p95", p95, TARGET_P95_MS, p50, unit="ms")
        emit("wallboard_events_per_s", rate, TARGET_RATE, None, unit="events/s", higher_is_better=True)
        emit("wallboard_backlog", max(last10), TARGET_BACKLOG, max(first10), unit="events")
        return 0
    finally:
        if sim is not None:
            sim.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
