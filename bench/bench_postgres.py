"""PostgreSQL's figures (issue 14 §3), measured in the same run as SQLite's.

1. `pg_seed_1m` (target 60 s): `contiple-tui --db URL demo --seed-only --callbacks 1000000` into a new
   database of a throw-away PostgreSQL server (tests/pgserver.py: Debian's PostgreSQL 15, as an
   unprivileged user, fsync off as in the tests), whole command wall clock; the rows go in by COPY with
   the secondary indexes built once after. Baseline: the same command on SQLite, timed just before.
   The number of callbacks stored is checked.
2. The callback list at 1,000,000 callbacks: bench_callback_list.py with BENCH_ENGINE=postgresql (its
   docstring says what each figure times): `callback_list_first_rows_pg` (target 0.5 s), page down
   (`callback_list_pagedown_*_pg`, 0.05 s / max 0.1 s), the phone part typed and set
   (`callback_filter_phone_typed_pg`, `callback_filter_phone_pg`, 0.1 s), the status filter
   (`callback_filter_status_pg`, rows; `callback_filter_status_total_pg`, with the total: 0.3 s).
3. A host of consoles on one PostgreSQL: bench_consoles.py with BENCH_ENGINE=postgresql. The idle
   phase (counts 1, 10, 50) with the simulator's traffic but no callback requests (nothing happens to
   the data): `consoles_idle_db_tps_N_pg`, the transactions per second the database ran while the N
   consoles sat idle (pg_stat_database; target 0.2 per console), `consoles_idle_N_pg` (their CPU). Then
   the propagation phase with the simulator's usual mix and the 50 consoles:
   `change_propagation_p95_pg` (target 1 s) and `_max_pg` (2 s).

BENCH_SHORT=1: 100,000 callbacks and the short modes of the two scripts.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile

from _common import HERE, bench_env, emit, log, seed_cmd, short_mode, timed_run

TARGET_SEED = 60.0


def seed_figures() -> None:
    sys.path.insert(0, os.path.dirname(HERE))
    from tests.pgserver import PgServer

    count = 100_000 if short_mode() else 1_000_000
    tmp = tempfile.mkdtemp(prefix="contiple-bench-pg-seed-")
    server = PgServer().start()
    try:
        env = bench_env(tmp)
        lite, _ = timed_run(seed_cmd(os.path.join(tmp, "lite"), count), env=env, cwd=tmp, timeout=900)
        url = server.create_database("seed")
        cmd = seed_cmd(os.path.join(tmp, "pg"), count)
        cmd[cmd.index("demo") : cmd.index("demo")] = ["--db", url]
        value, _ = timed_run(cmd, env=env, cwd=tmp, timeout=900)
        import psycopg

        with psycopg.connect(url) as conn:
            stored = conn.execute("SELECT count(*) FROM callbacks").fetchone()[0]
        log(f"seed {count:,} callbacks: PostgreSQL {value:.1f} s, SQLite {lite:.1f} s; stored {stored:,}")
        if stored != count:
            log(f"FAIL: expected {count} callbacks in PostgreSQL, found {stored}")
            raise SystemExit(1)
        emit("pg_seed_1m" if count == 1_000_000 else "pg_seed_100k", value, TARGET_SEED, lite)
    finally:
        server.close()
        shutil.rmtree(tmp, ignore_errors=True)


def run_on_postgres(script: str, *args: str) -> int:
    """A bench script on PostgreSQL; its result lines pass through."""
    log(f"== {script} {' '.join(args)} (BENCH_ENGINE=postgresql)")
    env = dict(os.environ, BENCH_ENGINE="postgresql")
    proc = subprocess.run(
        [sys.executable, os.path.join(HERE, script), *args], env=env, stdout=subprocess.PIPE, text=True
    )
    sys.stdout.write(proc.stdout)
    sys.stdout.flush()
    return proc.returncode


def main() -> int:
    seed_figures()
    failed = run_on_postgres("bench_callback_list.py")
    counts = "1,10" if short_mode() else "1,10,50"
    # Idle: nothing happens to the data, the simulator's traffic (about 20 events/s) without callback
    # requests. Propagation: its usual mix, whose new callbacks keep open rows at the top of the lists
    # that the drivers complete (without them the drivers run out of open rows).
    failed |= run_on_postgres(
        "bench_consoles.py", "--counts", counts, "--phases", "idle", "--callback-rate", "0"
    )
    failed |= run_on_postgres(
        "bench_consoles.py", "--counts", counts.rsplit(",", 1)[-1], "--phases", "propagation"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
