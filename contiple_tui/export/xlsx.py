"""Excel exports (엑셀 다운로드) of the callback list (1-2) and the processing status (1-5).

Headless: the standard library only (our own streaming writer, sheetwriter.py), never textual.
Memory stays bounded however many rows match: rows are read from the store one keyset page at a
time and rows are compressed into the file as they are appended. The workbook is written to a
temporary file beside the target and renamed over it at the end, so a reader never sees half a file
and a failure leaves none.
"""

from __future__ import annotations

import errno
import os
import secrets
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from contiple_tui.core import callbacks as cb
from contiple_tui.domain import permissions as perm
from contiple_tui.domain.display import display_width, sms_result_text
from contiple_tui.domain.models import CallbackStatus, Service, User
from contiple_tui.domain.phone import format_phone
from contiple_tui.errors import PermissionDenied, ValidationError
from contiple_tui.export.sheetwriter import Cell, Workbook, Worksheet, column_letter
from contiple_tui.i18n import t
from contiple_tui.store import Store

Progress = Callable[[int, int], None]

# The callback list's columns: message key (under "export.col.") and the width of typical data in
# terminal cells (Hangul counts double); None: measured from the data known before writing.
CALLBACK_COLUMNS: tuple[tuple[str, int | None], ...] = (
    ("requested_at", 19),
    ("service", None),
    ("phone", 13),
    ("customer", 8),
    ("ivr_route", None),
    ("status", None),
    ("requests", 4),
    ("assignee", None),
    ("assigned_by", None),
    ("assigned_at", 19),
    ("attempts", 4),
    ("last_attempt", 19),
    ("completed_at", 19),
    ("completed_by", None),
    ("phone_valid", None),
)
STATUS_COLUMNS = ("period", "requested", "assigned", "completed", "not_processed", "rate")
AGENT_COLUMNS = ("agent", "login", "assigned", "completed", "not_processed", "rate")
NO_RATE = "—"  # processing rate with nothing assigned
MAX_WIDTH = 50
SHEET_ROWS = 1_048_576  # Excel's limit per sheet, header included: more rows go on to a next sheet


class ExportPathError(ValidationError):
    """The export file cannot be written: err.export_path, with the OS reason in the user's language."""

    def __init__(self, path: Path, exc: OSError) -> None:
        super().__init__("err.export_path", path=path, reason=exc.strerror or str(exc))
        self.errno = exc.errno

    def message(self, lang: str | None = None) -> str:
        reason = self.params["reason"]
        name = errno.errorcode.get(self.errno or 0)
        if self.errno == errno.ENOENT and Path(str(self.params["path"])).parent.is_dir():
            name = None  # the folder is there (e.g. /proc): the system's own words are better
        key = f"export.reason.{name}"
        if name and t(key, lang) != key:
            reason = t(key, lang)
        return t(self.key, lang, path=self.params["path"], reason=reason)


# -- the callback list (1-2) ------------------------------------------------------------------------


