"""Callback list (1-2) with 1,000,000 callbacks: first rows, page down, filter changes, console memory (issues
4
and 10), alone and while 20 other consoles are open on the same host.

Set-up, untimed: `python -m contiple_tui --data-dir TMP demo --seed-only --callbacks 1000000` once (100,000
with BENCH_SHORT=1), shared by every measurement below. The demo puts half of the callbacks in service cs,
the admin's first service, and about 62 % of them in the list's default period (the last 30 days).

(a) callback_list_first_rows (target 0.3 s): `python -m contiple_tui --data-dir TMP --lang en demo` (admin,
    with the demo's embedded CTI simulator, as a user runs it) in a 120x40 pseudo-terminal. After the first
    paint (the nav label "Callback list" written) and 2 s to settle, Down moves the nav to "Callback list";
    0.5 s later Enter opens it. Timed: from writing Enter until the terminal output (escape sequences
    removed) holds the column header "Requested" followed by a first row's request time (`MM-DD hh:mm`):
    the moment the chunk holding it was read from the pty. The status line "1–100 of N" is timed too (on
    stderr), and the filter choices (Selects, mounted once the first rows are drawn) until the last of them,
    "Assigned by: all", is written (on stderr). Median of 5 console starts (3 with BENCH_SHORT=1); each start
    is a fresh process, so the list
    view is composed anew every time.
    Baseline: a plain Textual DataTable (8 columns) loaded with 100,000 rows in `run_test(size=(120, 40))`
    in its own process: `add_rows` of 100,000 prebuilt tuples, then `await pilot.pause()` (until the process
    is idle, i.e. painted) — the load-everything design that keyset paging avoids.
(b) callback_list_pagedown_p95 (target 0.05 s) / callback_list_pagedown_max (target 0.1 s) /
    callback_list_pagedown_pty (median, target 0.05 s): in the pty console of the last (a) run, 2 s after
    the list opened: 50 times ctrl+End (cursor to the last row), 0.25 s pause, then PageDown, timed from
    writing PageDown until the chunk that completes the new status line "5,001–5,100 of N" was read: what
    a user sees, repaint and terminal output included (the status line is drawn in the same screen update
    as the new rows). p95 is the nearest rank (the 48th of 50). The table reads the next page ahead in a
    thread as soon as a page is shown, so PageDown shows rows already in memory.
    callback_list_pagedown (target 0.05 s): in-process, the real ContipleApp (built like tests/apphelpers:
    admin, en, the real clock, no CTI) in `App.run_test(size=(120, 40))`; the list is opened with
    `app.show_menu("callback_list")`, the table focused; 20 times: the cursor is put on the last row, the
    app's workers let finish (the page read ahead), then `CallbackTable.action_next_page()` is timed
    (synchronous: handing the page read ahead to the table and rewriting the status line; not the repaint
    that follows). Median. How many of the 20 found their page read ahead is logged on stderr.
    Baseline: the median time of the pure SQL page fetch (next line), which the key no longer waits for.
    callback_list_page_sql (target 0.05 s): `store.callbacks.search(...)` for 20 further keyset pages of the
    same query (pages 22–41, so neither measurement reuses pages the other read). Median.
(c) callback_filter_phone_typed (target 0.15 s): in the same pty console, after the paging: "/" (the phone
    filter), ctrl+U (emptied), 1 s, then the digits of "0101234", "5678" and a full number of the store
    (one whose last digit narrows the rows: fewer callbacks match it than its first ten digits) typed one
    key at a time, 0.15 s apart, each number twice. Timed from writing the LAST key until the chunk after
    which the screen shows the rows for the whole number: a small terminal model (cursor moves, text,
    erases: what Textual writes) applies the output, and the rows count when the status line "1–R of …"
    has been rewritten since that key and every row between the column header and it shows a phone
    holding the digits (at most R rows). The value is the slowest of the 6; the median is logged.
    Baseline: `core.callbacks.search` (first page) of the whole number, called directly.
    The phone filter is debounced (DEBOUNCE_S, 0.08 s, in screens/callback_list.py) with a leading edge: a
    change after a quiet moment searches at once, so keys 0.15 s apart each search at once; keys closer
    together than DEBOUNCE_S search once, DEBOUNCE_S after the last. While typing (a key within TYPING_S of
    the one before), each key's total is counted only after a pause of COUNT_WAIT_S (0.2 s), so the counts
    of the digits on the way (~65 ms each for a common part at 1,000,000) are not run at all. A diagnostic
    in-process types "1357" key by key (0.15 s apart) and times the rows for the whole number from the
    last key.
(d) callback_filter_phone / callback_filter_status (targets 0.15 / 0.1 s): in the in-process app, the phone
    filter Input's value is set (one change, as a paste) to "1234", "5678", "2468", "9753", "3141" in turn;
    then the status Select to unassigned, assigned, completed, unassigned, assigned. Each change comes
    0.6 s (QUIET_S) after the previous one's total was shown, as a user reads the rows before changing a
    filter again. Timed: from setting the value until the table holds the new rows and the status line has
    been rewritten for them (polled every 2 ms): the rows on screen, which is what the user waits for. The
    screen shows the rows as soon as their page is read and the total as "…" until the count (a second
    query) is done; callback_filter_phone_total / callback_filter_status_total (target 0.3 s) time the same
    change until the status line shows the total. Median of 5 each. Checks: every row shown contains the
    digits / has the status, and the total shown equals `core.callbacks.count`.
    Baselines: `core.callbacks.search` (first page) for the rows lines, plus `core.callbacks.count` for the
    total lines, for the same query called directly: the SQL the screen's worker runs, without UI.
(e) callback_list_rss (target 200 MB): VmRSS of the pty console process (/proc/PID/status; the embedded
    simulator is a thread of that process) after the list was opened and paged 50 pages in (a)'s last run.
    Baseline: VmRSS of the DataTable-with-100,000-rows process of the baseline.
(f) The same pty measurements while 20 other consoles are open (issue 10, a host full of consoles):
    20 more `python -m contiple_tui --data-dir TMP --lang en demo --user LOGIN` processes (admin and the
    demo agents agent01–agent12 in turn), each in its own 120x40 pty whose output a thread drains, on the
    same store; the first starts the demo's simulator and the others (and the measured console) join it.
    They are left idle on their first screen. Once all have painted, and 5 s later, 3 more measured
    console starts (2 with BENCH_SHORT=1) as in (a), the last one paging and typing as in (b) and (c):
    callback_list_first_rows_20, callback_list_pagedown_pty_20, callback_list_pagedown_p95_20,
    callback_list_pagedown_max_20, callback_filter_phone_typed_20, same targets; each baseline is the
    figure without the 20. The 20 consoles' own CPU during that pass is logged on stderr. Every process
    started is killed at the end, whatever happened.

Diagnostics on stderr only: 3 more pty runs (interleaved with the first 3 of (a)) of the same console
without the demo's embedded simulator (`--cti-url ws://127.0.0.1:9`, where nothing listens), to show what
the simulator costs; the in-process time from show_menu to the first status line; how busy other processes
kept the machine during the pty and in-process phases (_common.OtherLoad) and the load average.

Notes: while the pty console runs, its demo simulator takes new callback requests into the store (intake),
a few extra callbacks per run; each one makes the list re-read its page and total (in threads, redrawing
only what changed). Opening the list searches once (the filter widgets' first Changed events are ignored);
the pty paging still waits 2 s after the first page before its first key. The in-process filter timings
poll on the app's own event loop, so they see the new status line only when the app next yields, usually
after it has re-rendered.
"""

