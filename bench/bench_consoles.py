"""A host full of consoles (issue 10): idle CPU per console, change propagation between consoles, intake.

    python bench/bench_consoles.py [--counts 1,10,50] [--phases idle,propagation,intake] [--window S]
                                   [--reps N] [--intake-consoles N] [--intake-requests N] [--intake-rate R]
                                   [--arrival-scale X] [--callback-rate X] [--seed-callbacks N]

Defaults: counts 1,10,50 (BENCH_CONSOLES=1,10 in the environment sets them too, for run.py); BENCH_SHORT=1
makes everything smaller: counts 1,10, 15 s windows, 100,000 seeded callbacks, 5 repetitions, 10 intake
consoles and 100 requests.

Set-up, untimed: `python -m contiple_tui --data-dir TMP demo --seed-only --callbacks 1000000` once
(100,000 with BENCH_SHORT=1): one store shared by every console below (services cs/sales/care, the demo's
users: admin, agent01..agent12). A console is the real program,
`python -m contiple_tui --data-dir TMP/demo --lang en --user LOGIN --service CODE [--cti-url ws://127.0.0.1:PORT]`
on the slave side of its own 120x30 pseudo-terminal (TERM=xterm-256color; stdin, stdout and stderr all on
the pty, where Textual draws); a thread drains each master all the time. Console i plays slot i % 10 of
this block: 0 admin Home, 1 A Home, 2 admin list, 3 B Home, 4 admin Home, 5 A list, 6 admin Home, 7 S Home,
8 A list, 9 C Home, where, with b = i // 10, A, B and C are the cs agents number b, b+1 and b+2 (mod 4) of
(agent08, agent02, agent05, agent01) and S the sales agent number b (mod 3) of (agent03, agent06, agent09).
Admins and cs agents use service cs (`--service`), several consoles share a login. "list" = the callback list
opened by keys after the first
paint (the nav menu has the focus: Down, 0.5 s, Enter; checked by its status line "first–last of N").
Consoles start in batches of 5, each batch waiting until every console of it has painted (header "Contiple"
and nav "Callback list" on its screen; 180 s at most) and its list is open (120 s). A console that does not,
or exits before the end of a phase, fails the script (exit 1, its screen on stderr).

The simulator is bench/_simproc.py (the real `Simulator` in its own process, speed 1, heartbeat 5 s,
300 simulated seconds of warm-up before it listens) with no bursts: only its own traffic, with
`--arrival-scale 300` (default), which makes about 20 events/s; the callback take rate is the product's
(0.15) unless --callback-rate says otherwise. The simulated center has 10 phone agents, so at this scale
most callers hang up and about 1 callback request a second arrives (the console holding the intake lease
takes it in; every console sees the new callback). The measured events/s and callback requests/s (from the
simulator's seq and its
count of callback_requested events) are logged for every window.

1. `consoles_idle_1`, `consoles_idle_10`, `consoles_idle_50` (% of one core, target 1.0): N consoles
   (grown from the previous N: consoles 0..N-1 of the plan above) connected to the one simulator. Once the
   simulator counts N clients, 10 s to settle, then utime + stime of every console process
   (/proc/PID/stat, all threads) over a window of 60 s of wall clock (15 s short). Value: the median over
   the consoles, as a percentage of one core. For N = 50 also `consoles_idle_total_50` (target 50): the
   sum over the 50 consoles (baseline null). Logged: min/max per console, the median per kind (admin or
   agent, Home or list), the simulator's CPU, bytes written per console, the load average and how many
   cores other processes kept busy (/proc/stat minus ours).
   Baseline: the same measurement (10 s settle, same window) of a single admin console on Home with no CTI
   feed at all (no --cti-url, no simulator running), before anything else: what a console costs when
   nothing changes.
2. `change_propagation_p95` / `change_propagation_max` (s, targets 1.0 / 2.0): with the largest set of
   consoles from 1 still running (50; 10 short). A repetition: the driver console (alternately console 2,
   an admin with the list open, and console 5, agent A with the list open) is sent ctrl+home, Down k times
   and, 0.3 s later, `d` (the list's "complete" key: completes the row under the cursor), where k is the
   index of the first callback not completed among the first 5 rows of the driver's list (its query read
   from the store). The completed callback is then read from the store (the new `complete` history row;
   none within 5 s: the repetition is tried again). Every other console's screen is modelled from its
   byte stream (cursor positioning and text, escape sequences otherwise ignored; wide characters take two
   cells), so a console counts only where the data is visible: "affected" consoles are those whose screen
   at the key press showed the affected data — a Home box "Completed N" of the callback's service, for an
   agent only when the callback is theirs; a list row with the callback's phone number and a status of
   "Unassigned"/"Not processed" (cut to "Unassign"/"Not proc" at this width; an admin's list may be excluded
   while a "New callback" notification, at most one per 15 s, covers the status column). Timed, per
   affected console: from writing `d` to the read time of the pty chunk after which its screen shows the
   change ("Completed N+1"; the row with "Completed"). A console that has not shown it within 15 s counts
   15 s. 10 repetitions (5 short), 2–3 s apart. Values: p95 (nearest rank) and max over all (console,
   repetition) pairs. Baseline: the median.
3. `intake_callbacks` (callbacks, target 1000) and `intake_writes_per_request` (tx/request, target 1.0):
   the consoles of 1 and 2 are ended (SIGTERM) and the simulator with them. A new simulator with no
   traffic of its own (`--arrival-scale 0`) and 20 fresh consoles (10 short; the same plan) with
   CONTIPLE_TUI_STATS_FILE set. Once they are all connected and settled (10 s), the simulator is told to
   send 1,000 callback requests (100 short) at 10 a second (`SimEngine.burst_callbacks`: own request
   ids, own numbers 0100xxxxxxx that never merge into an open callback, services cs/sales/care in turn).
   When all were sent and the store holds all of them (120 s at most), plus 5 s, the consoles are sent
   SIGTERM. Checked in the store: exactly that many `callback_requests` rows with those request ids, each
   owning a callback created for it; `intake_callbacks` is the number of rows, and a mismatch makes the
   script exit 1. `intake_writes_per_request`: each console appends one JSON line `{"pid", "commits", ...}`
   to the stats file when it exits cleanly; the sum of `commits` over the intake consoles divided by the
   number of requests (everything the consoles committed while they ran: start-up, intake, feed position,
   ...). `intake_request_writes_per_request` (tx/request, target 1.0): the same sum less the transactions
   the intake itself counted as carrying no request (`intake_upkeep_commits`: the lease taken, renewed while
   no request came, given up with the last position), divided by the requests; the upkeep is logged. When
   the file is missing, empty or lacks a console (a console without that feature), this is
   said on stderr and nothing is emitted for this line. Both baselines are null. (The consoles of 1 and 2
   get the variable too: their commits per console per minute are logged.)

Every process started here (consoles, simulators) is ended in `finally`, on Ctrl+C and SIGTERM too.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import timedelta

from _common import (
    CodeState,
    Engine,
    OtherLoad,
    PtyProc,
    SimProcess,
    bench_env,
    cpu_seconds,
    emit,
    engine_suffix,
    log,
    median,
    seed_cmd,
    short_mode,
    timed_run,
)

SIZE = (120, 30)
BATCH = 5
SETTLE_S = 10.0
TARGET_IDLE = 1.0
TARGET_P95, TARGET_MAX = 1.0, 2.0
PROPAGATION_TIMEOUT = 15.0
DRIVER_ROWS = 5  # the driver completes one of its first rows (on screen whatever the notifications)
TARGET_TX = 1.0
# PostgreSQL: transactions per second the database runs for the consoles while nobody touches them
# (issue 14: "close to zero thanks to NOTIFY"; what remains is the intake lease's and the feed's writes
# and each console's look at the lease and the SMS statuses).
TARGET_DB_TPS_PER_CONSOLE = 0.2

CS_AGENTS = ("agent08", "agent02", "agent05", "agent01")
SALES_AGENTS = ("agent03", "agent06", "agent09")
SLOTS = (
    ("admin", False),
    ("A", False),
    ("admin", True),
    ("B", False),
    ("admin", False),
    ("A", True),
    ("admin", False),
    ("S", False),
    ("A", True),
    ("C", False),
)
ADMIN_DRIVER, AGENT_DRIVER = 2, 5

DOWN, ENTER, CTRL_HOME, COMPLETE = b"\x1b[B", b"\r", b"\x1b[1;5H", b"d"
STATUS_LINE = re.compile(r"\d[\d,]*–[\d,]+ of [\d,…]+")
COMPLETED_COUNT = re.compile(r"Completed\s+([\d,]+)(?![\d,])")
OPEN_STATUS = r"(?:Unassign|Not proc)"  # the status column's start: "Unassigned" / "Not processed", cut


def plan(i: int) -> tuple[str, str, bool]:
    """(login, service code, list open) of console i."""
    who, list_open = SLOTS[i % 10]
    b = i // 10
    login = {
        "admin": "admin",
        "A": CS_AGENTS[b % 4],
        "B": CS_AGENTS[(b + 1) % 4],
        "C": CS_AGENTS[(b + 2) % 4],
        "S": SALES_AGENTS[b % 3],
    }[who]
    return login, "sales" if who == "S" else "cs", list_open


# -- a model of each console's screen ---------------------------------------------------------------

TOKEN = re.compile(
    rb"\x1b\[([0-9;?<>=]*)[ -/]*([@-~])|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]"
    rb"|\x1b[=>78DEHMNOZc]|[\r\n]"
)


class Screen:
    """What a terminal shows, from Textual's output: cursor positioning (CUP), erase (ED 2, EL) and text;
    other escape sequences (colours, modes) are ignored. Wide characters take two cells (rich's table)."""

    def __init__(self, cols: int, rows: int) -> None:
        from rich.cells import get_character_cell_size

        self._width = get_character_cell_size
        self.cols, self.rows = cols, rows
        self.grid = [[" "] * cols for _ in range(rows)]
        self.y = self.x = 0
        self._carry = b""

    def feed(self, data: bytes) -> None:
        data = self._carry + data
        self._carry = b""
        pos = 0
        for m in TOKEN.finditer(data):
            if m.start() > pos:
                self._text(data[pos : m.start()])
            pos = m.end()
            final = m.group(2)
            if final is not None:
                params = m.group(1)
                if final in (b"H", b"f"):
                    parts = params.split(b";")
                    row = int(parts[0]) if parts[0].isdigit() else 1
                    col = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 1
                    self.y, self.x = min(max(row - 1, 0), self.rows - 1), min(max(col - 1, 0), self.cols)
                elif final == b"J" and params in (b"2", b"3"):
                    self.grid = [[" "] * self.cols for _ in range(self.rows)]
                elif final == b"K" and params in (b"", b"0"):
                    self.grid[self.y][self.x :] = [" "] * (self.cols - self.x)
            elif m.group(0) == b"\r":
                self.x = 0
            elif m.group(0) == b"\n":
                self.y = min(self.y + 1, self.rows - 1)
        rest = data[pos:]
        esc = rest.rfind(b"\x1b")
        if esc != -1 and len(rest) - esc < 512:  # an escape sequence cut by the read: the rest comes next
            self._carry = rest[esc:]
            rest = rest[:esc]
        if rest:
            self._text(rest)

    def _text(self, raw: bytes) -> None:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start >= len(raw) - 3 and "end of data" in exc.reason:  # a character cut by the read
                self._carry = raw[exc.start :] + self._carry
                text = raw[: exc.start].decode("utf-8", "replace")
            else:
                text = raw.decode("utf-8", "replace")
        row, x = self.grid[self.y], self.x
        if text.isascii():
            end = min(x + len(text), self.cols)
            row[x:end] = text[: end - x]
            self.x = end
            return
        for ch in text:
            w = self._width(ch)
            if w == 0:
                continue
            if x + w > self.cols:
                break
            row[x] = ch
            if w == 2:
                row[x + 1] = ""
            x += w
        self.x = x

    def lines(self) -> list[str]:
        return ["".join(r) for r in self.grid]


class Console(PtyProc):
    """One console in its pty. The drain thread keeps what it reads, with read times, until the screen
    model is brought up to date (lazily: nothing is parsed during the CPU windows unless the backlog
    grows past 4 MB)."""

    def __init__(self, index: int, cmd: list[str], *, env: dict[str, str], cwd: str) -> None:
        self.index = index
        self.login, self.service, self.list_open = plan(index)
        self.screen = Screen(*SIZE)
        self._pending: list[tuple[float, bytes]] = []
        self._pending_bytes = 0
        super().__init__(cmd, env=env, cwd=cwd, size=SIZE)
        self.pid = self.proc.pid
        self.started = time.monotonic()

    @property
    def kind(self) -> str:
        return f"{'admin' if self.login == 'admin' else 'agent'} {'list' if self.list_open else 'Home'}"

    def _took(self, data: bytes) -> None:
        now = time.perf_counter()
        with self._lock:
            self.total += len(data)
            self._pending.append((now, data))
            self._pending_bytes += len(data)
            if self._pending_bytes > 4 << 20:
                self._apply_locked(None)

    def _apply_locked(self, check) -> float | None:
        found = None
        for at, data in self._pending:
            self.screen.feed(data)
            if check is not None and found is None and check(self.screen.lines()):
                found = at
        self._pending, self._pending_bytes = [], 0
        return found

    def apply(self, check=None) -> float | None:
        """Bring the screen up to date; with `check(lines)`, the read time of the first chunk after which
        it held (None if it did not)."""
        with self._lock:
            return self._apply_locked(check)

    def lines(self) -> list[str]:
        with self._lock:
            self._apply_locked(None)
            return self.screen.lines()

    def shows(self, pattern: re.Pattern[str]) -> bool:
        return any(pattern.search(line) for line in self.lines())

    def send(self, keys: bytes) -> float:
        now = time.perf_counter()
        os.write(self.master, keys)
        return now

    def dump(self) -> str:
        return "\n".join(line.rstrip() for line in self.lines())

    def alive(self) -> bool:
        return self.proc.poll() is None


# -- starting and ending consoles ---------------------------------------------------------------------


class Fleet:
    """Every console started here, for cleanup whatever happens."""

    def __init__(self, data_dir: str, env: dict[str, str], cwd: str) -> None:
        self.data_dir, self.env, self.cwd = data_dir, env, cwd
        self.consoles: list[Console] = []

    def cmd(self, index: int, url: str | None) -> list[str]:
        login, service, _ = plan(index)
        return [
            sys.executable,
            "-m",
            "contiple_tui",
            "--data-dir",
            self.data_dir,
            "--lang",
            "en",
            "--user",
            login,
            "--service",
            service,
            *(["--cti-url", url] if url else []),
        ]

    def grow(self, n: int, url: str | None, env: dict[str, str] | None = None) -> None:
        """Consoles len..n-1 in batches; each batch until painted and its lists open."""
        while len(self.consoles) < n:
            batch = []
            for _ in range(min(BATCH, n - len(self.consoles))):
                i = len(self.consoles)
                console = Console(i, self.cmd(i, url), env=env or self.env, cwd=self.cwd)
                self.consoles.append(console)
                batch.append(console)
            t0 = time.monotonic()
            for c in batch:
                wait_screen(
                    c,
                    lambda lines: (
                        any("Contiple" in x for x in lines) and any("Callback list" in x for x in lines)
                    ),
                    180,
                    "its first paint",
                )
            for c in batch:
                if c.list_open:
                    time.sleep(0.5)
                    c.send(DOWN)
                    time.sleep(0.5)
                    c.send(ENTER)
            for c in batch:
                if c.list_open:
                    wait_screen(c, lambda lines: any(STATUS_LINE.search(x) for x in lines), 120, "its list")
            who = ", ".join(f"{c.login}/{c.service}{' list' if c.list_open else ''}" for c in batch)
            log(f"  consoles {batch[0].index}..{batch[-1].index} up in {time.monotonic() - t0:.1f} s ({who})")

    def terminate(self, timeout: float = 30.0) -> dict[int, int | None]:
        """SIGTERM to every console (a clean exit); exit codes by pid (None: killed after the timeout)."""
        for c in self.consoles:
            if c.alive():
                try:
                    os.kill(c.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + timeout
        codes: dict[int, int | None] = {}
        for c in self.consoles:
            try:
                codes[c.pid] = c.proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                codes[c.pid] = None
        self.close()
        return codes

    def close(self) -> None:
        for c in self.consoles:
            try:
                c.close()
            except OSError:
                pass
        self.consoles = []


def wait_screen(c: Console, check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check(c.lines()):
            return
        if not c.alive():
            break
        time.sleep(0.1)
    log(
        f"FAIL: console {c.index} ({c.login}) did not show {what} within {timeout:.0f} s "
        f"(exit {c.proc.poll()}); its screen:\n{c.dump()}"
    )
    raise SystemExit(1)


def wait_clients(sim: SimProcess, n: int, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sim.status and sim.status[-1].get("clients", 0) >= n:
            return
        time.sleep(0.2)
    log(f"FAIL: the simulator counts {sim.last().get('clients')} clients, not {n}, after {timeout:.0f} s")
    raise SystemExit(1)


def check_alive(consoles: list[Console], what: str) -> None:
    dead = [c for c in consoles if not c.alive()]
    if dead:
        c = dead[0]
        log(
            f"FAIL: {len(dead)} console(s) exited during {what}, e.g. {c.index} (exit {c.proc.returncode}); "
            f"its screen:\n{c.dump()}"
        )
        raise SystemExit(1)


# -- 1. idle CPU ---------------------------------------------------------------------------------------


def cpu_window(consoles: list[Console], sim: SimProcess | None, window: float, label: str) -> list[float]:
    """Per-console CPU over the window, % of one core (logged in detail)."""
    pids = [c.pid for c in consoles]
    c0 = {pid: cpu_seconds(pid) for pid in pids}
    b0 = {c.pid: c.bytes_read() for c in consoles}
    s0 = cpu_seconds(sim.pid) if sim else 0.0
    st0 = sim.last() if sim else {}
    load = OtherLoad()
    t0 = time.monotonic()
    time.sleep(window)
    wall = time.monotonic() - t0
    c1 = {pid: cpu_seconds(pid) for pid in pids}
    b1 = {c.pid: c.bytes_read() for c in consoles}
    s1 = cpu_seconds(sim.pid) if sim else 0.0
    st1 = sim.last() if sim else {}
    check_alive(consoles, label)
    own = sum(c1[p] - c0[p] for p in pids) + s1 - s0
    load.report(f"{label} window", own)
    per = [(c1[c.pid] - c0[c.pid]) / wall * 100 for c in consoles]
    by_kind: dict[str, list[float]] = {}
    for c, v in zip(consoles, per):
        by_kind.setdefault(c.kind, []).append(v)
    worst = max(range(len(per)), key=per.__getitem__)
    log(
        f"{label}: {len(consoles)} console(s), {wall:.1f} s; per console median {median(per):.2f} %, "
        f"min {min(per):.2f} %, max {per[worst]:.2f} % (console {worst}, {consoles[worst].kind}), "
        f"sum {sum(per):.1f} % of a core; "
        + "; ".join(f"{k}: median {median(v):.2f} % ({len(v)})" for k, v in sorted(by_kind.items()))
    )
    out = [(b1[c.pid] - b0[c.pid]) / wall for c in consoles]
    log(
        f"{label}: console output median {median(out):,.0f} B/s, max {max(out):,.0f} B/s; "
        f"load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    if sim:
        dt = st1["wall"] - st0["wall"] if st1 and st0 else 0
        if dt > 0:
            log(
                f"{label}: feed {(st1['seq'] - st0['seq']) / dt:.1f} events/s, "
                f"{(st1['callbacks'] - st0['callbacks']) / dt:.2f} callback requests/s (simulator seq and "
                "count "
                f"over {dt:.0f} s); simulator CPU {(s1 - s0) / wall * 100:.1f} %, clients {st1['clients']}, "
                f"dropped {st1['dropped']}"
            )
    return per


def idle_baseline(fleet: Fleet, window: float) -> float:
    """One admin console on Home, no CTI feed at all: % of one core."""
    log("baseline: one admin console on Home without a CTI feed")
    fleet.grow(1, None)
    try:
        time.sleep(SETTLE_S)
        per = cpu_window(fleet.consoles, None, window, "baseline (no feed)")
        fleet.terminate()
    finally:
        fleet.close()
    return per[0]


# -- 2. change propagation -------------------------------------------------------------------------------


class StoreReader:
    """The bench's own read-only view of the store, through the product's queries."""

    def __init__(self, path: str) -> None:
        from contiple_tui.core import callbacks as cb
        from contiple_tui.store import Store

        self.cb = cb
        self.store = Store(path)
        self.users = {u.login: u for u in self.store.users.list()}
        self.services = {s.code: s for s in self.store.services.list()}
        self.services_by_id = {s.id: s for s in self.services.values()}

    def top(self, login: str, code: str, n: int):
        """The first n rows of this user's callback list as it opens (the last 30 days, newest first)."""
        from datetime import datetime
        from zoneinfo import ZoneInfo

        from contiple_tui.screens.callback_list import DEFAULT_DAYS

        service = self.services[code]
        today = datetime.now(ZoneInfo(service.timezone)).date()
        query = self.cb.CallbackQuery(date_from=today - timedelta(days=DEFAULT_DAYS - 1), date_to=today)
        return self.cb.search(self.store, self.users[login], service, query, limit=n)

    def last_history_id(self) -> int:
        with self.store.db.read() as conn:
            return conn.execute("SELECT coalesce(max(id), 0) FROM callback_history").fetchone()[0]

    def completed_after(self, history_id: int):
        with self.store.db.read() as conn:
            return conn.execute(
                "SELECT id, callback_id FROM callback_history WHERE id > ? AND action = 'complete' "
                "ORDER BY id LIMIT 1",
                (history_id,),
            ).fetchone()

    def callback(self, callback_id: int):
        with self.store.db.read() as conn:
            return conn.execute(
                "SELECT customer_phone, assignee_id, service_id FROM callbacks WHERE id = ?", (callback_id,)
            ).fetchone()

    def close(self) -> None:
        self.store.close()


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest rank, as bench_wallboard_latency."""
    rank = max(1, min(len(sorted_values), round(q / 100 * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


def propagation(consoles: list[Console], reader: StoreReader, reps: int) -> list[float]:
    from contiple_tui.domain.models import CallbackStatus
    from contiple_tui.domain.phone import format_phone

    drivers = [
        c
        for c in (
            consoles[ADMIN_DRIVER] if len(consoles) > ADMIN_DRIVER else None,
            consoles[AGENT_DRIVER] if len(consoles) > AGENT_DRIVER else None,
        )
        if c is not None
    ]
    times: list[float] = []
    rng = random.Random(10)
    rep = tries = 0
    while rep < reps:
        tries += 1
        if tries > reps + 5:
            log("FAIL: too many repetitions in which the key completed nothing")
            raise SystemExit(1)
        driver = drivers[rep % len(drivers)]
        others = [c for c in consoles if c is not driver]
        time.sleep(2.0 + rng.random())
        check_alive(consoles, "the propagation phase")
        rows = reader.top(driver.login, driver.service, DRIVER_ROWS)
        k = next((n for n, row in enumerate(rows) if row.status is not CallbackStatus.COMPLETED), None)
        if k is None:
            log(f"FAIL: no open callback among the first {DRIVER_ROWS} rows of {driver.login}'s list")
            raise SystemExit(1)
        driver.send(CTRL_HOME)
        for _ in range(k):
            driver.send(DOWN)
        time.sleep(0.3)
        history = reader.last_history_id()
        before = {}
        for c in others:  # the screens up to now: what each shows at the key press
            c.apply()
        for c in others:
            before[c.pid] = c.screen.lines()
        t0 = driver.send(COMPLETE)
        done = None
        deadline = time.monotonic() + 5
        while done is None and time.monotonic() < deadline:
            time.sleep(0.01)
            done = reader.completed_after(history)
        if done is None:
            log(
                f"  repetition {rep + 1}: `d` in console {driver.index} ({driver.login}) completed nothing "
                f"within 5 s (row {k}); trying again. Its screen:\n{driver.dump()}"
            )
            continue
        found_at = time.perf_counter() - t0
        phone, assignee_id, service_id = reader.callback(done[1])
        code = reader.services_by_id[service_id].code
        # A table row: its request time (MM-DD hh:mm), then the number (not a "New callback: <number>" toast).
        shown = re.compile(r"\d\d-\d\d \d\d:\d\d\s+" + re.escape(format_phone(phone)))
        old_row = re.compile(shown.pattern + ".*" + OPEN_STATUS)
        new_row = re.compile(shown.pattern + ".*Complete")
        watch: dict[int, tuple[Console, re.Pattern[str]]] = {}
        hidden = 0
        for c in others:
            lines = before[c.pid]
            if c.service != code:
                continue
            if c.list_open:
                if any(old_row.search(x) for x in lines):
                    watch[c.pid] = (c, new_row)
                elif any(shown.search(x) for x in lines):
                    hidden += 1  # the row is there, its status hidden (notifications over it)
                continue
            if c.login != "admin" and reader.users[c.login].id != assignee_id:
                continue  # an agent's Home counts only their own callbacks
            counts = [COMPLETED_COUNT.search(x) for x in lines]
            count = next((m for m in counts if m), None)
            if count is not None:
                n = int(count.group(1).replace(",", "")) + 1
                watch[c.pid] = (c, re.compile(rf"Completed\s+{n:,}(?![\d,])"))
        seen: dict[int, float] = {}
        deadline = time.perf_counter() + PROPAGATION_TIMEOUT
        while len(seen) < len(watch) and time.perf_counter() < deadline:
            time.sleep(0.02)
            for pid, (c, pattern) in watch.items():
                if pid in seen:
                    c.apply()
                    continue
                at = c.apply(lambda lines, p=pattern: any(p.search(x) for x in lines))
                if at is not None:
                    seen[pid] = at - t0
        missed = [c for pid, (c, _) in watch.items() if pid not in seen]
        for c in missed:
            log(
                f"  repetition {rep + 1}: console {c.index} ({c.kind}) did not show the change within "
                f"{PROPAGATION_TIMEOUT:.0f} s; counted as {PROPAGATION_TIMEOUT:.0f} s. Its "
                f"screen:\n{c.dump()}"
            )
            seen[c.pid] = PROPAGATION_TIMEOUT
        values = sorted(seen.values())
        times += values
        if not watch:
            log(f"  repetition {rep + 1}: no other console showed the completed callback's data")
        kinds: dict[str, int] = {}
        for c, _ in watch.values():
            kinds[c.kind] = kinds.get(c.kind, 0) + 1
        log(
            f"  repetition {rep + 1}: console {driver.index} ({driver.login}) completed callback {done[1]} "
            f"(row {k}, {code}, assignee {assignee_id}; in the store {found_at:.3f} s after the key); "
            f"{len(watch)} consoles showed it ({', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))}; "
            f"{hidden} lists with the row under notifications, not counted): "
            + (
                f"min {values[0]:.3f} s, median {median(values):.3f} s, max {values[-1]:.3f} s"
                if values
                else "-"
            )
        )
        rep += 1
    return times


# -- 3. intake ---------------------------------------------------------------------------------------------


def intake(
    fleet: Fleet, tmp: str, store_path: str, reader: StoreReader, n_consoles: int, requests: int, rate: float
) -> tuple[bool, tuple[float, float | None] | None, int]:
    """(store check passed, commits per request (all of them, those less the upkeep) or None, request
    rows)."""
    stats_file = os.path.join(tmp, "intake-stats.jsonl")
    env = dict(fleet.env, CONTIPLE_TUI_STATS_FILE=stats_file)
    sim = SimProcess(store_path, env=fleet.env, cwd=tmp, heartbeat=5.0, arrival_scale=0, seed=21)
    codes: dict[int, int | None] = {}
    try:
        port = sim.start(timeout=60)
        run = sim.epoch.removeprefix("sim-")
        like = f"cb-{run}-b%"
        log(
            f"intake: {n_consoles} consoles, simulator {sim.pid} without traffic of its own; "
            f"request ids {like}"
        )
        fleet.grow(n_consoles, f"ws://127.0.0.1:{port}", env=env)
        wait_clients(sim, n_consoles)
        time.sleep(SETTLE_S)
        consoles = list(fleet.consoles)
        pids = [c.pid for c in consoles]
        c0 = {pid: cpu_seconds(pid) for pid in pids}
        load = OtherLoad()
        t0 = time.monotonic()
        sim.send(f"callbacks {requests} {rate}")
        while sim.last().get("burst_callbacks", 0) < requests:
            check_alive(consoles, "the intake")
            if time.monotonic() - t0 > requests / rate + 60:
                log(f"FAIL: the simulator did not send {requests} requests in time: {sim.last()}")
                raise SystemExit(1)
            time.sleep(0.2)
        t_sent = time.monotonic()
        stored = 0
        while time.monotonic() - t_sent < 120:
            stored = count_requests(reader, like)
            if stored >= requests:
                break
            time.sleep(0.5)
        t_stored = time.monotonic()
        c1 = {pid: cpu_seconds(pid) for pid in pids}
        wall = t_stored - t0
        load.report("intake", sum(c1[p] - c0[p] for p in pids))
        per = [(c1[p] - c0[p]) / wall * 100 for p in pids]
        status = sim.last()
        log(
            f"intake: {status['burst_callbacks']} requests sent in {t_sent - t0:.1f} s; {stored} in the "
            "store "
            f"{t_stored - t_sent:.1f} s after the last was sent; console CPU meanwhile median "
            f"{median(per):.1f} %, "
            f"max {max(per):.1f} %, sum {sum(per):.0f} % of a core; simulator drops {status['dropped']}"
        )
        time.sleep(5.0)
        check_alive(consoles, "the intake")
        codes = fleet.terminate()
    finally:
        fleet.close()
        sim.stop()
    log(f"intake: console exit codes {sorted(set(codes.values()), key=str)} (143: SIGTERM, a clean exit)")
    rows, created = count_requests(reader, like), count_created(reader, like)
    ok = rows == requests and created == requests
    log(
        f"intake: {rows} callback_requests rows with those ids, {created} callbacks created for them "
        f"(expected {requests} each): {'ok' if ok else 'MISMATCH'}"
    )
    return ok, commits_per_request(stats_file, pids, requests), rows


def count_requests(reader: StoreReader, like: str) -> int:
    with reader.store.db.read() as conn:
        return conn.execute(
            "SELECT count(*) FROM callback_requests WHERE request_id LIKE ?", (like,)
        ).fetchone()[0]


def count_created(reader: StoreReader, like: str) -> int:
    with reader.store.db.read() as conn:
        return conn.execute(
            "SELECT count(DISTINCT r.callback_id) FROM callback_requests r JOIN callbacks c ON c.id = "
            "r.callback_id "
            "WHERE r.request_id LIKE ? AND c.cti_request_id = r.request_id",
            (like,),
        ).fetchone()[0]


def read_stats(path: str) -> dict[int, dict]:
    """The stats lines by pid ({} when the file is missing)."""
    lines: dict[int, dict] = {}
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                try:
                    data = json.loads(line)
                    lines[int(data["pid"])] = data
                except (ValueError, KeyError, TypeError):
                    log(f"stats file {path}: unreadable line {line!r}")
    except FileNotFoundError:
        pass
    return lines


def commits_per_request(path: str, pids: list[int], requests: int) -> tuple[float, float | None] | None:
    stats = read_stats(path)
    if not stats:
        log(
            f"intake: NO write-transaction figures: CONTIPLE_TUI_STATS_FILE ({path}) is "
            f"{'empty' if os.path.exists(path) else 'missing'} after the consoles exited: this console does "
            "not "
            "write it (the feature is not in this version); intake_writes_per_request is not emitted"
        )
        return None
    missing = [p for p in pids if p not in stats or not isinstance(stats[p].get("commits"), int)]
    if missing:
        log(
            f'intake: {len(missing)} of {len(pids)} consoles wrote no stats line with "commits" '
            f"(pids {missing[:10]}); intake_writes_per_request is not emitted (the sum would be short)"
        )
        return None
    commits = [stats[p]["commits"] for p in pids]
    log(
        f"intake: commits per console min {min(commits)}, median {median(commits)}, max {max(commits)}, "
        f"sum {sum(commits)} for {requests} requests"
    )
    if not all(isinstance(stats[p].get("intake_upkeep_commits"), int) for p in pids):
        log("intake: no intake_upkeep_commits in the stats (an older console): only the whole-life figure")
        return sum(commits) / requests, None
    upkeep = sum(stats[p]["intake_upkeep_commits"] for p in pids)
    log(f"intake: {upkeep} of the {sum(commits)} carried no request (the intake's upkeep)")
    return sum(commits) / requests, (sum(commits) - upkeep) / requests


# -- main ----------------------------------------------------------------------------------------------------


def log_idle_commits(path: str, started: dict[int, float]) -> None:
    """Diagnostic: write transactions per console per minute over the idle and propagation phases."""
    stats = read_stats(path)
    rates = [
        stats[pid]["commits"] / ((time.monotonic() - t0) / 60)
        for pid, t0 in started.items()
        if isinstance(stats.get(pid, {}).get("commits"), int)
    ]
    if rates:
        log(
            f"idle consoles: {median(rates):.1f} commits per console per minute (median of {len(rates)}; "
            f"max {max(rates):.1f}), whole life, propagation included"
        )
    else:
        log("idle consoles: no stats file lines (CONTIPLE_TUI_STATS_FILE not supported by this version)")


def parse_args(short: bool) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--counts",
        default=os.environ.get("BENCH_CONSOLES") or ("1,10" if short else "1,10,50"),
        help="console counts for the idle CPU windows, ascending (env BENCH_CONSOLES)",
    )
    parser.add_argument("--phases", default="idle,propagation,intake")
    parser.add_argument("--window", type=float, default=15.0 if short else 60.0)
    parser.add_argument("--reps", type=int, default=5 if short else 10)
    parser.add_argument("--intake-consoles", type=int, default=10 if short else 20)
    parser.add_argument("--intake-requests", type=int, default=100 if short else 1000)
    parser.add_argument("--intake-rate", type=float, default=10.0)
    parser.add_argument("--arrival-scale", type=float, default=300.0)
    parser.add_argument("--callback-rate", type=float, default=None, help="default: the simulator's")
    parser.add_argument("--seed-callbacks", type=int, default=100_000 if short else 1_000_000)
    args = parser.parse_args()
    args.counts = sorted({int(x) for x in args.counts.split(",") if x.strip()})
    args.phases = set(args.phases.split(","))
    return args


def main() -> int:
    short = short_mode()
    args = parse_args(short)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run.py or a user stopping us: clean up first
    signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl+C too, even where it was ignored
    code = CodeState()
    tmp = tempfile.mkdtemp(prefix="contiple-bench-consoles-")
    failed = False
    fleet = sim = reader = engine = None
    suffix = engine_suffix()
    try:
        env = bench_env(tmp)
        engine = Engine(env)  # BENCH_ENGINE=postgresql: every console and command on one PostgreSQL
        t = time.monotonic()
        timed_run(seed_cmd(tmp, args.seed_callbacks), env=env, cwd=tmp, timeout=1800)
        log(f"seeded {args.seed_callbacks:,} callbacks in {time.monotonic() - t:.0f} s (untimed)")
        data_dir = os.path.join(tmp, "demo")
        store_path = engine.location(data_dir)
        fleet = Fleet(data_dir, env, tmp)
        reader = StoreReader(store_path)

        if "idle" in args.phases or "propagation" in args.phases:
            baseline = idle_baseline(fleet, args.window) if "idle" in args.phases else None
            options = dict(heartbeat=5.0, arrival_scale=args.arrival_scale, seed=11, warmup=300)
            if args.callback_rate is not None:
                options["callback_rate"] = args.callback_rate
            sim = SimProcess(store_path, env=env, cwd=tmp, **options)
            port = sim.start(timeout=120)
            log(
                f"simulator {sim.pid} on port {port}: arrival scale {args.arrival_scale}, "
                f"callback rate {args.callback_rate if args.callback_rate is not None else 'the default'}"
            )
            counts = args.counts if "idle" in args.phases else [max(args.counts)]
            idle_stats = os.path.join(tmp, "idle-stats.jsonl")
            idle_env = dict(env, CONTIPLE_TUI_STATS_FILE=idle_stats)
            for n in counts:
                log(f"idle: growing to {n} consoles")
                fleet.grow(n, f"ws://127.0.0.1:{port}", env=idle_env)
                wait_clients(sim, n)
                time.sleep(SETTLE_S)
                if "idle" not in args.phases:
                    break
                tx0, t0 = engine.transactions(), time.monotonic()
                per = cpu_window(fleet.consoles, sim, args.window, f"idle {n}")
                tx1, t1 = engine.transactions(), time.monotonic()
                emit(f"consoles_idle_{n}{suffix}", median(per), TARGET_IDLE, baseline, unit="%")
                if n == 50:
                    emit(f"consoles_idle_total_50{suffix}", sum(per), 50.0, None, unit="%")
                if tx0 is not None and tx1 is not None:
                    tps = (tx1 - tx0) / (t1 - t0)
                    log(f"idle {n}: the database committed {tps:.2f} transactions/s ({n} consoles)")
                    target = TARGET_DB_TPS_PER_CONSOLE * n
                    emit(f"consoles_idle_db_tps_{n}{suffix}", tps, target, None, unit="tx/s")
            if "propagation" in args.phases:
                if len(fleet.consoles) <= ADMIN_DRIVER:
                    log(f"propagation: skipped, {len(fleet.consoles)} console(s) are too few (at least 3)")
                else:
                    log(f"propagation: {len(fleet.consoles)} consoles, {args.reps} repetitions")
                    times = sorted(propagation(fleet.consoles, reader, args.reps))
                    if not times:
                        log("FAIL: no console showed a completed callback's data")
                        raise SystemExit(1)
                    log(
                        f"propagation: {len(times)} (console, repetition) pairs; median {median(times):.3f} "
                        "s, "
                        f"p95 {percentile(times, 95):.3f} s, max {times[-1]:.3f} s"
                    )
                    emit(f"change_propagation_p95{suffix}", percentile(times, 95), TARGET_P95, median(times))
                    emit(f"change_propagation_max{suffix}", times[-1], TARGET_MAX, median(times))
            started = {c.pid: c.started for c in fleet.consoles}
            codes = fleet.terminate()
            log(f"consoles ended: exit codes {sorted(set(codes.values()), key=str)}")
            log_idle_commits(idle_stats, started)
            sim.stop()
            sim = None

        if "intake" in args.phases:
            ok, per_request, rows = intake(
                fleet, tmp, store_path, reader, args.intake_consoles, args.intake_requests, args.intake_rate
            )
            emit(f"intake_callbacks{suffix}", rows, args.intake_requests, None, unit="callbacks")
            if per_request is not None:
                whole, requests_only = per_request
                emit(f"intake_writes_per_request{suffix}", whole, TARGET_TX, None, unit="tx/request")
                if requests_only is not None:
                    emit(
                        f"intake_request_writes_per_request{suffix}",
                        requests_only,
                        TARGET_TX,
                        None,
                        unit="tx/request",
                    )
            if not ok:
                log("FAIL: the store does not hold exactly one new callback per request")
                failed = True
        code.check()
        return 1 if failed else 0
    finally:
        if fleet is not None:
            fleet.close()
        if sim is not None:
            sim.stop()
        if reader is not None:
            reader.close()
        if engine is not None:
            engine.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