def export_callbacks(
    store: Store,
    user: User,
    service: Service | Sequence[Service],
    query: cb.CallbackQuery,
    path: str | os.PathLike[str],
    *,
    lang: str,
    progress: Progress | None = None,
    chunk: int = 5000,
) -> int:
    """Write every callback matching ``query`` that ``user`` may see to the .xlsx file ``path``.

    ``service`` may be several services: their callbacks follow one another in one sheet, each
    service's newest first (the list's order); past Excel's 1,048,576 rows a sheet is continued on
    the next one, with its own header. The scope is the list's: admins every callback,
    agents their own; users who may not see the callback menus are refused (PermissionDenied).
    ``progress(done, total)`` is called before the first row and after every page of ``chunk`` rows.
    Returns the number of rows written (without the header).

    Raises ValidationError("err.export_path") when the file cannot be written; nothing is left behind.
    """
    services = [service] if isinstance(service, Service) else list(service)
    if not services:
        raise PermissionDenied(perm.Action.VIEW_CALLBACKS)
    if chunk < 1:
        raise ValueError(chunk)
    for svc in services:  # refuse before touching the file system
        perm.callback_list_scope(user, svc)
    totals = [cb.count(store, user, svc, query) for svc in services]  # also rejects a reversed period
    total = sum(totals)
    names = {u.id: u.name for u in store.users.list()}

    status_text = {status: t(f"status.{status}", lang) for status in CallbackStatus}
    valid_text = {True: t("export.phone_ok", lang), False: t("export.phone_bad", lang)}
    title = t("export.sheet.callbacks", lang)
    headers = [t(f"export.col.{key}", lang) for key, _ in CALLBACK_COLUMNS]
    widths = [_column_width(key, width, lang, services, names) for key, width in CALLBACK_COLUMNS]
    last_column = column_letter(len(CALLBACK_COLUMNS))
    done = 0
    with _atomic_target(path) as tmp, Workbook(tmp, title=title) as wb:
        sheets = 0

        def new_sheet() -> Worksheet:
            nonlocal sheets
            sheets += 1
            ws = wb.add_sheet(title if sheets == 1 else f"{title} ({sheets})", widths)
            ws.append(headers, wb.bold)
            return ws

        ws = new_sheet()
        # Text that repeats on many rows is escaped once (a Cell), not per row.
        text = wb.cell
        status_text = {status: text(s) for status, s in status_text.items()}
        valid_text = {ok: text(s) for ok, s in valid_text.items()}
        names = {user_id: text(n) for user_id, n in names.items()}
        if progress is not None:
            progress(0, total)
        stamp = wb.timestamp

        def name(user_id: int | None) -> Cell | str | None:
            return None if user_id is None else names.get(user_id, f"#{user_id}")

        for svc in services:
            zone = ZoneInfo(svc.timezone)  # Excel has no time zones: the wall-clock time there
            service_name = text(svc.name)
            routes = {r.code: text(f"{r.code} {r.name}") for r in svc.ivr_routes}

            after: tuple[int, int] | None = None
            while True:
                page = cb.search(store, user, svc, query, after=after, limit=chunk)
                for c in page:
                    if ws.rows == SHEET_ROWS or ws.full:
                        ws.auto_filter = f"A1:{last_column}{ws.rows}"
                        ws = new_sheet()
                    ws.append(
                        (
                            stamp(c.requested_at, zone),
                            service_name,
                            format_phone(c.customer_phone) if c.phone_valid else c.customer_phone,
                            c.customer_name,
                            None if c.ivr_route is None else routes.get(c.ivr_route) or c.ivr_route,
                            status_text[c.status],
                            c.request_count,
                            name(c.assignee_id),
                            name(c.assigned_by),
                            None if c.assigned_at is None else stamp(c.assigned_at, zone),
                            c.attempts,
                            None if c.last_attempt_at is None else stamp(c.last_attempt_at, zone),
                            None if c.completed_at is None else stamp(c.completed_at, zone),
                            name(c.completed_by),
                            valid_text[c.phone_valid],
                        )
                    )
                done += len(page)
                if progress is not None and page:
                    progress(done, max(total, done))  # rows may arrive while exporting
                if len(page) < chunk:
                    break
                after = (page[-1].requested_at, page[-1].id)
        ws.auto_filter = f"A1:{last_column}{ws.rows}"
    return done


def _column_width(
    key: str, width: int | None, lang: str, services: list[Service], names: dict[int, str]
) -> int:
    if width is None:
        if key == "service":
            width = max(display_width(s.name) for s in services)
        elif key == "ivr_route":
            width = max(
                (display_width(f"{r.code} {r.name}") for s in services for r in s.ivr_routes), default=4
            )
        elif key == "status":
            width = max(display_width(t(f"status.{s}", lang)) for s in CallbackStatus)
        elif key == "phone_valid":
            width = max(display_width(t(f"export.phone_{v}", lang)) for v in ("ok", "bad"))
        else:  # people
            width = max((display_width(n) for n in names.values()), default=8)
    # + room for the auto-filter's drop-down button in the header
    return min(MAX_WIDTH, max(width, display_width(t(f"export.col.{key}", lang)) + 3) + 2)


# -- processing status (1-5) ------------------------------------------------------------------------


