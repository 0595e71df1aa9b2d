"""``store migrate`` and ``store copy --to postgresql://…``: the database itself, for operators."""

from __future__ import annotations

import argparse

from contiple_tui.cli.directory import _record
from contiple_tui.config import check_db_url
from contiple_tui.errors import StoreError
from contiple_tui.i18n import t
from contiple_tui.safe_text import clean


def run_store(args: argparse.Namespace, store) -> int:
    if args.action == "migrate":
        # Opening the store applied what was missing (a newer database was refused before this).
        print(clean(t("cli.store.migrated", where=store.location, version=store.db.schema_version())))
        return 0
    return _copy(args, store)


def _copy(args: argparse.Namespace, store) -> int:
    from contiple_tui.store import Store
    from contiple_tui.store.copy import copy_to_postgres

    if store.postgres:
        raise StoreError("err.copy_direction")
    check_db_url("--to", "--to", args.to)
    target = Store(args.to)
    try:

        def progress(table: str, rows: int) -> None:
            print(clean(t("cli.store.copied", table=table, count=rows)), flush=True)

        done = copy_to_postgres(store.db, target.db, progress)
        _record(target, "store copy", f"{store.location} -> {target.location}")
        rows = sum(table.rows for table in done)
        print(clean(t("cli.store.verified", tables=len(done), count=rows, url=target.location)))
        print(clean(t("cli.store.next", url=target.location)))
    finally:
        target.close()
    return 0
