"""Equal split killed with SIGKILL mid-transaction: all-or-none after every kill (reliability, target 5 of 5).

Not a timing. Set-up, untimed (bench/_split_setup.py): a demo store with 50 more agents (phone, service cs)
and 10,000 fresh unassigned callbacks (bulk insert through the store), checkpointed as a template.

Calibration: two children, each on a fresh copy, run the whole split and report how long `assign_equal`
took; D is the shorter. These copies are checked like the others and must be "all".

Each of 5 runs: a fresh copy of the template; a child process (this script with --child) opens the Store,
looks up the admin, service and ids, prints "ready" and blocks reading its stdin pipe. The parent writes
"go" to the pipe, sleeps a random delay drawn uniformly from [0.1 D, 0.7 D] (at least 20 ms; the child is
inside `core.callbacks.assign_equal`, i.e. inside its one BEGIN IMMEDIATE transaction, for nearly all of D:
the permission and target checks before BEGIN take a few ms) and sends SIGKILL. Whether the child had
already printed its result (the split returned) before the kill is logged: such a run still counts, but
it did not test a kill inside the transaction. Then, in this process, the copy is opened with the product's
Store (SQLite rolls back the WAL of the dead writer) and checked:
  - all-or-none: either all 10,000 callbacks are 'assigned' to the 50 agents with 10,000 'assign' history
    rows, or all 10,000 are still 'unassigned' (no assignee) with no 'assign' history row;
  - PRAGMA integrity_check returns "ok" and PRAGMA foreign_key_check returns nothing.
The -wal size found after the kill is logged: a non-empty WAL shows the transaction had already spilled
pages to it (uncommitted frames that recovery must ignore).

Value: the number of the 5 killed runs that passed both checks (target 5; "better": "higher").
Exit status 1 if a calibration run fails its checks (the set-up itself is then broken).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import CodeState, emit, log, short_mode
from _split_setup import ADMIN, SERVICE, build_template, clean_environ, copy_store, load_average

RUNS = 5
CALIBRATION_RUNS = 2
TARGET = 5


def child(db: str, ids_file: str) -> int:
    """Open the store, say "ready", wait for "go" on stdin, run the split, report its duration."""
    from contiple_tui.core import callbacks as cb
    from contiple_tui.store import Store

    spec = json.loads(Path(ids_file).read_text())
    store = Store(Path(db))
    admin = store.users.get_by_login(ADMIN)
    service = store.services.get_by_code(SERVICE)
    print("ready", flush=True)
    if sys.stdin.readline().strip() != "go":
        return 2
    start = time.perf_counter()
    result = cb.assign_equal(store, admin, service, spec["ids"], spec["agents"])
    print(json.dumps({"seconds": time.perf_counter() - start, "assigned": result.count}), flush=True)
    store.close()
    return 0


def check(db: Path, ids: list[int], agents: list[int]) -> tuple[str, bool, str]:
    """("all" | "none" | "partial", integrity ok, details) of a store after a run."""
    from contiple_tui.store import Store

    store = Store(db)
    try:
        conn = store.db.conn
        marks = ",".join("?" * len(agents))
        conn.execute("CREATE TEMP TABLE split_ids (id INTEGER PRIMARY KEY)")
        conn.executemany("INSERT INTO split_ids VALUES (?)", [(i,) for i in ids])
        assigned = conn.execute(
            f"SELECT count(*) FROM callbacks WHERE id IN (SELECT id FROM split_ids) AND status = 'assigned' "
            f"AND assignee_id IN ({marks})",
            agents,
        ).fetchone()[0]
        untouched = conn.execute(
            "SELECT count(*) FROM callbacks WHERE id IN (SELECT id FROM split_ids) AND status = 'unassigned' "
            "AND assignee_id IS NULL AND assigned_by IS NULL"
        ).fetchone()[0]
        history = conn.execute(
            "SELECT count(*) FROM callback_history WHERE callback_id IN (SELECT id FROM split_ids) "
            "AND action = 'assign'"
        ).fetchone()[0]
        integrity = conn.execute("PRAGMA integrity_check").fetchall()
        foreign = conn.execute("PRAGMA foreign_key_check").fetchall()
    finally:
        store.close()
    n = len(ids)
    if assigned == n and history == n:
        state = "all"
    elif untouched == n and history == 0:
        state = "none"
    else:
        state = "partial"
    ok = integrity == [("ok",)] and not foreign
    details = (
        f"assigned {assigned:,}, untouched {untouched:,}, history {history:,}, integrity "
        f"{integrity[0][0] if len(integrity) == 1 else integrity[:3]}, foreign key problems {len(foreign)}"
    )
    return state, ok, details


def run_child(db: Path, ids_file: Path, env: dict[str, str], kill_after: float | None) -> dict:
    proc = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), "--child", str(db), str(ids_file)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=str(db.parent),
    )
    try:
        ready = proc.stdout.readline().strip()  # type: ignore[union-attr]
        if ready != "ready":
            log(f"FAIL: child did not get ready: {ready!r} (exit {proc.poll()})")
            raise SystemExit(1)
        proc.stdin.write("go\n")  # type: ignore[union-attr]
        proc.stdin.flush()  # type: ignore[union-attr]
        went = time.perf_counter()
        if kill_after is None:
            report = json.loads(proc.stdout.readline())  # type: ignore[union-attr, arg-type]
            proc.wait(60)
            return report
        time.sleep(max(0.0, kill_after - (time.perf_counter() - went)))
        os.kill(proc.pid, signal.SIGKILL)
        killed_at = time.perf_counter() - went
        proc.wait(10)
        rest = proc.stdout.read()  # type: ignore[union-attr]
        return {"killed_at": killed_at, "finished_first": bool(rest.strip()), "child_said": rest.strip()}
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdin, proc.stdout):
            try:
                stream.close()  # type: ignore[union-attr]
            except OSError:
                pass


def main() -> int:
    code = CodeState()
    log(f"load average {load_average()}")
    tmp = Path(tempfile.mkdtemp(prefix="contiple-bench-crash-"))
    try:
        clean_environ(str(tmp))
        env = dict(os.environ)
        template = build_template(tmp / "template")
        ids_file = tmp / "split.json"
        ids_file.write_text(json.dumps({"ids": template.callback_ids, "agents": template.agent_ids}))

        durations = []
        for i in range(CALIBRATION_RUNS):
            db = copy_store(template, tmp / f"calibration{i + 1}")
            report = run_child(db, ids_file, env, None)
            state, ok, details = check(db, template.callback_ids, template.agent_ids)
            durations.append(report["seconds"])
            log(
                f"calibration {i + 1}: the whole split took {durations[-1]:.3f} s in the child; {state}, "
                f"{details}"
            )
            if state != "all" or not ok:
                log("FAIL: the uninterrupted split did not assign everything cleanly")
                return 1
        duration = min(durations)

        rng = random.Random()
        passed = 0
        states = []
        mid = 0
        for i in range(RUNS):
            db = copy_store(template, tmp / f"run{i + 1}")
            delay = max(0.02, rng.uniform(0.1 * duration, 0.7 * duration))
            outcome = run_child(db, ids_file, env, delay)
            wal = Path(f"{db}-wal")
            wal_size = wal.stat().st_size if wal.exists() else 0
            state, ok, details = check(db, template.callback_ids, template.agent_ids)
            good = state in ("all", "none") and ok
            passed += good
            mid += not outcome["finished_first"]
            states.append(state)
            when = "the split had already finished" if outcome["finished_first"] else "split still running"
            log(
                f"run {i + 1}: SIGKILL {outcome['killed_at'] * 1000:.0f} ms after go ({when}); "
                f"WAL left {wal_size:,} bytes; {state}; {details} -> {'PASS' if good else 'FAIL'}"
            )
        log(
            f"{passed} of {RUNS} killed runs all-or-none with a sound database ({', '.join(states)}); "
            f"{mid} of {RUNS} kills landed before the split had returned; "
            f"load average {load_average()}"
        )
        if short_mode():
            log("(BENCH_SHORT makes no difference here: 5 runs either way)")
        emit("split_crash_all_or_none", passed, TARGET, None, unit="runs", higher_is_better=True)
        code.check()
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        sys.exit(child(sys.argv[2], sys.argv[3]))
    sys.exit(main())
