"""Callback list (1-2) with 1,000,000 callbacks: first rows, page down, filter changes, console memory (issue 4).

Set-up, untimed: `python -m contiple_tui --data-dir TMP demo --seed-only --callbacks 1000000` once (100,000
with BENCH_SHORT=1), shared by every measurement below. The demo puts half of the callbacks in service cs,
the admin's first service, and about 62 % of them in the list's default period (the last 30 days).

(a) callback_list_first_rows (target 0.5 s): `python -m contiple_tui --data-dir TMP --lang en demo` (admin,
    with the demo's embedded CTI simulator, as a user runs it) in a 120x40 pseudo-terminal. After the first
    paint (the nav label "Callback list" written) and 2 s to settle, Down moves the nav to "Callback list";
    0.5 s later Enter opens it. Timed: from writing Enter until the terminal output (escape sequences
    removed) holds the column header "Requested" followed by a first row's request time (`MM-DD hh:mm`):
    the moment the chunk holding it was read from the pty. The status line "1–100 of N" is timed too (on
    stderr). Median of 5 console starts (3 with BENCH_SHORT=1); each start is a fresh process, so the list
    view is composed anew every time.
    Baseline: a plain Textual DataTable (8 columns) loaded with 100,000 rows in `run_test(size=(120, 40))`
    in its own process: `add_rows` of 100,000 prebuilt tuples, then `await pilot.pause()` (until the process
    is idle, i.e. painted) — the load-everything design that keyset paging avoids.
(b) callback_list_pagedown (target 0.05 s): in-process, the real ContipleApp (built like tests/apphelpers:
    admin, en, the real clock, no CTI) in `App.run_test(size=(120, 40))`; the list is opened with
    `app.show_menu("callback_list")`, the table focused; 20 times: the cursor is put on the last row, the
    app let settle, then `CallbackTable.action_next_page()` is timed (synchronous: the SQL fetch of the next
    100 rows on the UI thread plus handing them to the table and rewriting the status line; not the repaint
    that follows). Median. (Until CallbackTable drew its own lines it was a DataTable, and this included
    clearing it and adding the 100 rows.)
    Baseline: the median time of the pure SQL page fetch (next line).
    callback_list_page_sql (target 0.05 s): `store.callbacks.search(...)` for 20 further keyset pages of the
    same query (pages 22–41, so neither measurement reuses pages the other read). Median.
    callback_list_pagedown_pty: in the pty console of the last (a) run: 50 times ctrl+End (cursor to the last
    row), 0.25 s pause, then PageDown, timed until the new status line "5,001–5,100 of N" is written.
    Median. This is what a user sees, repaint and terminal output included: the status line is drawn in
    the same screen update as the new rows.
(c) callback_filter_phone / callback_filter_status (target 0.3 s): in the same in-process app, the phone
    filter Input's value is set (one change, as a paste) to "1234", "5678", "2468", "9753", "3141" in turn;
    then the status Select to unassigned, assigned, completed, unassigned, assigned. Each change comes
    0.6 s (QUIET_S) after the previous one's total was shown, as a user reads the rows before changing a
    filter again. Timed: from setting the value until the table holds the new rows and the status line has
    been rewritten for them (polled every 2 ms): the rows on screen, which is what the user waits for. The
    screen shows the rows as soon as their page is read and the total as "…" until the count (a second
    query) is done; callback_filter_phone_total / callback_filter_status_total time the same change until
    the status line shows the total. Median of 5 each. Checks: every row shown contains the digits / has
    the status, and the total shown equals `core.callbacks.count`.
    The phone filter is debounced (DEBOUNCE_S, 0.25 s, in screens/callback_list.py): a change after a quiet
    moment, like this paste, searches at once; changes within DEBOUNCE_S of the one before (typing) search
    DEBOUNCE_S after the last. A diagnostic on stderr types "1357" key by key (0.08 s apart) and times the
    rows for the whole number from the last key: about the debounce plus a search. (Earlier figures
    include the full debounce: the screen searched DEBOUNCE_S after every change, a paste too.)
    Baselines: `core.callbacks.search` (first page) for the rows lines, plus `core.callbacks.count` for the
    total lines, for the same query called directly: the SQL the screen's worker runs, without UI.
(d) callback_list_rss (target 200 MB): VmRSS of the pty console process (/proc/PID/status; the embedded
    simulator is a thread of that process) after the list was opened and paged 50 pages in (a)'s last run.
    Baseline: VmRSS of the DataTable-with-100,000-rows process of the baseline.

Diagnostics on stderr only: 3 more pty runs (interleaved with the first 3 of (a)) of the same console
without the demo's embedded simulator (`--cti-url ws://127.0.0.1:9`, where nothing listens), to show what
the simulator costs; the in-process time from show_menu to the first status line; how busy other processes
kept the machine during the pty and in-process phases (_common.OtherLoad) and the load average.

Notes: while the pty console runs, its demo simulator takes new callback requests into the store (intake),
a few extra callbacks per run. Opening the list searches once (the filter widgets' first Changed events
are ignored); the pty paging still waits 2 s after the first page before its first key, as when opening
searched twice and the second result reset the cursor. The in-process filter timings poll on the app's own
event loop, so they see the new status line only when the app next yields, usually after it has
re-rendered.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import (
    CodeState,
    OtherLoad,
    PtyProc,
    bench_env,
    emit,
    log,
    median,
    rss_mb,
    short_mode,
    timed_run,
)

SIZE = (120, 40)
PAGES = 50
FIRST_ROWS_TARGET = 0.5
PAGE_TARGET = 0.05
FILTER_TARGET = 0.3
RSS_TARGET = 200.0
PHONES = ["1234", "5678", "2468", "9753", "3141"]
NO_SIM_RUNS = 3
STATUSES = ["unassigned", "assigned", "completed", "unassigned", "assigned"]
QUIET_S = 0.6
TYPED = "1357"

ANSI = re.compile(rb"\x1b(?:\[[0-9;?<>=]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[()][0-9A-Za-z]|[=>78DEHMNOZc])")
FIRST_ROW = re.compile(r"Requested.*?\d\d-\d\d \d\d:\d\d", re.DOTALL)

DOWN, ENTER, CTRL_END, PAGE_DOWN, CTRL_Q = b"\x1b[B", b"\r", b"\x1b[1;5F", b"\x1b[6~", b"\x11"

BASELINE_APP = '''\
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
'''


def strip(data: bytes) -> str:
    return ANSI.sub(b"", data).decode("utf-8", "replace")


class RecordingPty(PtyProc):
    """PtyProc that also keeps every chunk read with the time it was read (time.perf_counter())."""

    def __init__(self, *args, **kwargs) -> None:
        self.chunks: list[tuple[float, bytes]] = []
        super().__init__(*args, **kwargs)

    def _drain(self) -> None:
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            now = time.perf_counter()
            with self._lock:
                self.chunks.append((now, data))
                self.total += len(data)
                self.tail += data
                if len(self.tail) > 1 << 20:
                    del self.tail[: len(self.tail) - (1 << 19)]

    def mark(self) -> int:
        with self._lock:
            return len(self.chunks)

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


def status_pattern(first: int, last: int) -> re.Pattern[str]:
    return re.compile(re.escape(f"{first:,}–{last:,} of ") + r"[\d,]+")


def quit_console(p: RecordingPty) -> None:
    try:
        p.send(CTRL_Q)
    except OSError:
        pass
    try:
        p.proc.wait(5)
    except subprocess.TimeoutExpired:
        log("  console did not exit within 5 s of ctrl+q; killing it")
    p.close()


def pty_run(data_dir: str, env: dict[str, str], *, page: bool, simulator: bool = True) -> dict:
    """One console start: open the list (and page when asked). Times in seconds; RSS in MB.

    simulator=False: `--cti-url ws://127.0.0.1:9` (nothing listens there), so the demo starts no embedded
    simulator and takes no callbacks in; the header shows the CTI offline. A diagnostic only."""
    no_sim = [] if simulator else ["--cti-url", "ws://127.0.0.1:9"]
    cmd = [sys.executable, "-m", "contiple_tui", "--data-dir", data_dir, "--lang", "en", *no_sim, "demo"]
    p = RecordingPty(cmd, env=env, cwd=data_dir, size=SIZE)
    out: dict = {"pid": p.proc.pid}
    try:
        if not p.wait_for(b"Callback list", 60):
            log(f"FAIL: no first paint within 60 s (exit {p.proc.poll()}): {p.screen_tail(0)!r}")
            raise SystemExit(1)
        time.sleep(2.0)
        p.send(DOWN)
        time.sleep(0.5)
        since = p.mark()
        t0 = p.send(ENTER)
        rows_at = p.when(since, FIRST_ROW, 60)
        status_at = p.when(since, status_pattern(1, 100), 60)
        if rows_at is None or status_at is None:
            log(f"FAIL: the callback list did not show rows within 60 s: {p.screen_tail(since)!r}")
            raise SystemExit(1)
        out["first_rows"], out["status_line"] = rows_at - t0, status_at - t0
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
            children = subprocess.run(["ps", "-o", "pid=,rss=,args=", "--ppid", str(p.proc.pid)],
                                      capture_output=True, text=True, check=False).stdout.strip()
            out["children"] = children
    finally:
        quit_console(p)
    return out


def run_baseline(tmp: str, env: dict[str, str]) -> dict:
    script = os.path.join(tmp, "baseline_datatable.py")
    with open(script, "w", encoding="utf-8") as f:
        f.write(BASELINE_APP)
    _, stdout = timed_run([sys.executable, script, "100000"], env=env, cwd=tmp, timeout=300)
    return json.loads(stdout.strip().splitlines()[-1])


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


async def in_process(db_path: Path) -> dict:
    from datetime import date

    from textual.widgets import Input, Select, Static

    from contiple_tui import config
    from contiple_tui.app import ContipleApp
    from contiple_tui.core import callbacks as cb
    from contiple_tui.core.models import CallbackStatus
    from contiple_tui.core.session import Session, resolve_user
    from contiple_tui.i18n import set_language
    from contiple_tui.screens.callback_list import DEBOUNCE_S
    from contiple_tui.store import Store
    from contiple_tui.widgets.callback_table import PAGE, CallbackTable

    store = Store(db_path)
    set_language("en")
    cfg = config.load(data_dir=db_path.parent, environ={}, lang="en")
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
            for _ in range(3):  # let the second search of the opening finish (see pty_run)
                await app.workers.wait_for_complete()
                await pilot.pause(0.3)
            table = app.query_one(CallbackTable)
            table.focus()
            await pilot.pause()

            # (b) page down: 20 consecutive pages, the action alone
            pages = []
            for n in range(20):
                table.move_cursor(row=table.row_count - 1)
                await pilot.pause()
                before = table.rows_by_key
                t0 = time.perf_counter()
                table.action_next_page()
                pages.append(time.perf_counter() - t0)
                if table.rows_by_key is before or table.row_count != PAGE:
                    raise SystemExit(f"FAIL: page {n + 2} did not replace the rows ({table.row_count} rows)")
                await pilot.pause()
            out["pages"] = pages
            await wait_until(lambda: _safe_status(app).startswith("2,001–2,100 of"), 10, "status of page 21")

            # pure SQL: the next 20 pages of the same query
            service, user = session.service, session.user
            query = cb.CallbackQuery(date_from=date.fromisoformat(app.query_one("#cb-from", Input).value),
                                     date_to=date.fromisoformat(app.query_one("#cb-to", Input).value))
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

            # (c) filter changes
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
                await wait_until(lambda: table.rows_by_key is not old_rows and line.content is not old_line,
                                 60, f"the rows for {value!r}")
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

            phone_input = app.query_one("#cb-phone", Input)
            phone, phone_total, phone_sql, phone_sql_total = [], [], [], []
            for digits in PHONES:
                rows_at, total_at = await change(phone_input, digits)
                phone.append(rows_at)
                phone_total.append(total_at)
                if any(digits not in c.customer_phone for c in table.rows_by_key.values()):
                    raise SystemExit(f"FAIL: a row without {digits} after the phone filter")
                direct = verify(cb.CallbackQuery(query.date_from, query.date_to, phone=digits), digits)
                phone_sql.append(direct[0])
                phone_sql_total.append(direct[1])
                log(f"  phone filter {digits}: rows {rows_at:.3f} s, total {total_at:.3f} s "
                    f"({status_text(app)[:40]}); direct search {direct[0]:.3f} s, +count {direct[1]:.3f} s")
            await change(phone_input, "")  # back to no phone filter, untimed

            # typing, key by key: the debounce then applies (diagnostic)
            phone_input.focus()
            await pilot.pause(QUIET_S)
            for key in TYPED:
                await pilot.press(key)
                t0 = time.perf_counter()
                await pilot.pause(0.08)
            await wait_until(lambda: counted() and table.rows_by_key
                             and all(TYPED in c.customer_phone for c in table.rows_by_key.values()),
                             60, f"the rows for typed {TYPED}")
            typed = time.perf_counter() - t0
            log(f"  phone typed key by key ({TYPED}, 0.08 s apart): rows and total {typed:.3f} s after the last "
                f"key (debounce {DEBOUNCE_S} s)")
            table.focus()
            await change(phone_input, "")  # back to no phone filter, untimed

            status_select = app.query_one("#cb-status", Select)
            status, status_total, status_sql, status_sql_total = [], [], [], []
            for value in STATUSES:
                wanted = CallbackStatus(value)
                rows_at, total_at = await change(status_select, wanted)
                status.append(rows_at)
                status_total.append(total_at)
                if any(c.status is not wanted for c in table.rows_by_key.values()):
                    raise SystemExit(f"FAIL: a row not {value} after the status filter")
                direct = verify(cb.CallbackQuery(query.date_from, query.date_to, status=wanted), value)
                status_sql.append(direct[0])
                status_sql_total.append(direct[1])
                log(f"  status filter {value}: rows {rows_at:.3f} s, total {total_at:.3f} s "
                    f"({status_text(app)[:40]}); direct search {direct[0]:.3f} s, +count {direct[1]:.3f} s")
            out.update(phone=phone, phone_total=phone_total, phone_sql=phone_sql, phone_sql_total=phone_sql_total,
                       status=status, status_total=status_total, status_sql=status_sql,
                       status_sql_total=status_sql_total)
    finally:
        store.close()
    return out


def _safe_status(app) -> str:
    try:
        return status_text(app)
    except Exception:  # noqa: BLE001 - the view is not mounted yet
        return ""


def own_cpu() -> float:
    """CPU seconds of this process and of its children that have been waited for (the consoles, the baseline)."""
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def summary(name: str, values: list[float]) -> str:
    return f"{name}: median {median(values):.3f} s, min {min(values):.3f}, max {max(values):.3f} (n={len(values)})"


def main() -> int:
    code = CodeState()
    load = lambda: " ".join(f"{x:.2f}" for x in os.getloadavg())
    log(f"load average {load()}")
    tmp = tempfile.mkdtemp(prefix="contiple-bench-cblist-")
    try:
        env = bench_env(tmp)
        for key in list(os.environ):  # the in-process app: no user settings either
            if key.startswith(("CONTIPLE_TUI_", "TEXTUAL")):
                del os.environ[key]
        os.environ["CONTIPLE_TUI_HOME"] = tmp
        count = 100_000 if short_mode() else 1_000_000
        seed_time, _ = timed_run([sys.executable, "-m", "contiple_tui", "--data-dir", tmp, "demo", "--seed-only",
                                  "--callbacks", str(count)], env=env, cwd=tmp, timeout=900)
        db_path = Path(tmp) / "demo" / "contiple.sqlite3"
        log(f"seeded {count:,} callbacks in {seed_time:.1f} s (not timed); load average {load()}")

        baseline = run_baseline(tmp, env)
        log(f"baseline DataTable, 100,000 rows: add_rows + paint {baseline['seconds']:.3f} s, "
            f"VmRSS {baseline['rss_mb']:.1f} MB")

        runs = 3 if short_mode() else 5
        pty, no_sim = [], []
        window, own = OtherLoad(), own_cpu()
        for i in range(runs):
            result = pty_run(tmp, env, page=(i == runs - 1))
            pty.append(result)
            log(f"pty run {i + 1}: first rows {result['first_rows']:.3f} s, status line "
                f"{result['status_line']:.3f} s after Enter; load average {load()}")
            if i < NO_SIM_RUNS:
                result = pty_run(tmp, env, page=False, simulator=False)
                no_sim.append(result)
                log(f"  without the demo simulator: first rows {result['first_rows']:.3f} s, status line "
                    f"{result['status_line']:.3f} s after Enter")
        window.report("pty runs", own_cpu() - own)
        paged = pty[-1]
        log(summary("pty page down (keystroke to new status line)", paged["pages"]))
        log(f"console VmRSS: {paged['rss_open']:.1f} MB after opening the list, {paged['rss']:.1f} MB after "
            f"{PAGES} pages (peak VmHWM {paged['hwm']:.1f} MB); child processes: {paged['children'] or 'none'}")

        window, own = OtherLoad(), own_cpu()
        inproc = asyncio.run(in_process(db_path))
        window.report("in-process runs", own_cpu() - own)
        log(f"in-process: open the list to status line {inproc['open']:.3f} s")
        log(summary("in-process action_next_page", inproc["pages"]))
        log(summary("SQL page fetch", inproc["sql"]))
        for key in ("phone", "status"):
            log(summary(f"{key} filter change to rows shown", inproc[key]))
            log(summary(f"{key} filter change to total shown", inproc[f"{key}_total"]))
            log(summary(f"{key} filter, direct search", inproc[f"{key}_sql"]))
            log(summary(f"{key} filter, direct search+count", inproc[f"{key}_sql_total"]))

        first_rows = [r["first_rows"] for r in pty]
        log(summary("first rows after Enter", first_rows))
        log(summary("status line after Enter", [r["status_line"] for r in pty]))
        log(summary("first rows after Enter without the demo simulator (diagnostic)",
                    [r["first_rows"] for r in no_sim]))
        log(f"load average {load()}")
        emit("callback_list_first_rows", median(first_rows), FIRST_ROWS_TARGET, baseline["seconds"])
        emit("callback_list_pagedown", median(inproc["pages"]), PAGE_TARGET, median(inproc["sql"]))
        emit("callback_list_page_sql", median(inproc["sql"]), PAGE_TARGET, None)
        emit("callback_list_pagedown_pty", median(paged["pages"]), PAGE_TARGET, median(inproc["pages"]))
        emit("callback_filter_phone", median(inproc["phone"]), FILTER_TARGET, median(inproc["phone_sql"]))
        emit("callback_filter_phone_total", median(inproc["phone_total"]), FILTER_TARGET,
             median(inproc["phone_sql_total"]))
        emit("callback_filter_status", median(inproc["status"]), FILTER_TARGET, median(inproc["status_sql"]))
        emit("callback_filter_status_total", median(inproc["status_total"]), FILTER_TARGET,
             median(inproc["status_sql_total"]))
        emit("callback_list_rss", paged["rss"], RSS_TARGET, baseline["rss_mb"], unit="MB")
        code.check()
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