from __future__ import annotations

import asyncio
import codecs
import json
import math
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC
from pathlib import Path

from _common import (
    ENGINE,
    CodeState,
    Engine,
    OtherLoad,
    PtyProc,
    bench_env,
    cpu_seconds,
    emit,
    log,
    median,
    rss_mb,
    seed_cmd,
    short_mode,
    timed_run,
)

SIZE = (120, 40)
PAGES = 50
FIRST_ROWS_TARGET = 0.3
PAGE_TARGET = 0.05
PAGE_MAX_TARGET = 0.1
PHONE_TARGET = 0.15
STATUS_TARGET = 0.1
TOTAL_TARGET = 0.3
RSS_TARGET = 200.0
# Issue 14 on PostgreSQL (BENCH_ENGINE=postgresql): first rows, phone part and status filter.
PG_FIRST_ROWS_TARGET, PG_PHONE_TARGET, PG_STATUS_TARGET = 0.5, 0.1, 0.3
PHONES = ["1234", "5678", "2468", "9753", "3141"]
NO_SIM_RUNS = 3
STATUSES = ["unassigned", "assigned", "completed", "unassigned", "assigned"]
QUIET_S = 0.6
TYPED = "1357"
TYPED_PTY = ["0101234", "5678"]  # and a full number of the store, picked by full_number()
TYPED_ROUNDS = 2
KEY_GAP_S = 0.15
OTHER_CONSOLES = 20
OTHER_LOGINS = ["admin"] + [f"agent{i:02d}" for i in range(1, 13)]

ANSI = re.compile(
    rb"\x1b(?:\[[0-9;?<>=]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[()][0-9A-Za-z]|[=>78DEHMNOZc])"
)
FIRST_ROW = re.compile(r"Requested.*?\d\d-\d\d \d\d:\d\d", re.DOTALL)
FILTERS_DRAWN = re.compile(r"Assigned by")  # the admin's last filter choice: the view is complete

DOWN, ENTER, CTRL_END, PAGE_DOWN, CTRL_Q = b"\x1b[B", b"\r", b"\x1b[1;5F", b"\x1b[6~", b"\x11"
SLASH, CTRL_U = b"/", b"\x15"

BASELINE_APP = """\
import asyncio, json, sys, time

from textual.app import App
from textual.widgets import DataTable

N = int(sys.argv[1])
COLUMNS = ("Requested", "Phone", "Name", "IVR", "Status", "Assignee", "Tries", "Reqs")


class Plain(App):
    def compose(self):
        yield DataTable(cursor_type="row", zebra_stripes=True)


def rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024 / 1e6


async def main():
    rows = [(f"11-{i % 28 + 1:02d} {i % 24:02d}:{i % 60:02d}", f"010-{i % 9000 + 1000}-{i % 7919 + 1000}",
             "김지훈", "1 주문/배송", "Unassigned", "-", str(i % 4), "") for i in range(N)]
    app = Plain()
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.query_one(DataTable)
        for label in COLUMNS:
            table.add_column(label)
        await pilot.pause()
        start = time.perf_counter()
        table.add_rows(rows)
        await pilot.pause()
        elapsed = time.perf_counter() - start
        rss = rss_mb()
        assert table.row_count == N
    print(json.dumps({"seconds": elapsed, "rss_mb": rss}))


asyncio.run(main())
"""


def strip(data: bytes) -> str:
    return ANSI.sub(b"", data).decode("utf-8", "replace")


