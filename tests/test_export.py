"""Excel exports read back with openpyxl: the callback list (1-2) and the processing status (1-5)."""

from __future__ import annotations

import csv
import os
import random
import shutil
import struct
import subprocess
import sys
import zipfile
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from contiple_tui.core import callbacks as cb
from contiple_tui.domain.display import display_width
from contiple_tui.domain.models import CallbackStatus
from contiple_tui.domain.phone import format_phone
from contiple_tui.errors import PermissionDenied, ValidationError
from contiple_tui.export import export_callbacks, export_processing_status
from contiple_tui.store import DB_FILENAME, Store

from .conftest import FIXED_NOW, run_cli

pytestmark = pytest.mark.both_engines  # SQLite and PostgreSQL: the same rules

SEOUL = ZoneInfo("Asia/Seoul")
HEADERS = {
    "en": [
        "Requested at",
        "Service",
        "Customer phone",
        "Customer name",
        "IVR route",
        "Status",
        "Requests",
        "Assignee",
        "Assigned by",
        "Assigned at",
        "Attempts",
        "Last attempt",
        "Completed at",
        "Completed by",
        "Phone valid",
    ],
    "ko": [
        "요청일시",
        "서비스",
        "고객 전화",
        "고객명",
        "IVR 경로",
        "상태",
        "요청 횟수",
        "담당자",
        "할당자",
        "할당일시",
        "전화 시도",
        "마지막 시도",
        "완료일시",
        "완료자",
        "번호 확인",
    ],
}
STATUS = {
    "en": {"unassigned": "Unassigned", "assigned": "Not processed", "completed": "Completed"},
    "ko": {"unassigned": "미할당", "assigned": "미처리", "completed": "완료"},
}


@pytest.fixture
def world(demo_store):
    users = {u.login: u for u in demo_store.users.list()}
    services = {s.code: s for s in demo_store.services.list()}
    return demo_store, users, services


def _rows(path: Path, sheet: int = 0) -> tuple[object, list[tuple]]:
    wb = load_workbook(path)
    ws = wb.worksheets[sheet]
    return ws, list(ws.iter_rows(values_only=True))


def _local(ts: int | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, SEOUL).replace(tzinfo=None)


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    """A folder of its own for the files written (the demo store lives in tmp_path)."""
    path = tmp_path / "exports"
    path.mkdir()
    return path


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


