"""Wallboard latency at 1,000 events/s for 60 s: event timestamp to screen update (target p95 ≤ 100 ms).

Setup: a demo store (services cs/sales/care, user `tv`) is seeded, untimed. The simulator runs in its
own process (bench/_simproc.py: the real `Simulator`, speed 1, heartbeat 1 s, normal traffic plus
`sim.burst(10)` every 10 ms on an absolute schedule, i.e. 1,000 burst events/s). A burst event's
`ts` is the simulator's clock when it emitted the event (`SimEngine._emit` stamps `iso_time(now)` after
`Simulator.burst` brought the world up to `clock.now()`); at speed 1 that clock is the wall-clock UTC
of the simulator's start plus monotonic time since, so it is compared with this process's
`time.time()` (the helper reports the drift between the two each second; it is logged). `ts` has
millisecond resolution (truncated), which adds at most 1 ms to every latency.

In this process the real `WallboardApp` (kiosk, overview view rotating every 5 s, as on a wall TV)
runs under Textual's test harness, `app.run_test(size=(160, 45))`: the full message loop, layout and
compositor, but a headless driver, so the last step (turning the compositor's update into escape
sequences and writing them to a terminal) is not done; bench_wallboard_traffic covers real output.
It is connected by a real `CtiClient` over a real websocket.

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
  a reader thread here subtracts the client's applied seq at that moment. Value: the max over the last
  10 s of the window; baseline: the max over the first 10 s. The slope of a least-squares line through
  all samples is logged, as are drops of slow clients by the simulator (there must be none).

Also logged: the latency to `_fill` (the model read into the tables) and the CPU used by both processes.
BENCH_SHORT=1 measures 10 s instead of 60 s.
"""

from __future__ import annotations

import asyncio
import bisect
import os
import shutil
import sys
import tempfile
import time

from _common import SimProcess, bench_env, cpu_seconds, emit, log, seed_demo, short_mode

RATE = 1000.0
PERIOD = 0.01
WARMUP_S = 3.0
DRAIN_S = 1.0
SIZE = (160, 45)
TARGET_P95_MS = 100.0
TARGET_BACKLOG = 1000
TARGET_RATE = 990.0


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), int(round(q / 100 * len(sorted_values) + 0.5))))
    return sorted_values[rank - 1]


def slope(points: list[tuple[float, float]]) -> float:
    n = len(points)
    if n < 2:
        return 0.0
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / sxx if sxx else 0.0


async def measure(data_dir: str, port: int, duration: float, samples: list, client_ref: dict) -> dict:
    # Imported here: textual only in the measuring process, after the simulator is up.
    from contiple_tui import config as config_mod
    from contiple_tui.core import permissions
    from contiple_tui.core.session import resolve_user
    from contiple_tui.cti.client import CtiClient
    from contiple_tui.cti.protocol import EventMessage
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
    flips: list[tuple[float, str]] = []  # (wall time, view shown) of the overview's rotation
    last_fill = {"seq": -1}

    def on_change(_client, what) -> None:
        if isinstance(what, EventMessage):
            events.append((what.seq, what.ts, time.time()))

    client.subscribe(on_change)

    original_fill = WallboardPanel._fill

    def timed_fill(self, client_):
        original_fill(self, client_)
        seq = client_.model.seq if client_.model.seq is not None else -1
        fills.append((time.time(), seq))
        last_fill["seq"] = seq

    original_show = WallboardPanel.show

    def timed_show(self, which):
        original_show(self, which)
        flips.append((time.time(), which))

    WallboardPanel._fill = timed_fill  # this process only
    WallboardPanel.show = timed_show
    app = WallboardApp(store=store, client=client, services=services, config=cfg, view="overview",
                       interval=cfg.wallboard_interval, kiosk=True)
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
            cpu0, wall0 = time.process_time(), time.time()
            samples.clear()
            samples.append("start")  # the reader thread records from here on
            await asyncio.sleep(duration)
            wall1 = time.time()
            cpu1 = time.process_time()
            samples.append("stop")
            await asyncio.sleep(DRAIN_S)
            end = time.time()
            stats = dict(vars(client.stats))
    finally:
        WallboardPanel._fill = original_fill
        WallboardPanel.show = original_show
        store.close()
    return {"events": events, "fills": fills, "displays": displays, "t0": wall0, "t1": wall1, "end": end,
            "cpu": cpu1 - cpu0, "client_stats": stats,
            "flips": flips}


def latencies(events, draws, t0: float, t1: float, end: float) -> tuple[list[float], int, int]:
    """Per event emitted in [t0, t1): seconds to the first draw with seq >= its seq."""
    draw_seqs = [seq for _, seq in draws]
    for a, b in zip(draw_seqs, draw_seqs[1:]):
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


