"""The command line's entry: global options, the parser, and which command runs.

Each command group lives in a module of its own (console, demo, directory, export, sms); they are
imported only when their command runs, so ``contiple-tui --version`` stays fast and textual-free.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

from contiple_tui import __version__
from contiple_tui.cli.common import PROG, debugging, os_login
from contiple_tui.errors import ContipleError, ValidationError
from contiple_tui.i18n import LANGUAGES, detect_language, set_language, t
from contiple_tui.safe_text import clean

log = logging.getLogger(__name__)


def _early_language(argv: Sequence[str]) -> str:
    """The language for --help and early errors, before the config file is read."""
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv) and argv[i + 1] in LANGUAGES:
            return argv[i + 1]
        if arg.startswith("--lang=") and arg[7:] in LANGUAGES:
            return arg[7:]
    env = os.environ.get("CONTIPLE_TUI_LANG")
    return env if env in LANGUAGES else detect_language()


def _ranged(kind, low: float, high: float):
    """An argparse type that refuses values outside [low, high] (and NaN) with a clear message."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(t("err.number_invalid", value=text)) from None
        if not low <= value <= high:  # NaN fails this too
            raise argparse.ArgumentTypeError(t("err.number_range", value=text, low=low, high=high))
        return value

    return parse


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one clear line, exit 2, in the user's language
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: {t('err.usage')}: {clean(message)}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description=t("cli.description"))
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.add_argument("--data-dir", metavar="DIR", help=t("cli.opt.data_dir"))
    parser.add_argument("--user", metavar="LOGIN", help=t("cli.opt.user"))
    parser.add_argument("--lang", choices=LANGUAGES, help=t("cli.opt.lang"))
    parser.add_argument("--debug", action="store_true", help=t("cli.opt.debug"))
    parser.add_argument("--theme", metavar="NAME", help=t("cli.opt.theme"))
    parser.add_argument("--cti-url", metavar="URL", help=t("cli.opt.cti_url"))
    parser.add_argument("--db", metavar="URL", help=t("cli.opt.db"))
    parser.add_argument("--service", metavar="CODE", help=t("cli.opt.service"))
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    demo = sub.add_parser("demo", help=t("cli.demo"), description=t("cli.demo"))
    demo.add_argument("--user", dest="demo_user", metavar="LOGIN", default="admin", help=t("cli.demo.user"))
    demo.add_argument("--callbacks", type=int, default=2000, metavar="N", help=t("cli.demo.callbacks"))
    demo.add_argument("--agents", type=int, default=12, metavar="N", help=t("cli.demo.agents"))
    demo.add_argument("--reset", action="store_true", help=t("cli.demo.reset"))
    demo.add_argument("--seed-only", action="store_true", help=t("cli.demo.seed_only"))

    users = sub.add_parser("users", help=t("cli.users"), description=t("cli.users"))
    users_sub = users.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=_Parser)
    add = users_sub.add_parser("add", help=t("cli.users.add"))
    add.add_argument("--login", required=True)
    add.add_argument("--name", required=True)
    add.add_argument("--role", required=True, metavar="admin|agent|wallboard")
    add.add_argument("--perm", default="", metavar="phone,callback_assign", help=t("cli.users.perm"))
    add.add_argument(
        "--service",
        dest="services",
        action="append",
        required=True,
        metavar="CODE",
        help=t("cli.users.service"),
    )
    add.add_argument("--cti-id", metavar="ID", help=t("cli.users.cti_id"))
    add.add_argument("--ssh-key", metavar="FILE", help=t("cli.users.ssh_key"))
    add.add_argument("--authorized-keys", metavar="FILE", help=t("cli.users.authorized_keys"))
    users_sub.add_parser("list", help=t("cli.users.list"))
    for action in ("disable", "enable"):
        p = users_sub.add_parser(action, help=t(f"cli.users.{action}"))
        p.add_argument("login")
        p.add_argument("--authorized-keys", metavar="FILE", help=t("cli.users.authorized_keys"))
    keys = users_sub.add_parser("keys", help=t("cli.users.keys"), description=t("cli.users.keys"))
    keys_sub = keys.add_subparsers(dest="keys_action", metavar="ACTION", required=True, parser_class=_Parser)
    kadd = keys_sub.add_parser("add", help=t("cli.users.keys.add"))
    kadd.add_argument("login")
    kadd.add_argument("key_file", metavar="FILE.pub")
    klist = keys_sub.add_parser("list", help=t("cli.users.keys.list"))
    klist.add_argument("login", nargs="?")
    kremove = keys_sub.add_parser("remove", help=t("cli.users.keys.remove"))
    kremove.add_argument("login")
    kremove.add_argument("--fingerprint", metavar="SHA256:...", help=t("cli.users.keys.fingerprint"))
    for p in (kadd, klist, kremove):
        p.add_argument("--authorized-keys", metavar="FILE", help=t("cli.users.authorized_keys"))

    audit = sub.add_parser("audit", help=t("cli.audit"), description=t("cli.audit"))
    audit.add_argument(
        "--limit", type=_ranged(int, 1, 100_000), default=50, metavar="N", help=t("cli.audit.limit")
    )
    services = sub.add_parser("services", help=t("cli.services"), description=t("cli.services"))
    services_sub = services.add_subparsers(
        dest="action", metavar="ACTION", required=True, parser_class=_Parser
    )
    sadd = services_sub.add_parser("add", help=t("cli.services.add"))
    sadd.add_argument("--code", required=True)
    sadd.add_argument("--name", required=True)
    sadd.add_argument("--no-callback", action="store_true", help=t("cli.services.no_callback"))
    sadd.add_argument("--no-sms", action="store_true", help=t("cli.services.no_sms"))
    sadd.add_argument("--no-cti", action="store_true", help=t("cli.services.no_cti"))
    sadd.add_argument(
        "--outbound-ticket", default="on_dial", metavar="on_dial|on_connect", help=t("cli.services.outbound")
    )
    sadd.add_argument("--sl-threshold", type=int, default=20, metavar="SECONDS", help=t("cli.services.sl"))
    sadd.add_argument("--timezone", default="Asia/Seoul", help=t("cli.services.tz"))
    sadd.add_argument(
        "--sender", action="append", default=[], metavar="NUMBER", help=t("cli.services.sender")
    )
    sadd.add_argument("--ivr", action="append", default=[], metavar="CODE=NAME", help=t("cli.services.ivr"))
    services_sub.add_parser("list", help=t("cli.services.list"))

    board = sub.add_parser("wallboard", help=t("cli.wallboard"), description=t("cli.wallboard"))
    board.add_argument("--kiosk", action="store_true", help=t("cli.wallboard.kiosk"))
    board.add_argument(
        "--view", choices=("overview", "services", "agents"), default="overview", help=t("cli.wallboard.view")
    )
    board.add_argument(
        "--interval", type=_ranged(float, 1, 3600), metavar="SECONDS", help=t("cli.wallboard.interval")
    )
    board.add_argument(
        "--service",
        dest="board_services",
        action="append",
        default=[],
        metavar="CODE",
        help=t("cli.wallboard.service"),
    )
    board.add_argument("--per-service", action="store_true", help=t("cli.wallboard.per_service"))
    board.add_argument(
        "--refresh", type=_ranged(float, 0, 60), metavar="SECONDS", help=t("cli.wallboard.refresh")
    )

    sim = sub.add_parser("cti-sim", help=t("cli.cti_sim"), description=t("cli.cti_sim"))
    sim.add_argument("--host", default="127.0.0.1", help=t("cli.cti_sim.host"))
    sim.add_argument("--port", type=_ranged(int, 0, 65535), default=8765, help=t("cli.cti_sim.port"))
    sim.add_argument("--seed", type=int, help=t("cli.cti_sim.seed"))
    sim.add_argument("--speed", type=_ranged(float, 0.01, 10_000), default=1.0, help=t("cli.cti_sim.speed"))
    sim.add_argument("--token", help=t("cli.cti_sim.token"))
    sim.add_argument("--token-file", metavar="FILE", help=t("cli.cti_sim.token_file"))
    sim.add_argument("--stats-file", metavar="FILE", help=t("cli.cti_sim.stats_file"))
    sim.add_argument(
        "--heartbeat", type=_ranged(float, 0.05, 300), default=5.0, metavar="SECONDS", help=argparse.SUPPRESS
    )

    export = sub.add_parser("export", help=t("cli.export"), description=t("cli.export"))
    export_sub = export.add_subparsers(dest="action", metavar="WHAT", required=True, parser_class=_Parser)
    xcb = export_sub.add_parser(
        "callbacks", help=t("cli.export.callbacks"), description=t("cli.export.callbacks")
    )
    xcb.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD", help=t("cli.export.from"))
    xcb.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD", help=t("cli.export.to"))
    xcb.add_argument("--status", choices=("unassigned", "assigned", "completed"), help=t("cli.export.status"))
    xcb.add_argument("--service", dest="export_service", metavar="CODE", help=t("cli.export.service"))
    xcb.add_argument("-o", "--output", required=True, metavar="FILE.xlsx", help=t("cli.export.output"))

    smsp = sub.add_parser("sms", help=t("cli.sms"), description=t("cli.sms"))
    sms_sub = smsp.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=_Parser)
    send = sms_sub.add_parser("send", help=t("cli.sms.send"), description=t("cli.sms.send"))
    send.add_argument("--to", required=True, metavar="N[,N...]", help=t("cli.sms.to"))
    body = send.add_mutually_exclusive_group(required=True)
    body.add_argument("--body", metavar="TEXT", help=t("cli.sms.body"))
    body.add_argument("--body-file", metavar="FILE", help=t("cli.sms.body_file"))
    send.add_argument(
        "--type", dest="send_type", choices=("auto", "sms", "mms"), default="auto", help=t("cli.sms.type")
    )
    send.add_argument("--title", default="", metavar="T", help=t("cli.sms.title"))
    send.add_argument("--image", action="append", default=[], metavar="F.jpg", help=t("cli.sms.image"))
    send.add_argument("--at", metavar='"YYYY-MM-DD HH:MM"', default="", help=t("cli.sms.at"))
    send.add_argument("--from", dest="sender", metavar="NUMBER", help=t("cli.sms.from"))
    send.add_argument("--service", dest="sms_service", metavar="CODE", help=t("cli.sms.service"))
    hist = sms_sub.add_parser("history", help=t("cli.sms.history"), description=t("cli.sms.history"))
    hist.add_argument("--service", dest="sms_service", metavar="CODE", help=t("cli.sms.service"))
    hist.add_argument(
        "--limit", type=_ranged(int, 1, 10_000), default=20, metavar="N", help=t("cli.sms.limit")
    )
    senders = sms_sub.add_parser("senders", help=t("cli.sms.senders"), description=t("cli.sms.senders"))
    senders.add_argument("--sync", action="store_true", help=t("cli.sms.sync"))
    senders.add_argument("--service", dest="sms_service", metavar="CODE", help=t("cli.sms.service"))
    cancel = sms_sub.add_parser("cancel", help=t("cli.sms.cancel"), description=t("cli.sms.cancel"))
    cancel.add_argument("message_id", type=_ranged(int, 1, 2**62), metavar="ID", help=t("cli.sms.id"))
    cancel.add_argument("--service", dest="sms_service", metavar="CODE", help=t("cli.sms.service"))

    storep = sub.add_parser("store", help=t("cli.store"), description=t("cli.store"))
    store_sub = storep.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=_Parser)
    store_sub.add_parser("migrate", help=t("cli.store.migrate"), description=t("cli.store.migrate"))
    scopy = store_sub.add_parser(
        "copy", help=t("cli.store.copy"), description=t("cli.store.copy.description")
    )
    scopy.add_argument("--to", required=True, metavar="URL", help=t("cli.store.to"))

    config = sub.add_parser("config", help=t("cli.config"), description=t("cli.config"))
    config_sub = config.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=_Parser)
    config_sub.add_parser("path", help=t("cli.config.path"))
    sub.add_parser("doctor", help=t("cli.doctor"), description=t("cli.doctor"))
    completion = sub.add_parser("completion", help=t("cli.completion"), description=t("cli.completion"))
    completion.add_argument("shell", choices=("bash", "zsh"))
    config_sub.add_parser("schema", help=t("cli.config.schema"))

    serve = sub.add_parser("serve", help=t("cli.serve"), description=t("cli.serve.description"))
    serve.add_argument("--host", default="127.0.0.1", help=t("cli.serve.host"))
    serve.add_argument("--port", type=_ranged(int, 1, 65535), default=8000, help=t("cli.serve.port"))
    serve.add_argument("--public-url", metavar="URL", help=t("cli.serve.public_url"))
    serve.add_argument("--wallboard", action="store_true", help=t("cli.serve.wallboard"))
    serve.add_argument(
        "--view", choices=("overview", "services", "agents"), default="overview", help=t("cli.wallboard.view")
    )
    return parser