# -- the callback list -------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_callbacks_read_back(world, out_dir, lang):
    store, users, services = world
    admin, cs = users["admin"], services["cs"]
    query = cb.CallbackQuery()
    out = out_dir / "callbacks.xlsx"
    calls: list[tuple[int, int]] = []
    n = export_callbacks(
        store, admin, cs, query, out, lang=lang, progress=lambda d, t: calls.append((d, t)), chunk=50
    )
    expected = cb.count(store, admin, cs, query)
    assert n == expected > 100
    ws, rows = _rows(out)
    assert list(rows[0]) == HEADERS[lang]
    assert len(rows) - 1 == expected
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == f"A1:O{expected + 1}"
    assert ws["A1"].font.b and ws["A2"].is_date
    assert all(ws.column_dimensions[c].width >= display_width(h) for c, h in zip("ABCDEFGHIJKLMNO", rows[0]))
    # progress: once before the first row, then per page of 50, ending at the total
    assert calls[0] == (0, expected) and calls[-1] == (expected, expected)
    assert len(calls) == 1 + -(-expected // 50)

    first = cb.search(store, admin, cs, query, limit=1)[0]
    row = rows[1]
    assert isinstance(row[0], datetime) and row[0] == _local(first.requested_at)
    assert row[1] == cs.name
    assert row[2] == format_phone(first.customer_phone) and "-" in row[2]
    assert row[3] == first.customer_name
    route = next(r for r in cs.ivr_routes if r.code == first.ivr_route)
    assert row[4] == f"{route.code} {route.name}"
    assert row[5] == STATUS[lang][str(first.status)]
    assert row[6] == first.request_count and row[10] == first.attempts
    names = {u.id: u.name for u in users.values()}
    assert row[7] == names.get(first.assignee_id) and row[8] == names.get(first.assigned_by)
    assert row[9] == _local(first.assigned_at) and row[12] == _local(first.completed_at)

    # every row, in the list's order (newest first), across the page boundaries
    everything = cb.search(store, admin, cs, query, limit=100_000)
    assert [r[0] for r in rows[1:]] == [_local(c.requested_at) for c in everything]
    assert [r[2] for r in rows[1:]] == [format_phone(c.customer_phone) for c in everything]


def test_filters_and_several_services(world, out_dir):
    store, users, services = world
    admin = users["admin"]
    query = cb.CallbackQuery(
        date_from=date(2026, 10, 20), date_to=date(2026, 11, 20), status=CallbackStatus.COMPLETED
    )
    chosen = [services["cs"], services["sales"]]
    out = out_dir / "two.xlsx"
    n = export_callbacks(store, admin, chosen, query, out, lang="en")
    counts = [cb.count(store, admin, s, query) for s in chosen]
    assert n == sum(counts) and all(counts)
    _, rows = _rows(out)
    assert [r[1] for r in rows[1:]] == ["고객센터"] * counts[0] + ["영업팀"] * counts[1]  # one after another
    assert {r[5] for r in rows[1:]} == {"Completed"}
    lo, hi = datetime(2026, 10, 20), datetime(2026, 11, 21)
    assert all(lo <= r[0] < hi for r in rows[1:])
    for part in (rows[1 : 1 + counts[0]], rows[1 + counts[0] :]):
        assert [r[0] for r in part] == sorted((r[0] for r in part), reverse=True)


def test_agent_exports_only_their_own(world, out_dir):
    store, users, services = world
    agent, cs = users["agent02"], services["cs"]
    out = out_dir / "mine.xlsx"
    n = export_callbacks(store, agent, cs, cb.CallbackQuery(), out, lang="ko")
    assert n == cb.count(store, agent, cs, cb.CallbackQuery()) > 0
    assert n < cb.count(store, users["admin"], cs, cb.CallbackQuery())
    _, rows = _rows(out)
    assert len(rows) == n + 1 and {r[7] for r in rows[1:]} == {agent.name}


def test_malformed_phone_is_flagged(world, out_dir):
    store, users, services = world
    cs = services["cs"]
    cb.intake(
        store,
        cs,
        request_id="bad-1",
        phone="12ab",
        name="홍길동",
        ivr_route="9",
        requested_at=FIXED_NOW + timedelta(days=1),
    )
    out = out_dir / "bad.xlsx"
    export_callbacks(store, users["admin"], cs, cb.CallbackQuery(), out, lang="ko")
    _, rows = _rows(out)
    assert rows[1][2:6] == ("12ab", "홍길동", "9 상담원 연결 대기", "미할당")
    assert rows[1][14] == "형식 오류" and {r[14] for r in rows[2:]} == {"정상"}


def test_outside_text_is_never_a_formula(world, out_dir):
    """Names and numbers come from the CTI: '=…' stays text, control characters are dropped."""
    store, users, services = world
    cs = services["cs"]
    cb.intake(
        store,
        cs,
        request_id="evil-1",
        phone="=1+1",
        name='=HYPERLINK("http://x","y")\x07',
        ivr_route="#N/A",
        requested_at=FIXED_NOW + timedelta(days=1),
    )
    out = out_dir / "evil.xlsx"
    export_callbacks(store, users["admin"], cs, cb.CallbackQuery(), out, lang="en")
    ws, rows = _rows(out)
    assert rows[1][2:5] == ("=1+1", '=HYPERLINK("http://x","y")', "#N/A")
    assert [ws.cell(2, col).data_type for col in (3, 4, 5)] == ["s", "s", "s"]


def test_more_rows_than_a_sheet_holds(world, out_dir, monkeypatch):
    from contiple_tui.export import xlsx

    monkeypatch.setattr(xlsx, "SHEET_ROWS", 101)  # 100 rows and the header per sheet
    store, users, services = world
    admin, cs = users["admin"], services["cs"]
    out = out_dir / "split.xlsx"
    n = export_callbacks(store, admin, cs, cb.CallbackQuery(), out, lang="en", chunk=33)
    wb = load_workbook(out)
    assert wb.sheetnames[:2] == ["Callbacks", "Callbacks (2)"] and len(wb.sheetnames) == -(-n // 100)
    phones = []
    for ws in wb.worksheets:
        rows = list(ws.iter_rows(values_only=True))
        assert list(rows[0]) == HEADERS["en"] and ws.freeze_panes == "A2"
        assert ws.auto_filter.ref == f"A1:O{len(rows)}" and len(rows) <= 101
        phones += [r[2] for r in rows[1:]]
    assert phones == [
        format_phone(c.customer_phone) for c in cb.search(store, admin, cs, cb.CallbackQuery(), limit=100_000)
    ]


def test_refused_without_phone(world, out_dir):
    store, users, services = world
    out = out_dir / "no.xlsx"
    with pytest.raises(PermissionDenied):
        export_callbacks(store, users["agent11"], services["cs"], cb.CallbackQuery(), out, lang="en")
    with pytest.raises(PermissionDenied):  # not a member of sales
        export_callbacks(store, users["agent02"], services["sales"], cb.CallbackQuery(), out, lang="en")
    assert list(out_dir.iterdir()) == []


def test_unwritable_path(world, out_dir):
    store, users, services = world
    admin, cs = users["admin"], services["cs"]
    missing = out_dir / "no-such-folder" / "x.xlsx"
    with pytest.raises(ValidationError) as err:
        export_callbacks(store, admin, cs, cb.CallbackQuery(), missing, lang="en")
    assert err.value.key == "err.export_path"
    text = err.value.message("en")
    assert str(missing) in text and "does not exist" in text and "\n" not in text
    assert "폴더가 없습니다" in err.value.message("ko")
    with pytest.raises(ValidationError) as err:  # a folder in the way
        export_callbacks(store, admin, cs, cb.CallbackQuery(), out_dir, lang="en")
    assert "folder" in err.value.message("en")
    assert list(out_dir.iterdir()) == []


def test_failure_midway_leaves_no_half_file(world, out_dir):
    store, users, services = world
    out = out_dir / "keep.xlsx"
    out.write_bytes(b"the previous export")

    def boom(done, total):
        if done:
            raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        export_callbacks(
            store, users["admin"], services["cs"], cb.CallbackQuery(), out, lang="en", progress=boom, chunk=10
        )
    assert out.read_bytes() == b"the previous export" and _leftovers(out_dir) == []
    assert _open_files_in(out_dir) == []  # closed at once, not when collected (the console runs for days)


def test_disk_full_midway(world, out_dir, monkeypatch):
    """An OSError while rows are written (here ENOSPC on the third megabyte-sized write) is the
    export-path error, and leaves neither a file nor an open handle."""
    import errno

    from contiple_tui.export import sheetwriter

    writes = []
    real_write = sheetwriter.Worksheet._write

    def write(self, xml):
        writes.append(len(xml))
        if len(writes) == 3:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_write(self, xml)

    monkeypatch.setattr(sheetwriter, "FLUSH_CHARS", 50_000)
    monkeypatch.setattr(sheetwriter.Worksheet, "_write", write)
    store, users, services = world
    with pytest.raises(ValidationError) as err:
        export_callbacks(
            store, users["admin"], services["cs"], cb.CallbackQuery(), out_dir / "full.xlsx", lang="en"
        )
    assert err.value.key == "err.export_path" and len(writes) == 3
    assert list(out_dir.iterdir()) == [] and _open_files_in(out_dir) == []


def _open_files_in(folder: Path) -> list[str]:
    """Files in ``folder`` (deleted ones included) that this process still holds open."""
    fds = Path("/proc/self/fd")
    if not fds.is_dir():
        pytest.skip("needs /proc/self/fd")
    found = []
    for fd in fds.iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith(f"{folder}{os.sep}"):
            found.append(target)
    return found


def test_reversed_period_is_refused_before_any_file(world, out_dir):
    store, users, services = world
    out = out_dir / "r.xlsx"
    with pytest.raises(ValidationError) as err:
        export_callbacks(
            store,
            users["admin"],
            services["cs"],
            cb.CallbackQuery(date_from=date(2026, 11, 2), date_to=date(2026, 11, 1)),
            out,
            lang="en",
        )
    assert err.value.key == "err.date_range_reversed" and list(out_dir.iterdir()) == []


# -- processing status -------------------------------------------------------------------------------


@pytest.mark.parametrize("monthly", [False, True])
def test_processing_status_read_back(world, out_dir, monthly):
    store, users, services = world
    admin, cs = users["admin"], services["cs"]
    first, last = date(2026, 9, 20), date(2026, 11, 30)  # the demo's 60 days and a few empty ones
    out = out_dir / "status.xlsx"
    n = export_processing_status(store, admin, cs, first, last, monthly, out, lang="ko")
    periods, agents = cb.processing_status(store, admin, cs, first, last, monthly=monthly)
    wb = load_workbook(out)
    assert wb.sheetnames == ["콜백 처리현황", "상담원별"]
    ws, rows = wb.worksheets[0], list(wb.worksheets[0].iter_rows(values_only=True))
    assert list(rows[0]) == ["기간", "요청", "할당", "완료", "미처리", "처리율(%)"]
    assert n == (3 if monthly else (last - first).days + 1) == len(rows) - 2
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == f"A1:F{n + 1}"
    by_period = {p.period: p for p in periods}
    for row in rows[1:-1]:
        assert isinstance(row[0], datetime)
        key = row[0].strftime("%Y-%m" if monthly else "%Y-%m-%d")
        p = by_period.get(key, cb.StatusRow(key, 0, 0, 0))
        assert row[1:5] == (p.requested, p.assigned, p.completed, p.not_processed)
        assert row[5] == ("—" if p.rate is None else round(p.rate, 1))
    assert rows[-1][0] == "합계" and rows[-1][1] == sum(p.requested for p in periods)
    if not monthly:
        assert rows[-2][5] == "—"  # 2026-11-30: after the demo's data, nothing assigned
    sheet = list(wb.worksheets[1].iter_rows(values_only=True))
    assert list(sheet[0]) == ["상담원", "로그인", "할당", "완료", "미처리", "처리율(%)"]
    assert len(sheet) - 1 == len(agents)
    assert [(r[1], r[2], r[3]) for r in sheet[1:]] == [(u.login, a.assigned, a.completed) for u, a in agents]


def test_processing_status_is_admin_only(world, out_dir):
    store, users, services = world
    with pytest.raises(PermissionDenied):
        export_processing_status(
            store,
            users["agent01"],
            services["cs"],
            date(2026, 11, 1),
            date(2026, 11, 2),
            False,
            out_dir / "s.xlsx",
            lang="en",
        )
    assert list(out_dir.iterdir()) == []


# -- the command line (cron jobs) ----------------------------------------------------------------------


def test_cli_round_trip(demo_dir, out_dir, capsys):
    out = out_dir / "out" / "cs.xlsx"
    out.parent.mkdir()
    result = run_cli(
        "--data-dir",
        str(demo_dir),
        "--user",
        "admin",
        "export",
        "callbacks",
        "--service",
        "cs",
        "--from",
        "2026-11-01",
        "--status",
        "completed",
        "-o",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    store = Store(demo_dir / DB_FILENAME)
    try:
        users = {u.login: u for u in store.users.list()}
        query = cb.CallbackQuery(date_from=date(2026, 11, 1), status=CallbackStatus.COMPLETED)
        expected = cb.count(store, users["admin"], store.services.get_by_code("cs"), query)
        every = sum(cb.count(store, users["admin"], s, cb.CallbackQuery()) for s in store.services.list())
    finally:
        store.close()
    assert result.stdout.strip() == f"{out}: {expected} rows"
    _, rows = _rows(out)
    assert len(rows) - 1 == expected > 0 and rows[0][0] == "Requested at"
    assert _leftovers(out.parent) == []
    # no filters: every callback of the user's services, in Korean (in process: the same main())
    from contiple_tui.cli import main

    everything = out_dir / "out" / "all.xlsx"
    assert (
        main(
            [
                "--data-dir",
                str(demo_dir),
                "--user",
                "admin",
                "--lang",
                "ko",
                "export",
                "callbacks",
                "-o",
                str(everything),
            ]
        )
        == 0
    )
    assert capsys.readouterr().out.strip() == f"{everything}: {every}건"
    _, rows = _rows(everything)
    assert len(rows) - 1 == every and rows[0][0] == "요청일시"
    assert {r[1] for r in rows[1:]} == {"고객센터", "영업팀", "A/S센터"}


REFUSALS = [
    (["--from", "2026-11-30", "--to", "2026-11-01"], "reversed"),
    (["--from", "2026-02-30"], "'2026-02-30' is not a date"),
    (["-o", "/no/such/dir/x.xlsx"], "Cannot write the export file /no/such/dir/x.xlsx"),
    (["--to", "yesterday"], "'yesterday' is not a date"),
    (["--service", "nope"], "Unknown service 'nope'"),
    (["--user", "agent02", "--service", "sales"], "do not belong to the service 'sales'"),
    (["--user", "agent11"], "Not allowed: callback menus"),
]
REFUSAL_IDS = [
    "reversed",
    "bad-date",
    "unwritable",
    "not-a-date",
    "unknown-service",
    "not-member",
    "no-phone",
]


def _refusal_args(demo_dir: Path, out: Path, args: list[str]) -> list[str]:
    user = ["--user", "admin"]
    if "--user" in args:
        i = args.index("--user")
        user, args = args[i : i + 2], args[:i] + args[i + 2 :]
    output = [] if "-o" in args else ["-o", str(out)]
    return ["--data-dir", str(demo_dir), *user, "export", "callbacks", *args, *output]


@pytest.mark.parametrize("args, needle", REFUSALS[:3], ids=REFUSAL_IDS[:3])
def test_cli_refusals(demo_dir, out_dir, args, needle):
    """As a cron job sees them: exit 2, one line, no traceback, no file."""
    out = out_dir / "x.xlsx"
    result = run_cli(*_refusal_args(demo_dir, out, args))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert needle in lines[0]
    assert not out.exists() and _leftovers(out_dir) == []


@pytest.mark.parametrize("args, needle", REFUSALS[3:], ids=REFUSAL_IDS[3:])
def test_cli_refusals_in_process(demo_dir, out_dir, capsys, args, needle):
    """The other refusals through the same main(), without an interpreter start each."""
    from contiple_tui.cli import main

    out = out_dir / "x.xlsx"
    assert main(_refusal_args(demo_dir, out, args)) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert captured.out == "" and len(lines) == 1 and needle in lines[0], captured.err
    assert not out.exists() and _leftovers(out_dir) == []


def test_export_does_not_import_textual():
    code = "import sys, contiple_tui.export; print(any(m.split('.')[0] == 'textual' for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- the writer (contiple_tui/export/sheetwriter.py) ----------------------------------------------------


def _book(path: Path):
    from contiple_tui.export.sheetwriter import Workbook

    return Workbook(path)


def test_writer_text_stays_text(tmp_path):
    """Markup, quotes, white space, CR, Excel's own _xHHHH_ escapes and the length limit; characters
    XML 1.0 cannot carry are dropped."""
    from contiple_tui.export.sheetwriter import CELL_CHARS

    values = [
        "a<b>&\"c'",
        " both ",
        "tab\tx",
        "line\nbreak\r\nx",
        "bell\x07\x00\ud800\ufffe!",
        "=SUM(A1:A2)",
        "#DIV/0!",
        "true",
        "1e3",
        "가" * (CELL_CHARS + 5),
        "",
        "_x0041_",
    ]
    out = tmp_path / "text.xlsx"
    with _book(out) as wb:
        ws = wb.add_sheet("T", [10] * len(values))
        ws.append(values)
    ws = load_workbook(out).worksheets[0]
    got = [ws.cell(1, col) for col in range(1, len(values) + 1)]
    assert [c.value for c in got[:9]] == [
        "a<b>&\"c'",
        " both ",
        "tab\tx",
        "line\nbreak\r\nx",
        "bell!",
        "=SUM(A1:A2)",
        "#DIV/0!",
        "true",
        "1e3",
    ]
    assert {c.data_type for c in got[:10]} == {"s"}
    assert got[9].value == "가" * CELL_CHARS
    with zipfile.ZipFile(out) as zf:
        xml = zf.read("xl/worksheets/sheet1.xml").decode()
    assert '<t xml:space="preserve"> both </t>' in xml and "<f>" not in xml
    assert "_x005F_x0041_" in xml  # Excel shows "_x0041_", not "A"


def test_writer_numbers_and_dates(tmp_path):
    from datetime import UTC

    from contiple_tui.export.sheetwriter import serial

    out = tmp_path / "n.xlsx"
    when = datetime(2026, 11, 25, 10, 30, 15, 500_000)
    with _book(out) as wb:
        ws = wb.add_sheet("N", [12] * 8)
        pct = wb.style("0.0")
        ws.append(
            [
                1,
                -2.5,
                True,
                when,
                date(2026, 2, 1),
                wb.cell(12.345, pct),
                wb.cell(date(2026, 2, 1), wb.style("yyyy-mm")),
                None,
                "after a gap",
            ]
        )
        for bad in (
            float("nan"),
            float("inf"),
            datetime(1900, 2, 28),
            date(1899, 12, 31),
            when.replace(tzinfo=UTC),
        ):
            with pytest.raises(ValueError):
                wb.cell(bad)
        with pytest.raises(TypeError):
            wb.cell(object())
    ws = load_workbook(out).worksheets[0]
    row = [ws.cell(1, col) for col in range(1, 10)]
    assert [c.value for c in row[:3]] == [1, -2.5, True]
    assert row[3].value == when and row[3].number_format == "yyyy-mm-dd hh:mm"
    assert row[4].value == datetime(2026, 2, 1) and row[4].number_format == "yyyy-mm-dd"
    assert row[5].value == 12.345 and row[5].number_format == "0.0"
    assert row[6].is_date and row[6].number_format == "yyyy-mm"
    assert row[7].value is None and row[8].value == "after a gap"
    # Excel's serials (as Excel itself shows them): 1900-03-01 is 61, 2026-11-25 is 46351
    assert serial(date(1900, 3, 1)) == 61 and serial(date(2026, 11, 25)) == 46351
    assert serial(datetime(2026, 11, 25, 18)) == 46351.75


@pytest.mark.parametrize(
    "zone",
    [
        "Asia/Seoul",
        "America/New_York",
        "Europe/Berlin",
        "Australia/Lord_Howe",
        "Asia/Kathmandu",
        "America/St_Johns",
    ],
)
def test_writer_timestamps_match_the_slow_path(tmp_path, zone):
    """The fast path (a UTC offset per day) writes what fromtimestamp writes, summer time included."""
    tz = ZoneInfo(zone)
    rng = random.Random(zone)
    stamps = [rng.randrange(1_600_000_000, 1_900_000_000) for _ in range(2000)]
    for year in (2025, 2026):  # every 10 minutes around both of the year's changes, if any
        for month, day in ((3, 8), (3, 29), (4, 5), (10, 5), (10, 25), (11, 1)):
            start = int(datetime(year, month, day, tzinfo=tz).timestamp()) - 86400
            stamps += range(start, start + 3 * 86400, 600)
    with _book(tmp_path / "ts.xlsx") as wb:
        wb.add_sheet("S")
        for ts in stamps:
            assert wb.timestamp(ts, tz) == wb.cell(datetime.fromtimestamp(ts, tz).replace(tzinfo=None)), ts


def test_writer_continues_before_a_part_needs_zip64(world, out_dir, monkeypatch):
    """A sheet's XML must stay under 4 GiB (no ZIP64, which Excel may refuse): past that the export
    continues on a new sheet, as past Excel's row limit."""
    from contiple_tui.export import sheetwriter

    monkeypatch.setattr(sheetwriter, "SHEET_BYTES", 60_000)
    store, users, services = world
    admin, cs = users["admin"], services["cs"]
    out = out_dir / "bytes.xlsx"
    n = export_callbacks(store, admin, cs, cb.CallbackQuery(), out, lang="en")
    wb = load_workbook(out)
    assert len(wb.sheetnames) > 2
    phones = []
    for ws in wb.worksheets:
        rows = list(ws.iter_rows(values_only=True))
        assert (
            list(rows[0]) == HEADERS["en"]
            and ws.freeze_panes == "A2"
            and ws.auto_filter.ref == f"A1:O{len(rows)}"
        )
        phones += [r[2] for r in rows[1:]]
    assert len(phones) == n
    assert phones == [
        format_phone(c.customer_phone) for c in cb.search(store, admin, cs, cb.CallbackQuery(), limit=100_000)
    ]
    with zipfile.ZipFile(out) as zf:
        sizes = [i.file_size for i in zf.infolist() if i.filename.startswith("xl/worksheets/")]
    assert max(sizes) < 60_000 + 4096  # the limit, and the one row written after the check


def test_package_parts(world, out_dir):
    """What Excel checks before it reads a cell: every part declared and related, no ZIP64 record,
    a hidden filter name per filtered sheet (LibreOffice drops the filter without it)."""
    store, users, services = world
    out = out_dir / "parts.xlsx"
    export_processing_status(
        store, users["admin"], services["cs"], date(2026, 11, 1), date(2026, 11, 30), False, out, lang="ko"
    )
    with zipfile.ZipFile(out) as zf:
        assert zf.testzip() is None
        names = set(zf.namelist())
        assert names == {
            "[Content_Types].xml",
            "_rels/.rels",
            "docProps/core.xml",
            "xl/workbook.xml",
            "xl/_rels/workbook.xml.rels",
            "xl/styles.xml",
            "xl/worksheets/sheet1.xml",
            "xl/worksheets/sheet2.xml",
        }
        types = zf.read("[Content_Types].xml").decode()
        assert all(
            f'PartName="/{n}"' in types for n in names if n.endswith(".xml") and n != "[Content_Types].xml"
        )
        rels = zf.read("xl/_rels/workbook.xml.rels").decode()
        assert 'Target="worksheets/sheet2.xml"' in rels and 'Target="styles.xml"' in rels
        book = zf.read("xl/workbook.xml").decode()
        assert book.count('name="_xlnm._FilterDatabase"') == 2
        assert "'콜백 처리현황'!$A$1:$F$31" in book
        with open(out, "rb") as f:
            data = f.read()
        for info in zf.infolist():
            signature, version, *_, extra = struct.unpack("<4sHHHHHIIIHH", data[info.header_offset :][:30])
            assert signature == b"PK\x03\x04"
            assert version <= 20 and extra == 0, info.filename  # no ZIP64 in the local headers
            assert info.extract_version <= 20 and info.extra == b""
    assert b"PK\x06\x06" not in data  # no ZIP64 end of central directory either
    assert load_workbook(out).properties.title.startswith("콜백 처리현황 ")


# -- LibreOffice reads it too --------------------------------------------------------------------------------

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


def _as_shown(cell) -> str:
    """The text a spreadsheet shows for an openpyxl cell with the formats these exports use."""
    value = cell.value
    if value is None:
        return ""
    if isinstance(value, datetime):
        python = {"yyyy-mm-dd hh:mm": "%Y-%m-%d %H:%M", "yyyy-mm-dd": "%Y-%m-%d", "yyyy-mm": "%Y-%m"}
        return value.strftime(python[cell.number_format])
    if isinstance(value, float) and cell.number_format == "0.0":
        return f"{value:.1f}"
    return str(value)


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_reads_what_openpyxl_reads(world, out_dir, tmp_path):
    """Converted to CSV by LibreOffice, every sheet shows what openpyxl reads; and LibreOffice keeps
    the auto-filter when it saves the file again."""
    store, users, services = world
    cs = services["cs"]
    cb.intake(
        store,
        cs,
        request_id="evil-lo",
        phone="=1+1",
        name='=HYPERLINK("http://x","y") & <b>',
        ivr_route="#N/A",
        requested_at=FIXED_NOW + timedelta(days=1),
    )
    files = [out_dir / "callbacks.xlsx", out_dir / "status.xlsx"]
    export_callbacks(store, users["admin"], list(services.values()), cb.CallbackQuery(), files[0], lang="ko")
    export_processing_status(
        store, users["admin"], cs, date(2026, 9, 1), date(2026, 11, 30), True, files[1], lang="en"
    )
    profile = f"-env:UserInstallation={(tmp_path / 'lo-profile').as_uri()}"
    csv_dir, xlsx_dir = tmp_path / "csv", tmp_path / "xlsx"
    # UTF-8, every sheet (-1), cells as shown
    csv_filter = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true,false,false,-1"
    for target, outdir in ((csv_filter, csv_dir), ("xlsx", xlsx_dir)):
        done = subprocess.run(
            [
                SOFFICE,
                profile,
                "--headless",
                "--convert-to",
                target,
                "--outdir",
                str(outdir),
                *map(str, files),
            ],
            check=False,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
    shown: dict[str, list[list[str]]] = {}
    for path in files:
        for ws in load_workbook(path).worksheets:
            expected = [[_as_shown(c) for c in row] for row in ws.iter_rows()]
            with open(csv_dir / f"{path.stem}-{ws.title}.csv", newline="", encoding="utf-8") as f:
                shown[ws.title] = list(csv.reader(f))
            assert len(shown[ws.title]) == len(expected) > 1 and shown[ws.title] == expected, (
                path.name,
                ws.title,
            )
    assert ["=1+1", '=HYPERLINK("http://x","y") & <b>', "#N/A"] in [r[2:5] for r in shown["콜백"]]
    assert shown["Processing status"][1][0] == "2026-09" and shown["By agent"][0][0] == "Agent"
    resaved = load_workbook(xlsx_dir / "callbacks.xlsx").worksheets[0]
    assert resaved.auto_filter.ref == load_workbook(files[0]).worksheets[0].auto_filter.ref
