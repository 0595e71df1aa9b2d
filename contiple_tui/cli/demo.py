"""``demo`` (sample data and a simulated phone system, then the console) and ``cti-sim``."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from contiple_tui.cli.common import PROG
from contiple_tui.cli.console import run_console
from contiple_tui.errors import ContipleError
from contiple_tui.i18n import t
from contiple_tui.safe_text import clean

DEMO_ARRIVAL_SCALE = 1.5  # a busy but believable day (about 70% answered), so numbers move
DEMO_CALLBACK_RATE = 0.6  # most callers offered a callback take it: a newcomer sees requests arrive
DEMO_WARMUP_S = 3 * 3600  # the demo's phone system has been running for three hours already


def run_demo(args: argparse.Namespace, cfg) -> int:
    from contiple_tui.sim import demo
    from contiple_tui.store import DB_FILENAME, Store, ensure_writable_dir

    if args.callbacks < 0 or args.agents < 2:
        print(f"{PROG}: {t('err.demo_counts')}", file=sys.stderr)
        return 2
    if not args.seed_only:  # refused before anything is created, reset, seeded or started
        from contiple_tui.terminal import require_tty

        require_tty()
    demo_dir = cfg.data_dir / "demo"
    ensure_writable_dir(demo_dir)
    from contiple_tui.cli import logs
    from contiple_tui.cli.common import debugging

    logs.setup(demo_dir, debug=debugging(args))
    db_path = demo_dir / DB_FILENAME
    # --db: the demo world in a PostgreSQL database (it must be new, or hold the demo already).
    location: Path | str = cfg.db_url or db_path
    if args.reset:
        if cfg.db_url:
            print(f"{PROG}: {t('err.demo_reset_pg')}", file=sys.stderr)
            return 2
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    store = Store(location)
    store.data_dir = demo_dir
    keeper = None
    try:
        if not demo.is_seeded(store):
            print(t("cli.demo.seeding", callbacks=f"{args.callbacks:,}"), file=sys.stderr, flush=True)
            demo.seed(store, callbacks=args.callbacks, agents=args.agents)
        if args.seed_only:
            print(clean(store.location, None))
            return 0
        cfg.data_dir = demo_dir
        if not args.cti_url:
            # The demo is live: a simulated phone system in a process of its own (or the one already
            # running), even when a real CTI is configured — the demo's sample people are not on a real
            # phone system. It outlives this console; while this one runs it is restarted if it dies.
            from contiple_tui.sim.embedded import Keeper, join_or_start

            options = dict(
                arrival_scale=DEMO_ARRIVAL_SCALE, callback_rate=DEMO_CALLBACK_RATE, warmup_s=DEMO_WARMUP_S
            )
            try:
                cfg.cti_url = join_or_start(demo_dir, location, **options)
            except (OSError, TimeoutError, ValueError) as exc:
                raise ContipleError("err.sim_start", reason=str(exc)) from None
            cfg.cti_token = None
            keeper = Keeper(demo_dir, location, cfg.cti_url, **options)
            keeper.start()
        return run_console(cfg, store, args.user or args.demo_user, args.service)
    finally:
        if keeper is not None:
            keeper.stop()
        store.close()


def sim_token(args: argparse.Namespace, environ: dict[str, str] | None = None) -> str | None:
    """The token the simulator asks of clients: --token, else the first line of --token-file (kept off the
    command line, where `ps` shows it), else CONTIPLE_TUI_CTI_TOKEN (the consoles' own), else none."""
    if args.token:
        return args.token
    if args.token_file:
        try:
            token = Path(args.token_file).read_text(encoding="utf-8").splitlines()[0].strip()
        except (OSError, UnicodeDecodeError, IndexError) as exc:
            if isinstance(exc, UnicodeDecodeError):
                reason = t("err.token_file_not_text")
            else:
                reason = getattr(exc, "strerror", None) or t("err.token_file_empty")
            raise ContipleError("err.token_file", file=args.token_file, reason=reason) from None
        if not token:
            raise ContipleError("err.token_file", file=args.token_file, reason=t("err.token_file_empty"))
        return token
    env = os.environ if environ is None else environ
    return env.get("CONTIPLE_TUI_CTI_TOKEN") or None


def run_cti_sim(args: argparse.Namespace, store) -> int:
    import asyncio

    from contiple_tui.sim.simulator import serve_from_store

    def listening(port: int) -> None:
        print(t("cli.cti_sim.listening", host=args.host, port=port), file=sys.stderr, flush=True)

    options = dict(
        seed=args.seed,
        speed=args.speed,
        token=sim_token(args),
        stats_file=args.stats_file,
        heartbeat_s=args.heartbeat,
    )
    try:
        asyncio.run(serve_from_store(store.path, args.host, args.port, on_listening=listening, **options))
    except OSError as exc:
        raise ContipleError(
            "err.port_in_use", host=args.host, port=args.port, reason=exc.strerror or str(exc)
        ) from None
    except KeyboardInterrupt:
        pass
    return 0