def p95(values: list[float]) -> float:
    """Nearest rank: the smallest value with at least 95 % of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


class RecordingPty(PtyProc):
    """PtyProc that also keeps every chunk read with the time it was read (time.perf_counter())."""

    def __init__(self, *args, **kwargs) -> None:
        self.chunks: list[tuple[float, bytes]] = []
        super().__init__(*args, **kwargs)

    def _took(self, data: bytes) -> None:
        now = time.perf_counter()
        with self._lock:
            self.chunks.append((now, data))
            self.total += len(data)
            self._keep_tail(data)

    def mark(self) -> int:
        with self._lock:
            return len(self.chunks)

    def chunks_from(self, since: int) -> list[tuple[float, bytes]]:
        with self._lock:
            return self.chunks[since:]

    def send(self, keys: bytes) -> float:
        """Write keys; the time just before the write."""
        now = time.perf_counter()
        os.write(self.master, keys)
        return now

    def when(self, since: int, pattern: re.Pattern[str], timeout: float) -> float | None:
        """Read time of the chunk (from index `since` on) that completes `pattern` in the stripped output."""
        deadline = time.perf_counter() + timeout
        acc = bytearray()
        k = since
        while time.perf_counter() < deadline:
            with self._lock:
                new = self.chunks[k:]
            for at, data in new:
                acc += data
                k += 1
                if pattern.search(strip(bytes(acc))):
                    return at
            if self.proc.poll() is not None:
                return None
            time.sleep(0.005)
        return None

    def screen_tail(self, since: int, chars: int = 1500) -> str:
        with self._lock:
            data = b"".join(d for _, d in self.chunks[since:])
        return re.sub(r"\s+", " ", strip(data))[-chars:]


# -- what the terminal shows -------------------------------------------------------------------------

CSI = re.compile(r"\x1b\[([0-9;?<>=]*)[ -/]*([@-~])")
OTHER_ESCAPE = re.compile(r"\x1b(?:\][^\x07\x1b]*(?:\x07|\x1b\\)|[()][0-9A-Za-z]|[=>78DEHMNOZc])")
TEXT_RUN = re.compile(r"[^\x00-\x1f\x7f]+")
RIGHT_HALF = "\0"  # the cell under the right half of a wide character
STATUS_LINE = re.compile(r"(\d[\d,]*)–(\d[\d,]*) of (…|\d[\d,]*)")
REQUEST_TIME = re.compile(r"\d\d-\d\d \d\d:\d\d")


class Screen:
    """A minimal terminal, enough for what Textual writes (cursor positioning, text, erases; colours and
    modes ignored), to read the screen's lines as a user sees them. `written` holds the lines written to
    since it was last cleared."""

    def __init__(self, cols: int, rows: int) -> None:
        from rich.cells import get_character_cell_size  # the widths Textual lays text out with

        self._width = get_character_cell_size
        self.cols, self.rows = cols, rows
        self.cells = [[" "] * cols for _ in range(rows)]
        self.x = self.y = 0
        self.written: set[int] = set()
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._pending = ""
        self.fed = 0  # chunks applied so far

    def feed(self, data: bytes) -> None:
        text = self._pending + self._decoder.decode(data)
        self._pending = ""
        i, n = 0, len(text)
        while i < n:
            ch = text[i]
            if ch == "\x1b":
                m = CSI.match(text, i)
                if m:
                    self._csi(m.group(1), m.group(2))
                    i = m.end()
                    continue
                m = OTHER_ESCAPE.match(text, i)
                if m:
                    i = m.end()
                    continue
                if n - i < 256:  # the rest of the sequence is in the next chunk
                    self._pending = text[i:]
                    return
                i += 1
                continue
            if ch == "\r":
                self.x = 0
            elif ch == "\n":
                self.y = min(self.y + 1, self.rows - 1)
            elif ch == "\b":
                self.x = max(0, self.x - 1)
            elif ch >= " " and ch != "\x7f":
                m = TEXT_RUN.match(text, i)
                self._put(m.group())
                i = m.end()
                continue
            i += 1

    def _put(self, run: str) -> None:
        row = self.cells[self.y]
        self.written.add(self.y)
        for ch in run:
            width = 1 if ch < "\u0300" else self._width(ch)
            if width == 0:
                continue
            if self.x + width > self.cols:
                break
            row[self.x] = ch
            if width == 2:
                row[self.x + 1] = RIGHT_HALF
            self.x += width

    def _csi(self, params: str, final: str) -> None:
        if params.startswith(("?", "<", ">", "=")):
            return  # modes
        numbers = [int(p) if p else 0 for p in params.split(";")] if params else []

        def arg(k: int, default: int) -> int:
            return numbers[k] if len(numbers) > k and numbers[k] else default

        if final in "Hf":
            self.y = min(max(arg(0, 1) - 1, 0), self.rows - 1)
            self.x = min(max(arg(1, 1) - 1, 0), self.cols - 1)
        elif final == "A":
            self.y = max(self.y - arg(0, 1), 0)
        elif final == "B":
            self.y = min(self.y + arg(0, 1), self.rows - 1)
        elif final == "C":
            self.x = min(self.x + arg(0, 1), self.cols - 1)
        elif final == "D":
            self.x = max(self.x - arg(0, 1), 0)
        elif final == "G":
            self.x = min(max(arg(0, 1) - 1, 0), self.cols - 1)
        elif final == "d":
            self.y = min(max(arg(0, 1) - 1, 0), self.rows - 1)
        elif final == "J":
            mode = arg(0, 0)
            lines = (
                range(self.rows)
                if mode in (2, 3)
                else (range(self.y, self.rows) if mode == 0 else range(0, self.y + 1))
            )
            for y in lines:
                self.cells[y] = [" "] * self.cols
                self.written.add(y)
        elif final == "K":
            mode = arg(0, 0)
            row = self.cells[self.y]
            span = (
                range(self.x, self.cols)
                if mode == 0
                else (range(0, self.x + 1) if mode == 1 else range(self.cols))
            )
            for x in span:
                row[x] = " "
            self.written.add(self.y)

    def catch_up(self, p: RecordingPty) -> None:
        for _, data in p.chunks_from(self.fed):
            self.feed(data)
            self.fed += 1

    def line(self, y: int) -> str:
        return "".join(c for c in self.cells[y] if c != RIGHT_HALF)

    def typed_rows_shown(self, digits: str) -> bool:
        """The rows for the phone part `digits` are on screen: the status line "1–R of …" rewritten since
        `written` was cleared, and every row between the column header and it shows a phone holding the
        digits (at least one, at most R)."""
        grid = ["".join(row) for row in self.cells]  # one character per cell: positions are columns
        header = next((y for y, text in enumerate(grid) if "Requested" in text and "Phone" in text), None)
        if header is None:
            return False
        phone_x = grid[header].index("Phone")
        status = next((y for y in range(header + 1, self.rows) if STATUS_LINE.search(self.line(y))), None)
        if status is None or status not in self.written:
            return False
        first, last, _ = STATUS_LINE.search(self.line(status)).groups()
        if first != "1":
            return False
        rows = [y for y in range(header + 1, status) if REQUEST_TIME.search(self.line(y))]
        if not rows or len(rows) > int(last.replace(",", "")):
            return False
        return all(digits in re.sub(r"\D", "", grid[y][phone_x : phone_x + 13]) for y in rows)


# -- one console in a pty ------------------------------------------------------------------------------


def status_pattern(first: int, last: int) -> re.Pattern[str]:
    return re.compile(re.escape(f"{first:,}–{last:,} of ") + r"[\d,]+")


def quit_console(p: PtyProc) -> None:
    try:
        os.write(p.master, CTRL_Q)
    except OSError:
        pass
    try:
        p.proc.wait(5)
    except subprocess.TimeoutExpired:
        log("  console did not exit within 5 s of ctrl+q; killing it")
    p.close()


def type_phone(p: RecordingPty, screen: Screen, digits: str) -> float | None:
    """Type `digits` into the phone filter one key at a time, KEY_GAP_S apart; seconds from writing the last
    key until the chunk after which the screen shows their rows (None: not within 30 s)."""
    p.send(SLASH)  # the phone filter takes the keys
    time.sleep(0.3)
    p.send(CTRL_U)  # emptied: the list without a phone filter
    time.sleep(1.0)
    screen.catch_up(p)
    due = time.perf_counter()
    for key in digits[:-1]:
        p.send(key.encode())
        due += KEY_GAP_S
        time.sleep(max(0.0, due - time.perf_counter() - 0.01))
        screen.catch_up(p)  # a few chunks at most: done before the next key is due
        time.sleep(max(0.0, due - time.perf_counter()))
    t0 = p.send(digits[-1].encode())
    deadline = t0 + 30
    while time.perf_counter() < deadline:
        for at, data in p.chunks_from(screen.fed):
            screen.feed(data)
            screen.fed += 1
            if at < t0:
                screen.written.clear()  # written before the last key
                continue
            if screen.typed_rows_shown(digits):
                return at - t0
        if p.proc.poll() is not None:
            return None
        time.sleep(0.005)
    return None


def pty_run(
    data_dir: str, env: dict[str, str], *, page: bool, simulator: bool = True, typed: list[str] | None = None
) -> dict:
    """One console start: open the list (and page, and type phone numbers, when asked). Times in seconds;
    RSS in MB.

    simulator=False: `--cti-url ws://127.0.0.1:9` (nothing listens there), so the demo starts no embedded
    simulator and takes no callbacks in; the header shows the CTI offline. A diagnostic only."""
    no_sim = [] if simulator else ["--cti-url", "ws://127.0.0.1:9"]
    cmd = [sys.executable, "-m", "contiple_tui", "--data-dir", data_dir, "--lang", "en", *no_sim, "demo"]
    p = RecordingPty(cmd, env=env, cwd=data_dir, size=SIZE)
    out: dict = {"pid": p.proc.pid}
    try:
        if not p.wait_for(b"Callback list", 90):
            log(f"FAIL: no first paint within 90 s (exit {p.proc.poll()}): {p.screen_tail(0)!r}")
            raise SystemExit(1)
        time.sleep(2.0)
        p.send(DOWN)
        time.sleep(0.5)
        since = p.mark()
        t0 = p.send(ENTER)
        rows_at = p.when(since, FIRST_ROW, 60)
        status_at = p.when(since, status_pattern(1, 100), 60)
        filters_at = p.when(since, FILTERS_DRAWN, 60)
        if rows_at is None or status_at is None or filters_at is None:
            log(
                f"FAIL: the callback list did not show rows and filters within 60 s: {p.screen_tail(since)!r}"
            )
            raise SystemExit(1)
        out["first_rows"], out["status_line"], out["filters"] = rows_at - t0, status_at - t0, filters_at - t0
        if page:
            # Let the opening settle (the count, the simulator's first intakes) before the first key.
            time.sleep(2.0)
            out["rss_open"] = rss_mb(p.proc.pid)
            pages = []
            for n in range(1, PAGES + 1):
                p.send(CTRL_END)
                time.sleep(0.25)
                since = p.mark()
                t0 = p.send(PAGE_DOWN)
                shown = p.when(since, status_pattern(n * 100 + 1, n * 100 + 100), 30)
                if shown is None:
                    log(f"FAIL: page {n + 1} did not show within 30 s: {p.screen_tail(since)!r}")
                    raise SystemExit(1)
                pages.append(shown - t0)
            time.sleep(1.0)
            out["pages"] = pages
            out["rss"] = rss_mb(p.proc.pid)
            with open(f"/proc/{p.proc.pid}/status") as f:
                hwm = next(line for line in f if line.startswith("VmHWM:"))
            out["hwm"] = int(hwm.split()[1]) * 1024 / 1e6
            children = subprocess.run(
                ["ps", "-o", "pid=,rss=,args=", "--ppid", str(p.proc.pid)],
                capture_output=True,
                text=True,
                check=False,
            ).stdout.strip()
            out["children"] = children
        if typed:
            screen = Screen(*SIZE)
            out["typed"] = []
            for _ in range(TYPED_ROUNDS):
                for digits in typed:
                    took = type_phone(p, screen, digits)
                    if took is None:
                        log(
                            f"FAIL: the rows for the typed phone part {digits} did not show within 30 s: "
                            f"{[screen.line(y) for y in range(SIZE[1])]!r}"
                        )
                        raise SystemExit(1)
                    log(f"  typed {digits} ({KEY_GAP_S} s a key): rows {took:.3f} s after the last key")
                    out["typed"].append(took)
    finally:
        quit_console(p)
    return out


class OtherConsoles:
    """`count` more demo consoles on the same store, each in its own pty (drained by a thread), left idle on
    their first screen: the host full of consoles of issue 10. The first one starts the demo's simulator;
    the others, and every console started while they run, join it."""

    def __init__(self, data_dir: str, env: dict[str, str], count: int) -> None:
        self.data_dir, self.env, self.count = data_dir, env, count
        self.consoles: list[PtyProc] = []

    def _start(self, index: int) -> PtyProc:
        login = OTHER_LOGINS[index % len(OTHER_LOGINS)]
        cmd = [
            sys.executable,
            "-m",
            "contiple_tui",
            "--data-dir",
            self.data_dir,
            "--lang",
            "en",
            "demo",
            "--user",
            login,
        ]
        console = PtyProc(cmd, env=self.env, cwd=self.data_dir, size=SIZE)
        self.consoles.append(console)
        return console

    def start(self) -> float:
        """Start them all and wait until each has painted its first screen; the seconds that took."""
        t0 = time.perf_counter()
        first = self._start(0)
        if not first.wait_for(b"Contiple", 120):  # its simulator is up before its first paint
            raise SystemExit(
                f"FAIL: the first other console did not paint within 120 s (exit {first.proc.poll()})"
            )
        for index in range(1, self.count):
            self._start(index)
            time.sleep(0.2)
        for index, console in enumerate(self.consoles):
            if not console.wait_for(b"Contiple", 180):
                raise SystemExit(
                    f"FAIL: other console {index + 1} did not paint within 180 s (exit {console.proc.poll()})"
                )
        return time.perf_counter() - t0

    def cpu(self) -> float:
        total = 0.0
        for console in self.consoles:
            try:
                total += cpu_seconds(console.proc.pid)
            except OSError:
                pass
        return total

    def running(self) -> int:
        return sum(1 for console in self.consoles if console.proc.poll() is None)

    def rss(self) -> float:
        total = 0.0
        for console in self.consoles:
            try:
                total += rss_mb(console.proc.pid)
            except (OSError, RuntimeError):
                pass
        return total

    def stop(self) -> None:
        for console in self.consoles:
            try:
                os.write(console.master, CTRL_Q)
            except OSError:
                pass
        deadline = time.monotonic() + 10
        for console in self.consoles:
            try:
                console.proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            console.close()  # SIGKILL to its process group if still there
        self.consoles.clear()


def run_baseline(tmp: str, env: dict[str, str]) -> dict:
    script = os.path.join(tmp, "baseline_datatable.py")
    with open(script, "w", encoding="utf-8") as f:
        f.write(BASELINE_APP)
    _, stdout = timed_run([sys.executable, script, "100000"], env=env, cwd=tmp, timeout=300)
    return json.loads(stdout.strip().splitlines()[-1])


def default_query(store, service):
    """The list's opening query: the last DEFAULT_DAYS days by the service's clock (the consoles' real
    one)."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from contiple_tui.core import callbacks as cb
    from contiple_tui.screens.callback_list import DEFAULT_DAYS

    today = datetime.now(UTC).astimezone(ZoneInfo(service.timezone)).date()
    return cb.CallbackQuery(date_from=today - timedelta(days=DEFAULT_DAYS - 1), date_to=today)


