"""Equal split (균등할당) of 10,000 callbacks to 50 agents, commit included (target 0.5 s, issue 4).

Set-up, untimed (bench/_split_setup.py): a demo store (100 callbacks), 50 more agents with phone permission
in service cs (core.directory.add_user), 10,000 fresh unassigned callbacks of the last hours (inserted in
bulk through the store: one-by-one intake is too slow to set up, see _split_setup.py); then the database is
checkpointed and copied afresh for every run.

Timed: `core.callbacks.assign_equal(store, admin, cs, ids, agent_ids)` on a freshly opened Store of the copy,
i.e. everything the assignment screen's button runs: the permission checks, the 50 target checks, and one
BEGIN IMMEDIATE transaction: which of the 10,000 are still unassigned (SELECT), the deal, one UPDATE of the
10,000 rows (from a temporary table of callback -> agent) and 10,000 history INSERTs, COMMIT included
(WAL, synchronous=NORMAL as the product sets it: the commit does not fsync). Checks that all 10,000 were
assigned, 200 to each agent, with 10,000 history rows. Median of 5 runs (3 with BENCH_SHORT=1).

Baseline: on another fresh copy and the same kind of connection (the product's Store, foreign keys on), the
bare rows change: the same temporary table of callback -> agent and one
`UPDATE callbacks SET status, assignee_id, assigned_by, assigned_at ... FROM` it, in one BEGIN IMMEDIATE ...
COMMIT, without the SELECT, history rows or checks: SQLite's floor for this change.
Diagnostic on stderr: one `UPDATE ... WHERE id = ?` per callback (executemany), as assign_equal did until
it used one statement. With foreign keys on, SQLite keeps a statement journal for every UPDATE of callbacks,
so that costs about 45 us a row (0.37-0.45 s here), most of the split's old 0.47-0.49 s.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

from _common import CodeState, emit, log, median, short_mode
from _split_setup import ADMIN, SERVICE, build_template, clean_environ, copy_store, load_average

TARGET = 0.5


def timed_split(db: Path, ids: list[int], agents: list[int]) -> float:
    from contiple_tui.core import callbacks as cb
    from contiple_tui.store import Store

    store = Store(db)
    try:
        admin = store.users.get_by_login(ADMIN)
        service = store.services.get_by_code(SERVICE)
        start = time.perf_counter()
        result = cb.assign_equal(store, admin, service, ids, agents)
        elapsed = time.perf_counter() - start
        conn = store.db.conn
        marks = ",".join("?" * len(agents))
        per_agent = dict(
            conn.execute(
                "SELECT assignee_id, count(*) FROM callbacks WHERE status = 'assigned' AND assigned_by = ? "
                f"AND assignee_id IN ({marks}) GROUP BY assignee_id",
                (admin.id, *agents),
            ).fetchall()
        )
        history = conn.execute(
            "SELECT count(*) FROM callback_history WHERE action = 'assign' AND actor_id = ? "
            f"AND to_user IN ({marks})",
            (admin.id, *agents),
        ).fetchone()[0]
    finally:
        store.close()
    share = len(ids) // len(agents)
    if (
        result.count != len(ids)
        or result.skipped
        or set(per_agent.values()) != {share}
        or len(per_agent) != len(agents)
        or history != len(ids)
    ):
        log(
            f"FAIL: split assigned {result.count}, skipped {len(result.skipped)}, per agent "
            f"{sorted(set(per_agent.values()))} over {len(per_agent)} agents, {history} history rows"
        )
        raise SystemExit(1)
    return elapsed


def timed_bare_update(db: Path, ids: list[int], agents: list[int], *, per_row: bool = False) -> float:
    from contiple_tui.store import Store

    store = Store(db)
    try:
        admin_id = store.users.get_by_login(ADMIN).id
        now = int(time.time())
        conn = store.db.conn
        rows = [(agents[i % len(agents)], admin_id, now, cid) for i, cid in enumerate(ids)]
        plan = [(cid, agents[i % len(agents)]) for i, cid in enumerate(ids)]
        start = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        if per_row:
            conn.executemany(
                "UPDATE callbacks SET status = 'assigned', assignee_id = ?, assigned_by = ?, "
                "assigned_at = ? WHERE id = ?",
                rows,
            )
        else:
            conn.execute("CREATE TEMP TABLE bare_plan (id INTEGER PRIMARY KEY, agent INTEGER NOT NULL)")
            conn.executemany("INSERT INTO temp.bare_plan (id, agent) VALUES (?, ?)", plan)
            conn.execute(
                "UPDATE callbacks SET status = 'assigned', assignee_id = p.agent, assigned_by = ?, "
                "assigned_at = ? FROM temp.bare_plan AS p WHERE callbacks.id = p.id",
                (admin_id, now),
            )
        conn.execute("COMMIT")
        elapsed = time.perf_counter() - start
        changed = conn.execute(
            "SELECT count(*) FROM callbacks WHERE status = 'assigned' AND assigned_at = ?", (now,)
        ).fetchone()[0]
    finally:
        store.close()
    if changed < len(ids):
        log(f"FAIL: bare update changed {changed} rows, expected {len(ids)}")
        raise SystemExit(1)
    return elapsed


def main() -> int:
    code = CodeState()
    log(f"load average {load_average()}")
    tmp = Path(tempfile.mkdtemp(prefix="contiple-bench-assign-"))
    try:
        clean_environ(str(tmp))
        template = build_template(tmp / "template")
        runs = 3 if short_mode() else 5
        splits, bare, per_row = [], [], []
        for i in range(runs):  # interleaved, so drift in machine load hits all alike
            splits.append(
                timed_split(copy_store(template, tmp / "run"), template.callback_ids, template.agent_ids)
            )
            bare.append(
                timed_bare_update(
                    copy_store(template, tmp / "run"), template.callback_ids, template.agent_ids
                )
            )
            per_row.append(
                timed_bare_update(
                    copy_store(template, tmp / "run"), template.callback_ids, template.agent_ids, per_row=True
                )
            )
            log(
                f"run {i + 1}: assign_equal {splits[-1]:.3f} s, bare UPDATE {bare[-1]:.3f} s, "
                f"per-row UPDATEs (diagnostic) {per_row[-1]:.3f} s"
            )
        log(
            f"assign_equal: median {median(splits):.3f} s, min {min(splits):.3f}, max {max(splits):.3f}; "
            f"bare UPDATE: median {median(bare):.3f} s, min {min(bare):.3f}, max {max(bare):.3f}; "
            f"per-row UPDATEs: median {median(per_row):.3f} s"
        )
        log(f"load average {load_average()}")
        emit("assign_equal_10k", median(splits), TARGET, median(bare))
        code.check()
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