# What a person may ask for over SSH, where the key's forced command fixes everything else.
SSH_CHOICES = {"--lang": LANGUAGES, "--view": ("overview", "services", "agents")}


def ssh_request(argv: list[str], environ: dict[str, str] | None = None) -> list[str]:
    """``argv`` with the harmless options the SSH client asked for (``ssh contiple@host -- --lang en``).

    Under a key's forced command sshd puts the client's own command line in SSH_ORIGINAL_COMMAND. Only
    the language and, on a wallboard, its view may be chosen there; another user, another data
    directory or an operator command is refused in one line (ValidationError), whatever is asked."""
    env = os.environ if environ is None else environ
    asked = env.get("SSH_ORIGINAL_COMMAND")
    if not asked or not asked.strip():
        return argv
    try:
        words = shlex.split(asked)
    except ValueError:
        words = asked.split()
    if words and words[0] in (PROG, "contiple_tui"):
        words = words[1:]
    chosen: dict[str, str] = {}
    while words:
        option, *rest = words
        value = None
        if "=" in option:
            option, value = option.split("=", 1)
        elif rest:
            value = rest.pop(0)
        if option not in SSH_CHOICES or value not in SSH_CHOICES[option]:
            raise ValidationError("err.ssh_choice", word=clean(words[0], 60))
        chosen[option] = value
        words = rest
    out = list(argv)
    if "--lang" in chosen:
        out = ["--lang", chosen["--lang"], *out]  # a global option: before the command
    if "--view" in chosen:
        if "wallboard" not in out:
            raise ValidationError("err.ssh_choice", word="--view")
        out += ["--view", chosen["--view"]]
    return out


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        argv = ssh_request(argv)
    except ContipleError as exc:
        set_language(_early_language(argv))
        print(f"{PROG}: {clean(exc.message())}", file=sys.stderr)
        return exc.exit_code
    set_language(_early_language(argv))
    args = build_parser().parse_args(argv)
    try:
        return _dispatch(args)
    except ContipleError as exc:
        log.warning("refused: %s", exc.message("en"))  # in English for whoever reads the log
        print(f"{PROG}: {clean(exc.message())}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - a crash is one line and exit 1, never a traceback or 0
        return _crashed(exc)


def command_line(args: argparse.Namespace) -> list[str]:
    """What ran, for the log: the command and the user, never a token or a message body."""
    words = [args.command or "console"]
    if getattr(args, "action", None):
        words.append(str(args.action))
    return words + [f"user={args.user or os_login()}", f"by={os_login()}"]


def _crashed(exc: BaseException) -> int:
    log.error("unexpected error", exc_info=exc)
    if os.environ.get("CONTIPLE_TUI_DEBUG"):
        import traceback

        traceback.print_exception(exc, file=sys.stderr)
    reason = clean(" ".join(str(exc).split()), 200)
    print(f"{PROG}: {t('err.unexpected', kind=type(exc).__name__, reason=reason)}", file=sys.stderr)
    return 1


def _dispatch(args: argparse.Namespace) -> int:
    from contiple_tui import config as config_mod

    if args.command == "completion":
        from contiple_tui.cli.completion import bash_script, zsh_script

        make = bash_script if args.shell == "bash" else zsh_script
        print(make(build_parser(), PROG), end="")
        return 0
    if args.command == "doctor":  # reads the configuration itself: a bad one is a finding, not a stop
        from contiple_tui.cli.doctor import run_doctor

        return run_doctor(args)
    cfg = config_mod.load(
        data_dir=args.data_dir, lang=args.lang, theme=args.theme, cti_url=args.cti_url, db_url=args.db
    )
    set_language(cfg.lang)

    if args.command == "config":
        if args.action == "schema":
            import json

            print(json.dumps(config_mod.json_schema(), ensure_ascii=False, indent=2))
            return 0
        print(clean(cfg.config_file, None))  # the path comes from --data-dir or the environment
        return 0

    from contiple_tui.store import DB_FILENAME, Store, ensure_writable_dir

    if args.command == "demo":
        from contiple_tui.cli.demo import run_demo

        return run_demo(args, cfg)
    if (
        args.command in (None, "export", "sms", "wallboard", "serve")
        and not cfg.db_url
        and not (cfg.data_dir / DB_FILENAME).exists()
    ):
        # No database, so no users: the refusal creates neither a data directory nor a database.
        from contiple_tui.errors import IdentityError

        raise IdentityError("err.unknown_user", login=args.user or getpass.getuser())
    if args.command in (None, "wallboard") and (
        cfg.db_url is None and _opening_would_change(cfg.data_dir / DB_FILENAME)
    ):
        # A full-screen command without a terminal is refused before the store is created or migrated
        # (README "Usage": before touching anything). Opening a store at the current schema changes
        # nothing, so there the refusals of the store and the identity still come first.
        from contiple_tui.terminal import require_tty

        require_tty()
    if cfg.db_url:
        ensure_writable_dir(cfg.data_dir)  # logs and exports stay in the data directory
        store = Store(cfg.db_url)
    else:
        store = Store.in_dir(cfg.data_dir)
    store.data_dir = cfg.data_dir
    from contiple_tui.cli import logs

    logs.setup(cfg.data_dir, debug=debugging(args))
    log.info("%s %s", PROG, " ".join(clean(a, 200) for a in command_line(args)))
    try:
        if args.command == "users":
            from contiple_tui.cli.directory import run_users

            return run_users(args, store)
        if args.command == "audit":
            from contiple_tui.cli.directory import run_audit

            return run_audit(args, store)
        if args.command == "services":
            from contiple_tui.cli.directory import run_services

            return run_services(args, store)
        if args.command == "store":
            from contiple_tui.cli.store import run_store

            return run_store(args, store)
        if args.command == "cti-sim":
            from contiple_tui.cli.demo import run_cti_sim

            return run_cti_sim(args, store)
        if args.command == "export":
            from contiple_tui.cli.export import run_export

            return run_export(args, cfg, store, args.user or getpass.getuser())
        if args.command == "sms":
            from contiple_tui.cli.sms import run_sms

            return run_sms(args, cfg, store, args.user or getpass.getuser())
        if args.command == "serve":
            from contiple_tui.cli.serve import run_serve

            return run_serve(args, cfg, store, args.user or getpass.getuser())
        if args.command == "wallboard":
            from contiple_tui.cli.console import run_wallboard

            return run_wallboard(args, cfg, store, args.user or getpass.getuser())
        from contiple_tui.cli.console import run_console

        return run_console(cfg, store, args.user or getpass.getuser(), args.service)
    finally:
        store.close()


def _opening_would_change(db_path: Path) -> bool:
    """Would opening this database create or migrate it? Read from the file's header (``user_version``
    at offset 60), not through SQLite, which would leave -wal and -shm files beside it. A migration
    not yet checkpointed out of the WAL only makes the answer "yes" where it is "no": never the other
    way round, since versions only go up."""
    from contiple_tui.store.migrations import SCHEMA_VERSION

    try:
        with open(db_path, "rb") as f:
            header = f.read(100)
    except OSError:
        return not db_path.exists()  # unreadable: the store's own open check says why
    if len(header) < 100:
        return True
    return int.from_bytes(header[60:64], "big") < SCHEMA_VERSION