def full_number(db_path: Path | str) -> tuple[str, dict[str, float]]:
    """A phone number of the default list whose last digit narrows the rows (fewer callbacks match it than
    its first ten digits), so that its rows differ from those of the key before; and the direct first-page
    search time of each typed number (the baseline)."""
    from dataclasses import replace

    from contiple_tui.core import callbacks as cb
    from contiple_tui.core.session import resolve_user
    from contiple_tui.store import Store

    store = Store(db_path)
    try:
        admin = resolve_user(store, "admin")
        service = store.services.get_by_code("cs")
        query = default_query(store, service)
        chosen, after = None, None
        for _ in range(50):
            rows = cb.search(store, admin, service, query, after=after, limit=100)
            for row in rows:
                phone = row.customer_phone
                if len(phone) == 11 and cb.count(
                    store, admin, service, replace(query, phone=phone[:-1])
                ) > cb.count(store, admin, service, replace(query, phone=phone)):
                    chosen = phone
                    break
            if chosen or len(rows) < 100:
                break
            after = (rows[-1].requested_at, rows[-1].id)
        if chosen is None:
            chosen = rows[0].customer_phone
            log(
                f"  no number whose last digit narrows the rows: typing {chosen} (its rows may equal the "
                f"key before's)"
            )
        direct = {}
        for digits in TYPED_PTY + [chosen]:
            q = replace(query, phone=digits)
            t0 = time.perf_counter()
            cb.search(store, admin, service, q, limit=100)
            direct[digits] = time.perf_counter() - t0
            log(
                f"  typed number {digits}: {cb.count(store, admin, service, q):,} callbacks in the default "
                "list; "
                f"direct first-page search {direct[digits]:.4f} s"
            )
        return chosen, direct
    finally:
        store.close()


