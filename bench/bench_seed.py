"""Seeding the demo store with 1,000,000 callbacks (target 60 s), whole command wall-clock.

Baseline: inserting as many rows into a plain SQLite table with no indexes, in one transaction,
i.e. the floor for SQLite on this machine.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import sys
import tempfile
import time

from _common import bench_env, emit, log, seed_cmd, timed_run

CALLBACKS = 1_000_000
TARGET = 60.0


def sqlite_floor(path: str, n: int) -> float:
    rows = [(i, f"010{i:08d}", i % 7) for i in range(n)]  # built before timing: only SQLite is timed
    con = sqlite3.connect(path)
    try:
        start = time.perf_counter()
        con.execute("CREATE TABLE t(a INTEGER, b TEXT, c INTEGER)")
        with con:  # one transaction
            con.executemany("INSERT INTO t VALUES (?, ?, ?)", rows)
        return time.perf_counter() - start
    finally:
        con.close()


def main() -> int:
    tmp = tempfile.mkdtemp(prefix="contiple-bench-seed-")
    try:
        env = bench_env(tmp)
        cmd = seed_cmd(tmp, CALLBACKS)
        value, out = timed_run(cmd, env=env, cwd=tmp, timeout=900)
        db = os.path.join(tmp, "demo", "contiple.sqlite3")
        log(f"seed: {value:.2f} s, printed {out.strip()!r}, db {os.path.getsize(db) / 1e6:.0f} MB")
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            count = con.execute("SELECT count(*) FROM callbacks").fetchone()[0]
        finally:
            con.close()
        log(f"callbacks in the produced store: {count}")
        if count != CALLBACKS:
            log(f"FAIL: expected {CALLBACKS} callbacks, found {count}")
            return 1

        baseline = sqlite_floor(os.path.join(tmp, "floor.sqlite3"), CALLBACKS)
        log(f"baseline: plain SQLite insert of {CALLBACKS} rows: {baseline:.2f} s")
        emit("seed_1m", value, TARGET, baseline)
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