def export_processing_status(
    store: Store,
    user: User,
    service: Service,
    first: date,
    last: date,
    monthly: bool,
    path: str | os.PathLike[str],
    *,
    lang: str,
) -> int:
    """The processing status of ``service`` over [first, last] per day (or month), and per agent.

    Sheet 1: period, requested, assigned, completed, not processed, processing rate (%, "—" with
    nothing assigned), every day (month) of the period including empty ones, and a total row.
    Sheet 2: the same per agent. Admins only (PermissionDenied otherwise). Returns the number of
    period rows.
    """
    periods, agents = cb.processing_status(store, user, service, first, last, monthly=monthly)
    by_period = {row.period: row for row in periods}
    keys = _period_keys(first, last, monthly)
    rows = [by_period.get(key, cb.StatusRow(key, 0, 0, 0)) for key in keys]
    known = set(keys)
    rows += [row for row in periods if row.period not in known]  # never drop what the store counted
    total = cb.StatusRow(
        t("export.total", lang),
        *(sum(getattr(r, f) for r in rows) for f in ("requested", "assigned", "completed")),
    )

    headers = [t(f"export.col.{key}", lang) for key in STATUS_COLUMNS]
    agent_headers = [t(f"export.col.{key}", lang) for key in AGENT_COLUMNS]
    people = [(u.name, u.login) if u is not None else (NO_RATE, NO_RATE) for u, _ in agents]
    kind = t("export.monthly" if monthly else "export.daily", lang)
    title = f"{t('export.sheet.status', lang)} {service.name} {first:%Y-%m-%d}~{last:%Y-%m-%d} ({kind})"
    with _atomic_target(path) as tmp, Workbook(tmp, title=title) as wb:
        ws = wb.add_sheet(t("export.sheet.status", lang), [max(display_width(h) + 5, 12) for h in headers])
        ws.append(headers, wb.bold)
        period_style = wb.style("yyyy-mm" if monthly else "yyyy-mm-dd")
        rate_style = wb.style("0.0")
        for row in rows:
            ws.append([_period_cell(wb, row.period, period_style), *_status_values(wb, row, rate_style)])
        ws.append([total.period, *_status_values(wb, total, wb.style("0.0", bold=True))], wb.bold)
        ws.auto_filter = f"A1:{column_letter(len(STATUS_COLUMNS))}{len(rows) + 1}"  # not the total

        name_width = max([display_width(n) for n, _ in people] + [display_width(agent_headers[0]) + 3])
        login_width = max([len(login) for _, login in people] + [display_width(agent_headers[1]) + 3])
        sheet = wb.add_sheet(
            t("export.sheet.agents", lang),
            [name_width + 2, login_width + 2, *(max(display_width(h) + 5, 12) for h in agent_headers[2:])],
        )
        sheet.append(agent_headers, wb.bold)
        for (name, login), (_, row) in zip(people, agents):
            sheet.append([name, login, *_status_values(wb, row, rate_style)[1:]])
        sheet.auto_filter = f"A1:{column_letter(len(AGENT_COLUMNS))}{len(agents) + 1}"
    return len(rows)


def _period_keys(first: date, last: date, monthly: bool) -> list[str]:
    keys: list[str] = []
    if monthly:
        year, month = first.year, first.month
        while (year, month) <= (last.year, last.month):
            keys.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    else:
        day = first
        while day <= last:
            keys.append(day.isoformat())
            day += timedelta(days=1)
    return keys


def _period_cell(wb: Workbook, period: str, style: int) -> Cell | str:
    """A real Excel date (the first of the month for months), falling back to the text."""
    try:
        value = date.fromisoformat(period if len(period) == 10 else f"{period}-01")
    except ValueError:
        return period
    return wb.cell(value, style)


def _status_values(wb: Workbook, row: cb.StatusRow, rate_style: int) -> list:
    rate = row.rate
    rate_cell = NO_RATE if rate is None else wb.cell(round(rate, 1), rate_style)
    return [row.requested, row.assigned, row.completed, row.not_processed, rate_cell]


# -- shared -----------------------------------------------------------------------------------------


@contextmanager
def _atomic_target(path: str | os.PathLike[str]) -> Iterator[Path]:
    """A new temporary file beside ``path``, renamed over it when the block succeeds.

    Readable by its owner only (0600, whatever the umask): an export holds customers' numbers. Any
    OSError (missing directory, no permission, disk full, a directory in the way) becomes one clear
    message.
    """
    target = Path(path)
    if target.is_dir():
        raise ExportPathError(target, IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR)))
    tmp = None
    try:
        for _ in range(100):
            candidate = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
            try:
                fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                continue
            try:
                os.fchmod(fd, 0o600)
            finally:
                os.close(fd)
            tmp = candidate
            break
        else:
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(target.parent))
        yield tmp
        os.replace(tmp, target)
        tmp = None
    except OSError as exc:
        raise ExportPathError(target, exc) from None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