def pty_pass(tmp: str, env: dict[str, str], runs: int, typed: list[str], *, no_sim: bool, label: str) -> dict:
    """`runs` console starts (the last one pages and types), plus the no-simulator diagnostics if asked."""

    def load() -> str:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())

    pty, without = [], []
    for i in range(runs):
        last = i == runs - 1
        result = pty_run(tmp, env, page=last, typed=typed if last else None)
        pty.append(result)
        log(
            f"{label} pty run {i + 1}: first rows {result['first_rows']:.3f} s, status line "
            f"{result['status_line']:.3f} s, every filter {result['filters']:.3f} s after Enter; "
            f"load average {load()}"
        )
        if no_sim and i < NO_SIM_RUNS:
            result = pty_run(tmp, env, page=False, simulator=False)
            without.append(result)
            log(
                f"  without the demo simulator: first rows {result['first_rows']:.3f} s, status line "
                f"{result['status_line']:.3f} s after Enter"
            )
    paged = pty[-1]
    log(
        summary(f"{label} pty page down (keystroke to new status line)", paged["pages"])
        + f", p95 {p95(paged['pages']):.3f}"
    )
    log(summary(f"{label} typed phone part, last key to rows", paged["typed"]))
    log(summary(f"{label} first rows after Enter", [r["first_rows"] for r in pty]))
    log(summary(f"{label} status line after Enter", [r["status_line"] for r in pty]))
    log(summary(f"{label} every filter drawn after Enter", [r["filters"] for r in pty]))
    if without:
        log(
            summary(
                "first rows after Enter without the demo simulator (diagnostic)",
                [r["first_rows"] for r in without],
            )
        )
    return {
        "first_rows": median([r["first_rows"] for r in pty]),
        "pages": paged["pages"],
        "typed": paged["typed"],
        "paged": paged,
    }


