"""Helper process for the wallboard benchmarks (not a benchmark): the real CTI simulator, fed by bursts.

    python _simproc.py STORE [--port P] [--rate EVENTS_PER_S --period S] [--total N] [--prefill N]
                             [--heartbeat S] [--arrival-scale X] [--seed N] [--max-queue N]
                             [--max-backlog N] [--callback-rate X] [--warmup S]

Starts `contiple_tui.sim.simulator.Simulator(load_directory(store), seed, speed=1, heartbeat_s,
arrival_scale, max_client_queue, callback_rate, warmup_s)` on 127.0.0.1 and, every `period` seconds, calls
`sim.burst(rate * period)` (queued + abandoned callers, i.e. valid events with `ts` = the simulator's
clock at emission; at speed 1 that clock is wall-clock UTC taken at start plus monotonic time since).
Ticks are on an absolute schedule: a late tick is caught up by a bigger burst, so the average rate is
exact. `--total` stops the bursts after that many burst events; `--prefill` bursts that many events
once before listening. `--max-backlog N` paces the bursts by the slowest client: a tick is skipped
(not caught up) while no client is connected or a client's send queue holds more than N frames, and
late ticks are not caught up. `--callback-rate`: the share of callers offered a callback who take it
(the Simulator's `callback_rate`; default the product's). `--warmup S`: the world starts S seconds
before now and is run up to now before listening (the Simulator's `warmup_s`: queues and agents in a
steady state from the first event; the demo uses three hours).

stdout (JSON lines): first {"port": P, "epoch": the simulator's epoch}; then once a second
{"wall": time.time(), "seq": last seq, "burst_events": burst events so far, "offset_ms": wall clock
minus simulated clock, "clients": n, "dropped": clients dropped as too slow, "late_ticks": ticks
caught up late, "queued": frames in the fullest client send queue, "skipped_ticks": ticks skipped,
"callbacks": callback_requested events broadcast so far (its own traffic and the command below),
"burst_callbacks": those sent by the command}.
Exits when stdin closes (so it never outlives the benchmark) or on SIGTERM. A line "pause" on stdin
stops the bursts (ticks are skipped, not caught up), "resume" restarts them. A line "callbacks N RATE"
sends N callback requests (`SimEngine.burst_callbacks`, request ids `cb-<epoch without "sim-">-b...`)
at RATE per second on an absolute schedule (one every 1/RATE s, caught up when late), besides everything
else.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import threading
import time

from contiple_tui.sim.engine import CALLBACK_TAKE_RATE
from contiple_tui.sim.simulator import Simulator, load_directory
from contiple_tui.store import Store


def out(data: dict) -> None:
    sys.stdout.write(json.dumps(data) + "\n")
    sys.stdout.flush()


async def main(args: argparse.Namespace) -> None:
    store = Store(args.store)
    try:
        directory = load_directory(store)
    finally:
        store.close()
    sim = Simulator(
        directory,
        seed=args.seed,
        speed=1.0,
        heartbeat_s=args.heartbeat,
        arrival_scale=args.arrival_scale,
        max_client_queue=args.max_queue,
        callback_rate=args.callback_rate,
        warmup_s=args.warmup,
    )
    state = {
        "burst_events": 0,
        "late_ticks": 0,
        "skipped_ticks": 0,
        "bursting": True,
        "callbacks": 0,
        "burst_callbacks": 0,
    }
    broadcast = sim._broadcast

    def counting_broadcast(events: list[dict]) -> None:  # counts the callback requests that go out
        state["callbacks"] += sum(1 for e in events if e.get("event") == "callback_requested")
        broadcast(events)

    sim._broadcast = counting_broadcast
    if args.prefill:
        sim.burst(args.prefill)
    port = await sim.start("127.0.0.1", args.port)
    out({"port": port, "epoch": sim.epoch})

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)

    tasks: list[asyncio.Task] = []

    async def callbacks(total: int, rate: float) -> None:
        """`total` callback requests at `rate` per second: request k is due at start + k / rate (late ones
        go out together at once)."""
        start, sent = loop.time(), 0
        while sent < total:
            due = min(total, int((loop.time() - start) * rate) + 1)
            if due > sent:
                sim.burst_callbacks(due - sent)
                state["burst_callbacks"] += due - sent
                sent = due
            await asyncio.sleep(max(0.0, start + (sent / rate) - loop.time()))

    def command(line: str) -> None:
        words = line.split()
        if words[:1] == ["callbacks"] and len(words) == 3:
            tasks.append(asyncio.create_task(callbacks(int(words[1]), float(words[2]))))
        else:
            state["bursting"] = line.strip() != "pause"

    def watch_stdin() -> None:
        for line in sys.stdin:  # "pause" / "resume": stop or restart the bursts; "callbacks N RATE"
            loop.call_soon_threadsafe(command, line)
        loop.call_soon_threadsafe(stop.set)  # the benchmark closed our stdin (or died): quit

    threading.Thread(target=watch_stdin, daemon=True).start()

    def queued() -> int:
        """Frames waiting in the fullest client send queue (read from the simulator's internals)."""
        return max((client.queue.qsize() for client in sim._clients), default=0)

    async def status() -> None:
        while True:
            out(
                {
                    "wall": time.time(),
                    "seq": sim.engine.seq,
                    "burst_events": state["burst_events"],
                    "offset_ms": round((time.time() - sim.clock.now()) * 1000, 3),
                    "clients": sim.client_count,
                    "dropped": sim.dropped_clients,
                    "late_ticks": state["late_ticks"],
                    "queued": queued(),
                    "skipped_ticks": state["skipped_ticks"],
                    "callbacks": state["callbacks"],
                    "burst_callbacks": state["burst_callbacks"],
                }
            )
            await asyncio.sleep(1.0)

    async def bursts() -> None:
        per_tick = round(args.rate * args.period)
        if per_tick <= 0:
            return
        start, done = loop.time(), 0
        while args.total is None or state["burst_events"] < args.total:
            await asyncio.sleep(max(0.0, start + (done + 1) * args.period - loop.time()))
            due = int((loop.time() - start) / args.period)
            ticks = due - done
            if ticks <= 0:
                continue
            held = args.max_backlog is not None and (sim.client_count == 0 or queued() > args.max_backlog)
            if held or not state["bursting"]:
                state["skipped_ticks"] += ticks  # paused or paced by the client: no catch-up for these
                done = due
                continue
            if args.max_backlog is None:
                state["late_ticks"] += ticks - 1
                n = per_tick * ticks  # catch up: the average rate stays exact
            else:
                state["skipped_ticks"] += ticks - 1  # paced: a late tick is not caught up either
                n = per_tick
            if args.total is not None:
                n = min(n, args.total - state["burst_events"])
            sim.burst(n)
            state["burst_events"] += n
            done = due

    tasks += [asyncio.create_task(status()), asyncio.create_task(bursts())]
    await stop.wait()
    for task in tasks:
        task.cancel()
    await sim.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("store")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--rate", type=float, default=0.0, help="burst events per second")
    parser.add_argument("--period", type=float, default=0.01)
    parser.add_argument("--total", type=int, default=None)
    parser.add_argument("--prefill", type=int, default=0)
    parser.add_argument("--heartbeat", type=float, default=1.0)
    parser.add_argument("--arrival-scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-queue", type=int, default=10_000)
    parser.add_argument(
        "--callback-rate",
        type=float,
        default=CALLBACK_TAKE_RATE,
        help="share of callers offered a callback who take it",
    )
    parser.add_argument("--warmup", type=float, default=0.0, help="simulated seconds run before listening")
    parser.add_argument(
        "--max-backlog",
        type=int,
        default=None,
        help="skip ticks while no client is connected or a client has more frames queued",
    )
    asyncio.run(main(parser.parse_args()))