# -- SMS history (2-3) ------------------------------------------------------------------------------

# One row per recipient: message key (under "export.col.") and the width of typical data.
SMS_HISTORY_COLUMNS: tuple[tuple[str, int], ...] = (
    ("sms_id", 6),
    ("sms_created", 17),
    ("sms_reserved", 17),
    ("sms_type", 5),
    ("sms_sender", 13),
    ("sms_user", 8),
    ("sms_template", 16),
    ("sms_title", 20),
    ("sms_body", 40),
    ("sms_status", 10),
    ("sms_recipient", 14),
    ("sms_state", 10),
    ("sms_code", 8),
    ("sms_message", 30),
    ("sms_gateway", 9),
    ("sms_request", 28),
)


def export_sms_history(
    store: Store,
    user: User,
    service: Service,
    f,
    path: str | os.PathLike[str],
    *,
    lang: str,
    progress: Progress | None = None,
) -> int:
    """Every recipient of every send matching ``f`` (from ``core.sms.history_filter``) to ``path``.

    One row per recipient, newest send first; times are real Excel dates in the service's time zone;
    a frozen header with an auto-filter. The scope is the history's: an agent's filter must be
    limited to their own sends (PermissionDenied otherwise). ``progress(done, total)`` counts sends.
    Returns the number of rows written (without the header).
    """
    from contiple_tui.core import sms  # Pillow and the SMS rules only when SMS is exported
    from contiple_tui.domain.sms_models import MessageStatus

    total = sms.history_count(store, user, service, f)  # checks the scope before touching the file
    zone = ZoneInfo(service.timezone)
    headers = [t(f"export.col.{key}", lang) for key, _ in SMS_HISTORY_COLUMNS]
    widths = [
        min(MAX_WIDTH, max(width, display_width(h) + 3) + 2)  # + room for the auto-filter's button
        for (_, width), h in zip(SMS_HISTORY_COLUMNS, headers, strict=True)
    ]
    last_column = column_letter(len(SMS_HISTORY_COLUMNS))
    title = t("export.sheet.sms_history", lang)
    rows = sends = 0
    sheets = 1
    last_send = None
    with _atomic_target(path) as tmp, Workbook(tmp, title=f"{title} {service.name}") as wb:
        text = wb.cell
        status_text = {s: text(t(f"sms.status.{s}", lang)) for s in MessageStatus}
        state_text: dict[str, Cell] = {}
        gateway_text = {"sandbox": text("SANDBOX"), "nhn": text("NHN Cloud")}
        ws = wb.add_sheet(title, widths)
        ws.append(headers, wb.bold)
        if progress is not None:
            progress(0, total)
        for (
            message_id,
            created,
            reserved,
            send_type,
            sender_no,
            user_name,
            template_name,
            msg_title,
            body,
            status,
            _rid,
            number,
            state,
            code,
            result_message,
            gateway,
            request_id,
        ) in store.sms.history_rows(service.id, f):
            if message_id != last_send:
                last_send = message_id
                sends += 1
                if progress is not None and sends % 500 == 0:
                    progress(sends, max(total, sends))
            if ws.rows == SHEET_ROWS:
                ws.auto_filter = f"A1:{last_column}{ws.rows}"
                sheets += 1
                ws = wb.add_sheet(f"{title} ({sheets})", widths)
                ws.append(headers, wb.bold)
            if state == "pending" and status == MessageStatus.UNKNOWN:
                state = "unknown"  # not "sending": whether it went out is not known yet (as on screen)
            state_cell = state_text.get(state)
            if state_cell is None:
                state_cell = state_text[state] = text(t(f"smsh.state.{state}", lang))
            ws.append(
                (
                    message_id,
                    wb.timestamp(created, zone),
                    None if reserved is None else wb.timestamp(reserved, zone),
                    str(send_type),
                    format_phone(sender_no),
                    user_name,
                    template_name,
                    msg_title or None,
                    body,
                    status_text.get(status) or status,
                    format_phone(number),
                    state_cell,
                    code,
                    sms_result_text(code, result_message, lang) or None,
                    gateway_text.get(gateway) or gateway,
                    request_id,
                )
            )
            rows += 1
        ws.auto_filter = f"A1:{last_column}{ws.rows}"
        if progress is not None:
            progress(sends, max(total, sends))
    return rows