# -- in process ------------------------------------------------------------------------------------


def status_text(app) -> str:
    from textual.widgets import Static

    content = app.query_one("#cb-status-line", Static).content
    return content.plain if hasattr(content, "plain") else str(content)


async def wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.perf_counter() + timeout
    while not predicate():
        if time.perf_counter() > deadline:
            raise SystemExit(f"FAIL: timed out waiting for {what}")
        await asyncio.sleep(0.002)


async def workers_done(app) -> None:
    """Until the app's workers are done; one cancelled meanwhile (replaced by a newer one) is not a
    failure."""
    from textual.worker import WorkerCancelled, WorkerFailed

    for _ in range(50):
        try:
            await app.workers.wait_for_complete()
            return
        except (WorkerCancelled, WorkerFailed):
            continue


async def in_process(db_path: Path | str, data_dir: Path) -> dict:
    from datetime import date

    from textual.widgets import Input, Select, Static

    from contiple_tui import config
    from contiple_tui.app import ContipleApp
    from contiple_tui.core import callbacks as cb
    from contiple_tui.core.session import Session, resolve_user
    from contiple_tui.domain.models import CallbackStatus
    from contiple_tui.i18n import set_language
    from contiple_tui.screens.callback_list import DEBOUNCE_S
    from contiple_tui.store import Store
    from contiple_tui.widgets.callback_table import PAGE, CallbackTable

    store = Store(db_path)
    set_language("en")
    cfg = config.load(data_dir=data_dir, environ={}, lang="en")
    session = Session(store, resolve_user(store, "admin"))
    app = ContipleApp(session=session, config=cfg)  # the real clock, no CTI
    out: dict = {"debounce": DEBOUNCE_S}
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause(0.5)
            start = time.perf_counter()
            app.show_menu("callback_list")
            await wait_until(lambda: " of " in _safe_status(app), 60, "the list's first page")
            out["open"] = time.perf_counter() - start
            for _ in range(3):  # let the opening's count finish
                await workers_done(app)
                await pilot.pause(0.3)
            table = app.query_one(CallbackTable)
            table.focus()
            await pilot.pause()

            # (b) page down: 20 consecutive pages, the action alone
            pages, ahead = [], 0
            for n in range(20):
                table.move_cursor(row=table.row_count - 1)
                await pilot.pause()
                await workers_done(app)  # the next page read ahead
                last = table._page_rows[-1]
                ahead += (last.requested_at, last.id) in table._ahead
                before = table.rows_by_key
                t0 = time.perf_counter()
                table.action_next_page()
                pages.append(time.perf_counter() - t0)
                if table.rows_by_key is before or table.row_count != PAGE:
                    raise SystemExit(f"FAIL: page {n + 2} did not replace the rows ({table.row_count} rows)")
                await pilot.pause()
            out["pages"], out["ahead"] = pages, ahead
            await wait_until(lambda: _safe_status(app).startswith("2,001–2,100 of"), 10, "status of page 21")

            # pure SQL: the next 20 pages of the same query
            service, user = session.service, session.user
            query = cb.CallbackQuery(
                date_from=date.fromisoformat(app.query_one("#cb-from", Input).value),
                date_to=date.fromisoformat(app.query_one("#cb-to", Input).value),
            )
            lo, hi = cb.day_range(service, query.date_from, query.date_to)
            last = list(table.rows_by_key.values())[-1]
            after = (last.requested_at, last.id)
            sql = []
            for _ in range(20):
                t0 = time.perf_counter()
                rows = store.callbacks.search(service.id, None, query, lo, hi, after, PAGE)
                sql.append(time.perf_counter() - t0)
                after = (rows[-1][7], rows[-1][0])
            out["sql"] = sql

            # (d) filter changes
            line = app.query_one("#cb-status-line", Static)

            def counted() -> bool:
                shown = status_text(app)
                return " of " in shown and " of …" not in shown

            async def change(widget, value) -> tuple[float, float]:
                """(rows on screen, total shown) in seconds after setting the value."""
                await pilot.pause(QUIET_S)
                old_rows, old_line = table.rows_by_key, line.content
                t0 = time.perf_counter()
                widget.value = value
                await wait_until(
                    lambda: table.rows_by_key is not old_rows and line.content is not old_line,
                    60,
                    f"the rows for {value!r}",
                )
                rows_at = time.perf_counter() - t0
                await wait_until(counted, 60, f"the total for {value!r}")
                return rows_at, time.perf_counter() - t0

            def verify(q, label) -> tuple[float, float]:
                """The direct (search, search + count) times; checks the total shown."""
                t0 = time.perf_counter()
                cb.search(store, user, service, q, limit=PAGE)
                t1 = time.perf_counter()
                total = cb.count(store, user, service, q)
                t2 = time.perf_counter()
                shown = status_text(app)
                if f" of {total:,} " not in shown + " ":
                    raise SystemExit(f"FAIL: {label}: status line {shown!r}, expected a total of {total:,}")
                return t1 - t0, t2 - t0

            async def time_filter(name, widget, values, wanted, fits, query_of) -> list[list[float]]:
                """Each value set in the filter: [rows, total, direct search, direct search + count]
                lists; every row shown must fit the value."""
                figures: list[list[float]] = [[], [], [], []]
                for value in values:
                    rows_at, total_at = await change(widget, wanted(value))
                    if not all(fits(c, value) for c in table.rows_by_key.values()):
                        raise SystemExit(f"FAIL: a row that does not fit {value} after the {name} filter")
                    direct = verify(query_of(value), value)
                    for figure, at in zip(figures, (rows_at, total_at, *direct)):
                        figure.append(at)
                    log(
                        f"  {name} filter {value}: rows {rows_at:.3f} s, total {total_at:.3f} s "
                        f"({status_text(app)[:40]}); direct search {direct[0]:.3f} s, "
                        f"+count {direct[1]:.3f} s"
                    )
                return figures

            phone_input = app.query_one("#cb-phone", Input)
            phone, phone_total, phone_sql, phone_sql_total = await time_filter(
                "phone",
                phone_input,
                PHONES,
                lambda digits: digits,
                lambda c, digits: digits in c.customer_phone,
                lambda digits: cb.CallbackQuery(query.date_from, query.date_to, phone=digits),
            )
            await change(phone_input, "")  # back to no phone filter, untimed

            # typing, key by key at a person's pace (diagnostic; the pty figure is (c))
            phone_input.focus()
            await pilot.pause(QUIET_S)
            for key in TYPED:
                await pilot.press(key)
                t0 = time.perf_counter()
                await pilot.pause(KEY_GAP_S)
            # (the last pause is part of the wait; the rows may have come during it)
            await wait_until(
                lambda: (
                    table.rows_by_key and all(TYPED in c.customer_phone for c in table.rows_by_key.values())
                ),
                60,
                f"the rows for typed {TYPED}",
            )
            typed = time.perf_counter() - t0
            await wait_until(counted, 60, f"the total for typed {TYPED}")
            log(
                f"  phone typed key by key ({TYPED}, {KEY_GAP_S} s apart): rows within {typed:.3f} s of the "
                "last "
                f"key (debounce {DEBOUNCE_S} s; a poll after a {KEY_GAP_S} s pause)"
            )
            table.focus()
            await change(phone_input, "")  # back to no phone filter, untimed

            status, status_total, status_sql, status_sql_total = await time_filter(
                "status",
                app.query_one("#cb-status", Select),
                STATUSES,
                CallbackStatus,
                lambda c, value: c.status is CallbackStatus(value),
                lambda value: cb.CallbackQuery(query.date_from, query.date_to, status=CallbackStatus(value)),
            )
            out.update(
                phone=phone,
                phone_total=phone_total,
                phone_sql=phone_sql,
                phone_sql_total=phone_sql_total,
                status=status,
                status_total=status_total,
                status_sql=status_sql,
                status_sql_total=status_sql_total,
            )
    finally:
        store.close()
    return out


