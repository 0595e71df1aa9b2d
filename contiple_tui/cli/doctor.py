"""``doctor``: checks what a deployment needs and says, for each problem, how to fix it.

The terminal (a tty, its size, UTF-8, colours, the cells it gives Hangul and East-Asian ambiguous
characters), the data directory (its mode, free space), the database
(opened read-only: schema, integrity, WAL), the configuration, the CTI feed (reachable, token accepted,
clock skew) and each service's NHN Cloud keys (a read-only call: the sender numbers). Changes nothing.
Exit 0 when all is well, 1 with a summary otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import sqlite3
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from contiple_tui import __version__
from contiple_tui.i18n import t
from contiple_tui.safe_text import clean

MIN_SIZE = (80, 24)
MIN_FREE_BYTES = 200 * 1024 * 1024
MAX_SKEW_S = 5.0
CTI_WAIT_S = 6.0


@dataclass
class Finding:
    ok: bool
    text: str
    fix: str = ""


def check_terminal(environ: dict[str, str] | None = None) -> list[Finding]:
    env = os.environ if environ is None else environ
    found: list[Finding] = []
    if not sys.stdout.isatty():
        found.append(Finding(False, t("doctor.term.not_tty"), t("doctor.fix.tty")))
    else:
        cols, rows = shutil.get_terminal_size((0, 0))
        term = env.get("TERM", "?")
        if cols < MIN_SIZE[0] or rows < MIN_SIZE[1]:
            found.append(Finding(False, t("doctor.term.small", cols=cols, rows=rows), t("doctor.fix.size")))
        else:
            found.append(Finding(True, t("doctor.term.ok", cols=cols, rows=rows, term=clean(term, 40))))
    locale = next((env[v] for v in ("LC_ALL", "LC_CTYPE", "LANG") if env.get(v)), "")
    if "utf-8" not in locale.lower() and "utf8" not in locale.lower():
        found.append(
            Finding(False, t("doctor.term.not_utf8", locale=clean(locale or "-", 40)), t("doctor.fix.utf8"))
        )
    colours = (
        "16M"
        if env.get("COLORTERM") in ("truecolor", "24bit")
        else "256"
        if "256" in env.get("TERM", "")
        else "16"
    )
    found.append(Finding(True, t("doctor.term.colours", colours=colours)))
    if sys.stdin.isatty() and sys.stdout.isatty():
        found.append(width_finding(measure_widths(sys.stdin.fileno(), sys.stdout.fileno())))
    return found


# What the terminal is asked to draw, each at the start of the line, and how many cells it should take:
# Hangul is wide; a box line and a symbol are East-Asian "ambiguous" and must be narrow, as the console
# lays them out.
WIDTH_PROBES = (("hangul", "가", 2), ("box", "─", 1), ("symbol", "○", 1))
CURSOR_ANSWER = re.compile(rb"\x1b\[(\d+);(\d+)R")


def measure_widths(fd_in: int, fd_out: int, timeout: float = 1.0) -> dict[str, int] | None:
    """The cells the terminal gives each probe: it draws the character at the start of the line and
    says where its cursor went (the cursor position report, CSI 6n, which terminals answer on their
    input). None when the terminal does not answer in time. The line is cleared afterwards."""
    import termios
    import tty

    saved = termios.tcgetattr(fd_in)
    widths: dict[str, int] = {}
    try:
        tty.setcbreak(fd_in, termios.TCSANOW)  # the answer is read at once and not echoed
        for name, char, _ in WIDTH_PROBES:
            os.write(fd_out, f"\r{char}\x1b[6n".encode())
            column = _cursor_column(fd_in, timeout)
            if column is None:
                return None
            widths[name] = column - 1
        return widths
    finally:
        os.write(fd_out, b"\r\x1b[K")
        termios.tcflush(fd_in, termios.TCIFLUSH)  # a late answer must not reach the shell
        termios.tcsetattr(fd_in, termios.TCSADRAIN, saved)


def _cursor_column(fd: int, timeout: float) -> int | None:
    import select

    answer = b""
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            break
        chunk = os.read(fd, 64)
        if not chunk:
            break
        answer += chunk
        if match := CURSOR_ANSWER.search(answer):
            return int(match.group(2))
    return None


def width_finding(widths: dict[str, int] | None) -> Finding:
    if widths is None:
        return Finding(True, t("doctor.term.no_answer"))
    if widths["hangul"] != 2:
        return Finding(False, t("doctor.term.hangul", cells=widths["hangul"]), t("doctor.fix.hangul"))
    if widths["box"] != 1 or widths["symbol"] != 1:
        return Finding(False, t("doctor.term.ambiguous_wide"), t("doctor.fix.ambiguous"))
    return Finding(True, t("doctor.term.widths_ok"))


def check_data(data_dir: Path, db_path: Path) -> list[Finding]:
    from contiple_tui.store.migrations import APPLICATION_ID, SCHEMA_VERSION

    if not data_dir.is_dir():
        return [Finding(False, t("doctor.data.missing", path=data_dir), t("doctor.fix.missing"))]
    found: list[Finding] = []
    mode = data_dir.stat().st_mode & 0o777
    free = shutil.disk_usage(data_dir).free
    if mode & 0o022:
        found.append(
            Finding(False, t("doctor.data.shared", path=data_dir, mode=f"{mode:o}"), f"chmod 700 {data_dir}")
        )
    if free < MIN_FREE_BYTES:
        found.append(
            Finding(False, t("doctor.data.space", path=data_dir, free=_mb(free)), t("doctor.fix.space"))
        )
    if not found:
        found.append(Finding(True, t("doctor.data.ok", path=data_dir, mode=f"{mode:o}", free=_mb(free))))
    if not db_path.exists():
        return found + [Finding(False, t("doctor.db.missing", path=db_path), t("doctor.fix.missing"))]
    db_mode = db_path.stat().st_mode & 0o777
    if db_mode & 0o022:
        found.append(
            Finding(False, t("doctor.db.shared", path=db_path, mode=f"{db_mode:o}"), f"chmod 600 {db_path}")
        )
    try:
        conn = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            journal = conn.execute("PRAGMA journal_mode").fetchone()[0]
            check = conn.execute("PRAGMA quick_check").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return found + [
            Finding(
                False, t("doctor.db.broken", path=db_path, reason=clean(exc, 200)), t("doctor.fix.backup")
            )
        ]
    if app_id != APPLICATION_ID:
        found.append(Finding(False, t("doctor.db.foreign", path=db_path), t("doctor.fix.backup")))
    elif check != "ok":
        found.append(
            Finding(
                False, t("doctor.db.broken", path=db_path, reason=clean(check, 200)), t("doctor.fix.backup")
            )
        )
    elif version > SCHEMA_VERSION:
        found.append(
            Finding(False, t("doctor.db.newer", found=version, known=SCHEMA_VERSION), t("doctor.fix.upgrade"))
        )
    elif version < SCHEMA_VERSION:  # it would be upgraded on opening: said, not done (doctor changes nothing)
        found.append(Finding(True, t("doctor.db.older", version=version, known=SCHEMA_VERSION)))
    else:
        found.append(Finding(True, t("doctor.db.ok", version=version, journal=journal)))
    return found


def _schema_version(db_path: Path) -> int:
    conn = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return conn.execute("PRAGMA user_version").fetchone()[0]
    finally:
        conn.close()


def check_cti(url: str | None, token: str | None) -> list[Finding]:
    if not url:
        return [Finding(True, t("doctor.cti.none"))]
    from contiple_tui.cti.client import CtiClient, LinkState
    from contiple_tui.widgets.link_reason import link_reason

    async def probe() -> tuple[bool, str | None, float | None]:
        client = CtiClient(url, token=token, backoff_initial=0.2, backoff_max=1.0)
        client.start()
        deadline = time.monotonic() + CTI_WAIT_S
        try:
            while time.monotonic() < deadline:
                if client.state is LinkState.CONNECTED or client.stats.connects:
                    skew = None
                    if client.time_scale == 1 and client.model.server_time is not None:
                        skew = (client.model.server_time - datetime.now(UTC)).total_seconds()
                    return True, None, skew
                if client.down_reason is not None and client.down_reason[0] in (
                    "unauthorized",
                    "unknown_host",
                ):
                    break  # no point in waiting for these
                await asyncio.sleep(0.05)
            return False, link_reason(client) or t("cti.why.timeout"), None
        finally:
            await client.stop()

    ok, why, skew = asyncio.run(probe())
    shown = clean(url, 200)
    if not ok:
        return [Finding(False, t("doctor.cti.down", url=shown, why=why), t("doctor.fix.cti"))]
    if skew is not None and abs(skew) > MAX_SKEW_S:
        return [Finding(False, t("doctor.cti.skew", url=shown, skew=f"{skew:+.0f}"), t("doctor.fix.clock"))]
    return [Finding(True, t("doctor.cti.ok", url=shown))]


def check_nhn(store, settings) -> list[Finding]:
    from contiple_tui.errors import ContipleError
    from contiple_tui.sms.factory import gateway_by_name, gateway_name

    found: list[Finding] = []
    for service in store.services.list():
        if not service.sms_enabled or gateway_name(settings, service) != "nhn":
            continue
        try:
            gateway = gateway_by_name(settings, service, "nhn")
            try:
                numbers = gateway.sender_numbers()
            finally:
                gateway.close()
        except ContipleError as exc:
            fix = t("doctor.fix.nhn", service=service.code)
            found.append(Finding(False, t("doctor.nhn.bad", service=service.code, why=exc.message()), fix))
            continue
        found.append(Finding(True, t("doctor.nhn.ok", service=service.code, count=len(numbers))))
    return found


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:,.0f} MB"


def run_doctor(args: argparse.Namespace) -> int:
    from contiple_tui import config as config_mod
    from contiple_tui.errors import ConfigError, ContipleError
    from contiple_tui.store import DB_FILENAME, Store

    findings = [Finding(True, t("doctor.versions", python=sys.version.split()[0], package=__version__))]
    findings += check_terminal()
    try:
        cfg = config_mod.load(data_dir=args.data_dir, lang=args.lang, theme=args.theme, cti_url=args.cti_url)
    except ConfigError as exc:
        return _report(findings + [Finding(False, exc.message(), t("doctor.fix.config"))])
    db_path = cfg.data_dir / DB_FILENAME
    data = check_data(cfg.data_dir, db_path)
    findings += data
    findings.append(Finding(True, t("doctor.config.ok", file=cfg.config_file)))
    findings += check_cti(cfg.cti_url, cfg.cti_token)
    from contiple_tui.store.migrations import SCHEMA_VERSION

    # The NHN check reads the services through the store, which would upgrade an older database.
    if db_path.exists() and all(f.ok for f in data) and _schema_version(db_path) == SCHEMA_VERSION:
        try:
            store = Store(db_path)
        except ContipleError as exc:
            findings.append(Finding(False, exc.message(), t("doctor.fix.backup")))
        else:
            try:
                findings += check_nhn(store, cfg.sms)
            finally:
                store.close()
    return _report(findings)


def _report(findings: list[Finding]) -> int:
    problems = [f for f in findings if not f.ok]
    for f in findings:
        print(clean(f"{'✔' if f.ok else '✘'} {f.text}", None))
        if f.fix:
            print(clean(f"    → {f.fix}", None))
    print(t("doctor.all_well") if not problems else t("doctor.problems", count=len(problems)))
    return 0 if not problems else 1
