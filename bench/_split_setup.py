"""Shared set-up of bench_assign.py and bench_split_crash.py: a store with 10,000 fresh callbacks and 50
agents.

Not a benchmark (run.py does not list it). Builds, untimed, a template database once; each timed or killed
run then works on its own copy of the file, so every run starts from the same state.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from _common import log

SERVICE = "cs"
ADMIN = "admin"
N_CALLBACKS = 10_000
N_AGENTS = 50


@dataclass
class SplitTemplate:
    db: Path  # the template database (checkpointed: the main file alone is the whole database)
    callback_ids: list[int]  # the 10,000 fresh, unassigned callbacks, in intake order
    agent_ids: list[int]  # the 50 agents with phone permission in service cs


def clean_environ(data_dir: str) -> None:
    """This process's own environment like _common.bench_env: no user contiple/textual settings."""
    for key in list(os.environ):
        if key.startswith(("CONTIPLE_TUI_", "TEXTUAL")):
            del os.environ[key]
    os.environ["CONTIPLE_TUI_HOME"] = data_dir


def build_template(folder: Path, n_callbacks: int = N_CALLBACKS, n_agents: int = N_AGENTS) -> SplitTemplate:
    """Demo seed (100 callbacks), n_agents agents (phone, service cs), n_callbacks unassigned callbacks of the
    last hours. Untimed.

    The callbacks go in through the store's bulk path (CallbackRepo.bulk_insert, one transaction), not one by
    one through core.callbacks.intake: intake's open-callback lookup by phone scans the service (the query
    planner picks callbacks_service_requested for its ORDER BY instead of the partial phone index), so
    10,000 intakes take 20-40 s here and get slower with every callback. The split does not read what
    intake adds besides the callback row (callback_requests)."""
    from contiple_tui.core import directory
    from contiple_tui.domain.models import Perm, Role
    from contiple_tui.sim import demo
    from contiple_tui.store import DB_FILENAME, Store

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / DB_FILENAME
    store = Store(path)
    try:
        start = time.perf_counter()
        demo.seed(store, callbacks=100, agents=12)
        agents = [
            directory.add_user(
                store,
                login=f"split{n:02d}",
                name=f"분배상담원{n:02d}",
                role=Role.AGENT,
                perms=[Perm.PHONE],
                services=[SERVICE],
            ).id
            for n in range(n_agents)
        ]
        service = store.services.get_by_code(SERVICE)
        now = int(time.time())

        def load(conn) -> list[int]:
            first = store.callbacks.max_id(conn) + 1
            rows = [
                (
                    first + i,
                    service.id,
                    f"split-{i}",
                    f"0109{i:07d}",
                    None,
                    None,
                    now - i,
                    now - i,
                    1,
                    "unassigned",
                    None,
                    None,
                    None,
                    0,
                    None,
                    None,
                    None,
                )
                for i in range(n_callbacks)
            ]
            store.callbacks.bulk_insert(conn, rows, [])
            return [row[0] for row in rows]

        ids = store.db.run_write(load)
        store.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        log(
            f"template store: {n_agents} agents, {n_callbacks:,} callbacks (bulk insert) "
            f"in {time.perf_counter() - start:.1f} s (not timed)"
        )
    finally:
        store.close()
    return SplitTemplate(path, ids, agents)


def copy_store(template: SplitTemplate, folder: Path) -> Path:
    """A private copy of the template database in `folder` (created afresh)."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    dest = folder / template.db.name
    shutil.copyfile(template.db, dest)
    return dest


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())