def _safe_status(app) -> str:
    try:
        return status_text(app)
    except Exception:  # noqa: BLE001 - the view is not mounted yet
        return ""


def own_cpu() -> float:
    """CPU seconds of this process and of its children that have been waited for (the consoles, the
    baseline)."""
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def summary(name: str, values: list[float]) -> str:
    return (
        f"{name}: median {median(values):.3f} s, min {min(values):.3f}, max {max(values):.3f} "
        f"(n={len(values)})"
    )


def emit_pg(alone: dict, inproc: dict, direct_number: float) -> None:
    """The list at 1,000,000 callbacks on PostgreSQL (issue 14's targets); baselines: the SQL alone."""
    pages = alone["pages"]
    emit("callback_list_first_rows_pg", alone["first_rows"], PG_FIRST_ROWS_TARGET, inproc["open"])
    emit("callback_list_pagedown_pty_pg", median(pages), PAGE_TARGET, median(inproc["sql"]))
    emit("callback_list_pagedown_p95_pg", p95(pages), PAGE_TARGET, median(pages))
    emit("callback_list_pagedown_max_pg", max(pages), PAGE_MAX_TARGET, median(pages))
    emit("callback_list_page_sql_pg", median(inproc["sql"]), PAGE_TARGET, None)
    emit("callback_filter_phone_typed_pg", max(alone["typed"]), PHONE_TARGET, direct_number)
    emit("callback_filter_phone_pg", median(inproc["phone"]), PG_PHONE_TARGET, median(inproc["phone_sql"]))
    emit(
        "callback_filter_status_pg", median(inproc["status"]), PG_STATUS_TARGET, median(inproc["status_sql"])
    )
    emit(
        "callback_filter_status_total_pg",
        median(inproc["status_total"]),
        PG_STATUS_TARGET,
        median(inproc["status_sql_total"]),
    )