def main() -> int:
    duration = 10.0 if short_mode() else 60.0
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
                samples.append((line["read_at"], line["seq"], applied, line["dropped"], line["offset_ms"]))

        sim = SimProcess(store, env=env, cwd=tmp, rate=RATE, period=PERIOD, heartbeat=1.0, seed=7)
        port = sim.start(on_status=on_status)
        log(f"simulator process {sim.pid} on port {port}: burst(10) every 10 ms; measuring {duration:.0f} s")

        result = asyncio.run(measure(data_dir, port, duration, samples, client_ref))
        status = list(sim.status)
        sim_cpu = cpu_seconds(sim.pid)
        sim.stop()

        t0, t1, end = result["t0"], result["t1"], result["end"]
        window = t1 - t0
        lat_display, counted, undrawn = latencies(result["events"], result["displays"], t0, t1, end)
        lat_fill, _, _ = latencies(result["events"], result["fills"], t0, t1, end)
        if counted == 0:
            log("FAIL: no events in the measured window")
            return 1
        p50, p95 = percentile(lat_display, 50) * 1000, percentile(lat_display, 95) * 1000
        p99, worst = percentile(lat_display, 99) * 1000, lat_display[-1] * 1000
        log(f"events in window: {counted} over {window:.2f} s; never drawn: {undrawn}")
        log(f"event ts -> screen update: p50 {p50:.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms, max {worst:.1f} ms")
        log(f"event ts -> _fill:         p50 {percentile(lat_fill, 50) * 1000:.1f} ms, "
            f"p95 {percentile(lat_fill, 95) * 1000:.1f} ms, max {lat_fill[-1] * 1000:.1f} ms")
        recv = sorted(at - ts.timestamp() for _, ts, at in result["events"] if t0 <= ts.timestamp() < t1)
        log(f"event ts -> applied by the client: p50 {percentile(recv, 50) * 1000:.1f} ms, "
            f"p95 {percentile(recv, 95) * 1000:.1f} ms, max {recv[-1] * 1000:.1f} ms")
        fill_to_display = []
        display_times = [at for at, _ in result["displays"]]
        for at, _ in result["fills"]:
            i = bisect.bisect_left(display_times, at)
            if t0 <= at < t1 and i < len(display_times):
                fill_to_display.append(display_times[i] - at)
        fill_to_display.sort()
        if fill_to_display:
            log(f"fill -> next screen update: p50 {percentile(fill_to_display, 50) * 1000:.1f} ms, "
                f"p95 {percentile(fill_to_display, 95) * 1000:.1f} ms, max {fill_to_display[-1] * 1000:.1f} ms")
        by_view: dict[str, list[float]] = {"services": [], "agents": []}
        draw_seqs = [seq for _, seq in result["displays"]]
        flip_times = [f for f, _ in flips]
        for seq, ts, _ in result["events"]:
            t = ts.timestamp()
            i = bisect.bisect_left(draw_seqs, seq)
            if t0 <= t < t1 and i < len(draw_seqs):
                k = bisect.bisect_right(flip_times, t)
                view = flips[k - 1][1] if k else "services"
                by_view[view].append(result["displays"][i][0] - t)
        for view, values in by_view.items():
            values.sort()
            if values:
                log(f"event ts -> screen update while the {view} board shows: n {len(values)}, "
                    f"p50 {percentile(values, 50) * 1000:.1f} ms, p95 {percentile(values, 95) * 1000:.1f} ms")
        fills_in = [f for f in result["fills"] if t0 <= f[0] < t1]
        displays_in = [d for d in result["displays"] if t0 <= d[0] < t1]
        log(f"fills in window: {len(fills_in)} ({len(fills_in) / window:.1f}/s); "
            f"screen updates: {len(displays_in)} ({len(displays_in) / window:.1f}/s)")
        gaps = sorted(b[0] - a[0] for a, b in zip(fills_in, fills_in[1:]))
        if gaps:
            log(f"gap between fills: median {percentile(gaps, 50) * 1000:.1f} ms, "
                f"p99 {percentile(gaps, 99) * 1000:.1f} ms, max {gaps[-1] * 1000:.1f} ms")
        flips = result["flips"]
        slow = sorted(((b[0] - a[0], b[0]) for a, b in zip(displays_in, displays_in[1:])), reverse=True)[:8]
        for gap, at in slow:
            near = min((at - f for f, _ in flips if f <= at), default=None)
            log(f"  long gap between screen updates: {gap * 1000:.0f} ms ending at +{at - t0:.2f} s; "
                f"last rotation {'never' if near is None else f'{near * 1000:.0f} ms'} before")
        log(f"CPU in window: measuring process {result['cpu'] / window * 100:.0f} % of a core; "
            f"simulator process {sim_cpu:.1f} s of CPU since its start")
        log(f"client stats: {result['client_stats']}")
        offsets = [s["offset_ms"] for s in status if "offset_ms" in s]
        if offsets:
            log(f"simulator clock vs wall clock (ms, wall - sim): first {offsets[0]}, last {offsets[-1]}, "
                f"min {min(offsets)}, max {max(offsets)}")
        late = status[-1].get("late_ticks") if status else None
        log(f"simulator ticks caught up late: {late}")

        rate = counted / window
        points = [s for s in samples if isinstance(s, tuple)]
        dropped = max((s[3] for s in points), default=0)
        if not points:
            log("FAIL: no backlog samples")
            return 1
        backlog = [(at - t0, sim_seq - applied) for at, sim_seq, applied, _, _ in points]
        last10 = [b for at, b in backlog if at >= window - 10.0] or [backlog[-1][1]]
        first10 = [b for at, b in backlog if at < 10.0] or [backlog[0][1]]
        log(f"backlog samples (s, events): {[(round(a, 1), b) for a, b in backlog]}")
        log(f"backlog slope: {slope(backlog):.2f} events/s; slow-client drops by the simulator: {dropped}")
        if dropped:
            log("NOTE: the simulator dropped the client as too slow at least once")

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