def main() -> int:
    code = CodeState()

    def load() -> str:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())

    log(f"load average {load()}")
    tmp = tempfile.mkdtemp(prefix="contiple-bench-cblist-")
    others: OtherConsoles | None = None
    engine: Engine | None = None
    pg = ENGINE == "postgresql"
    try:
        env = bench_env(tmp)
        engine = Engine(env)  # BENCH_ENGINE=postgresql: the consoles and the seed on one PostgreSQL
        for key in list(os.environ):  # the in-process app: no user settings either
            if key.startswith(("CONTIPLE_TUI_", "TEXTUAL")):
                del os.environ[key]
        os.environ["CONTIPLE_TUI_HOME"] = tmp
        count = 100_000 if short_mode() else 1_000_000
        seed_time, _ = timed_run(seed_cmd(tmp, count), env=env, cwd=tmp, timeout=900)
        db_path = engine.location(str(Path(tmp) / "demo"))
        log(f"seeded {count:,} callbacks in {seed_time:.1f} s (not timed); load average {load()}")
        number, direct = full_number(db_path)
        typed = TYPED_PTY + [number]

        baseline = run_baseline(tmp, env) if not pg else {"seconds": None, "rss_mb": None}
        if not pg:
            log(
                f"baseline DataTable, 100,000 rows: add_rows + paint {baseline['seconds']:.3f} s, "
                f"VmRSS {baseline['rss_mb']:.1f} MB"
            )

        runs = 3 if short_mode() else 5
        window, own = OtherLoad(), own_cpu()
        alone = pty_pass(tmp, env, runs, typed, no_sim=True, label="alone:")
        window.report("pty runs", own_cpu() - own)
        paged = alone["paged"]
        log(
            f"console VmRSS: {paged['rss_open']:.1f} MB after opening the list, {paged['rss']:.1f} MB after "
            f"{PAGES} pages (peak VmHWM {paged['hwm']:.1f} MB); child processes: "
            f"{paged['children'] or 'none'}"
        )

        window, own = OtherLoad(), own_cpu()
        inproc = asyncio.run(in_process(db_path, Path(tmp) / "demo"))
        window.report("in-process runs", own_cpu() - own)
        log(f"in-process: open the list to status line {inproc['open']:.3f} s")
        log(
            summary("in-process action_next_page", inproc["pages"])
            + f"; {inproc['ahead']} of {len(inproc['pages'])} pages were read ahead"
        )
        log(summary("SQL page fetch", inproc["sql"]))
        for key in ("phone", "status"):
            log(summary(f"{key} filter change to rows shown", inproc[key]))
            log(summary(f"{key} filter change to total shown", inproc[f"{key}_total"]))
            log(summary(f"{key} filter, direct search", inproc[f"{key}_sql"]))
            log(summary(f"{key} filter, direct search+count", inproc[f"{key}_sql_total"]))

        if pg:  # issue 14's figures: the list alone on PostgreSQL, next to SQLite's from the same run
            emit_pg(alone, inproc, direct[number])
            code.check()
            return 0

        # (f) while 20 other consoles are open
        others = OtherConsoles(tmp, env, OTHER_CONSOLES)
        took = others.start()
        log(f"{OTHER_CONSOLES} other consoles painted within {took:.1f} s; load average {load()}")
        time.sleep(5.0)
        cpu0, t0 = others.cpu(), time.monotonic()
        window, own = OtherLoad(), own_cpu()
        crowded = pty_pass(tmp, env, 2 if short_mode() else 3, typed, no_sim=False, label="with 20 others:")
        window.report("pty runs with 20 other consoles (theirs counted as others)", own_cpu() - own)
        wall = time.monotonic() - t0
        log(
            f"the {OTHER_CONSOLES} other consoles: {others.running()} still running, "
            f"{(others.cpu() - cpu0) / wall:.2f} of {os.cpu_count()} cores busy on average during the pass "
            f"({(others.cpu() - cpu0):.1f} CPU s in {wall:.1f} s), VmRSS {others.rss():.0f} MB together; "
            f"load average {load()}"
        )
        others.stop()
        others = None

        log(f"load average {load()}")
        pages, typed_times = alone["pages"], alone["typed"]
        emit("callback_list_first_rows", alone["first_rows"], FIRST_ROWS_TARGET, baseline["seconds"])
        emit("callback_list_pagedown", median(inproc["pages"]), PAGE_TARGET, median(inproc["sql"]))
        emit("callback_list_page_sql", median(inproc["sql"]), PAGE_TARGET, None)
        emit("callback_list_pagedown_pty", median(pages), PAGE_TARGET, median(inproc["pages"]))
        emit("callback_list_pagedown_p95", p95(pages), PAGE_TARGET, median(pages))
        emit("callback_list_pagedown_max", max(pages), PAGE_MAX_TARGET, median(pages))
        emit("callback_filter_phone_typed", max(typed_times), PHONE_TARGET, direct[number])
        emit("callback_filter_phone", median(inproc["phone"]), PHONE_TARGET, median(inproc["phone_sql"]))
        emit(
            "callback_filter_phone_total",
            median(inproc["phone_total"]),
            TOTAL_TARGET,
            median(inproc["phone_sql_total"]),
        )
        emit("callback_filter_status", median(inproc["status"]), STATUS_TARGET, median(inproc["status_sql"]))
        emit(
            "callback_filter_status_total",
            median(inproc["status_total"]),
            TOTAL_TARGET,
            median(inproc["status_sql_total"]),
        )
        emit("callback_list_rss", paged["rss"], RSS_TARGET, baseline["rss_mb"], unit="MB")
        pages20, typed20 = crowded["pages"], crowded["typed"]
        emit("callback_list_first_rows_20", crowded["first_rows"], FIRST_ROWS_TARGET, alone["first_rows"])
        emit("callback_list_pagedown_pty_20", median(pages20), PAGE_TARGET, median(pages))
        emit("callback_list_pagedown_p95_20", p95(pages20), PAGE_TARGET, p95(pages))
        emit("callback_list_pagedown_max_20", max(pages20), PAGE_MAX_TARGET, max(pages))
        emit("callback_filter_phone_typed_20", max(typed20), PHONE_TARGET, max(typed_times))
        code.check()
        return 0
    finally:
        if others is not None:
            others.stop()
        if engine is not None:
            engine.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
