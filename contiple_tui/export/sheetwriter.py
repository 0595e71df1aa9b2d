"""A small streaming .xlsx writer: rows go straight into the zip archive as they are appended.

Why our own: openpyxl builds an element tree per cell, which made 100,000 rows take 25-40 s on the
contact centre's 2-core machines. Here a row is one ``"".join`` of pre-built strings, and text that
repeats (service, status, people's names) is escaped once and reused as a :class:`Cell`.

What it writes (enough for Excel, LibreOffice and openpyxl, nothing more): inline strings
(``t="inlineStr"``, so no shared-strings table to hold in memory), numbers, dates and datetimes as
serial numbers with a date number format, a few cell styles (number format, bold), fixed column
widths, a frozen header row and an auto-filter. Strings are always strings: "=1+1" is never written
as a formula, "#N/A" never as an error value.

Memory stays bounded: only the current sheet is open, and its XML is compressed into the archive in
slices of about a megabyte. Sheets are therefore written one after another: adding a sheet closes
the one before, and a sheet's auto-filter is known only when it is closed (``<autoFilter>`` follows
``<sheetData>`` in the XML; ``<cols>`` precedes it, which is why widths are given up front).

No ZIP64: Python's ``force_zip64`` puts a ZIP64 field in every local header but none in the
central directory, and Excel has been reported to refuse ZIP64 records in small files (e.g.
zlib-ng/minizip-ng#894). A sheet part must hence stay under 4 GiB uncompressed; :attr:`Worksheet.full`
says when to continue on a new sheet (past six million rows of callbacks, far beyond Excel's own
1,048,576, so only pathologically long text would ever reach it).
"""

from __future__ import annotations

import math
import re
import zipfile
from collections.abc import Sequence
from contextlib import suppress
from datetime import UTC, date, datetime, timedelta, tzinfo
from os import PathLike
from typing import IO, Any, Self
from xml.sax.saxutils import quoteattr

MAX_ROWS = 1_048_576  # Excel's rows per sheet
MAX_COLUMNS = 16_384
CELL_CHARS = 32_767  # Excel's characters per cell: longer text is cut
SHEET_BYTES = zipfile.ZIP64_LIMIT - (64 << 20)  # see Worksheet.full
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
DATE_FORMAT = "yyyy-mm-dd"
FLUSH_CHARS = 1 << 20  # compress the pending rows once they hold this many characters
# Excel counts days from 1899-12-30 (1900-01-00, plus its make-believe 1900-02-29); serials before
# 1900-03-01 would be off by one, and Excel cannot show earlier dates anyway: they are refused.
EPOCH = datetime(1899, 12, 30)
FIRST_DAY = date(1900, 3, 1)
FIRST_DATETIME = datetime(1900, 3, 1)
DAY = timedelta(days=1)
EPOCH_SECONDS = 25_569 * 86_400  # from 1899-12-30 to 1970-01-01
FIRST_SERIAL = 61  # 1900-03-01

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

# Characters XML 1.0 cannot carry at all (C0 controls but tab/LF/CR, lone surrogates, U+FFFE/F),
# then everything that needs attention: those, markup characters and CR (which XML readers turn
# into LF unless written as a character reference).
_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_SPECIAL = re.compile('[\x00-\x08\x0b-\x1f\ud800-\udfff\ufffe\uffff&<>"]')
# Excel reads "_x0041_" in cell text as "A" (ST_Xstring's escape): such text gets its "_" escaped.
_XSTRING = re.compile("_x[0-9A-Fa-f]{4}_")
# All a cell's text may need, white space at either end included (see Workbook.cell): one scan.
_CELL_SPECIAL = re.compile(rf"{_SPECIAL.pattern}|{_XSTRING.pattern}|\A\s|\s\Z")
# What a cell holds; bool before int and datetime before date, for subclasses (see Workbook.cell).
_KINDS = (str, bool, int, float, datetime, date)
_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")


class Cell(str):
    """A cell's XML from just after its reference: ``" t="inlineStr"><is><t>…</t></is></c>``.

    Built by :meth:`Workbook.cell`; a str so that a row is one join. Build repeated values once.
    """

    __slots__ = ()


def escape(text: str) -> str:
    """``text`` as XML character data: invalid characters dropped, markup and CR escaped."""
    if _SPECIAL.search(text) is None:  # the usual case: one scan, no copy
        return text
    text = _INVALID.sub("", text)
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("\r", "&#13;")
    )


def _utc_offset(zone: tzinfo, ts: float) -> int:
    offset = datetime.fromtimestamp(ts, zone).utcoffset()
    return 0 if offset is None else int(offset.total_seconds())


def column_letter(index: int) -> str:
    """1 -> "A", 27 -> "AA"."""
    if not 1 <= index <= MAX_COLUMNS:
        raise ValueError(f"column {index} out of range")
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def serial(value: date) -> float | int:
    """A date (int) or naive datetime (float) as Excel's serial number of days since 1899-12-30."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            raise ValueError("Excel has no time zones: give the wall-clock time as a naive datetime")
        if value < FIRST_DATETIME:
            raise ValueError(f"{value} is before 1900-03-01")
        return (value - EPOCH) / DAY  # exact microseconds, one rounding to float
    if value < FIRST_DAY:
        raise ValueError(f"{value} is before 1900-03-01")
    return (value - EPOCH.date()).days


class Workbook:
    """An .xlsx file being written to ``path`` (a fresh file: the caller renames it into place).

    Use as a context manager: on success the workbook parts are written and the file closed; if the
    block fails, the file is closed at once and left for the caller to delete.
    """

    def __init__(
        self, path: str | PathLike[str], *, title: str | None = None, compresslevel: int = 1
    ) -> None:
        # Level 1: the XML is repetitive enough to shrink 7x even so; level 6 would add about 1 s per
        # 100,000 callbacks (a quarter of the export) for a file 20 % smaller.
        self._zip = zipfile.ZipFile(
            path, "w", zipfile.ZIP_DEFLATED, allowZip64=False, compresslevel=compresslevel
        )
        self.title = title
        self._sheets: list[Worksheet] = []
        self._open: Worksheet | None = None
        self._formats: dict[str, int] = {}  # number format -> numFmtId (custom ones start at 164)
        self._styles: dict[tuple[str | None, bool], int] = {(None, False): 0}  # -> index in cellXfs
        self.bold = self.style(bold=True)
        self._datetime_attr = f' s="{self.style(DATETIME_FORMAT)}"'
        self._date_attr = f' s="{self.style(DATE_FORMAT)}"'
        self._offsets: dict[tzinfo, dict[float, int]] = {}  # see timestamp()
        self._closed = False

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    # -- cells -------------------------------------------------------------------------------------

    def style(self, number_format: str | None = None, *, bold: bool = False) -> int:
        """The index of the cell style with this number format (None: General) and weight."""
        if number_format == "General":
            number_format = None
        key = (number_format, bold)
        index = self._styles.get(key)
        if index is None:
            if number_format is not None and number_format not in self._formats:
                self._formats[number_format] = 164 + len(self._formats)
            index = self._styles[key] = len(self._styles)
        return index

    def cell(self, value: Any, style: int | None = None) -> Cell:  # Any: dispatched on its class below
        """The :class:`Cell` for ``value``: str, int, float, bool, date or naive datetime.

        ``style`` (from :meth:`style`) defaults to General, or to yyyy-mm-dd (hh:mm) for dates.
        Text is always text; control characters are dropped and text is cut at Excel's 32,767.
        """
        kind = value.__class__
        if kind not in _KINDS:  # a subclass (IntEnum, StrEnum…): as its base
            kind = next((k for k in _KINDS if isinstance(value, k)), None)
            if kind is None:
                raise TypeError(f"cannot write {type(value).__name__} to a cell")
        s = f' s="{style}"' if style else ""
        if kind is str:
            if len(value) <= CELL_CHARS and _CELL_SPECIAL.search(value) is None:  # the usual case
                return Cell(f'"{s} t="inlineStr"><is><t>{value}</t></is></c>')
            text = escape(_XSTRING.sub(r"_x005F\g<0>", _INVALID.sub("", value)[:CELL_CHARS]))
            # XML readers may drop white space at either end unless told to keep it
            space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
            return Cell(f'"{s} t="inlineStr"><is><t{space}>{text}</t></is></c>')
        if kind is datetime:
            number = repr(serial(value))
            if style is None:
                s = self._datetime_attr
        elif kind is int:
            number = str(int(value))
        elif kind is float:
            if not math.isfinite(value):
                raise ValueError(f"{value} cannot be stored in Excel")
            number = repr(float(value))
        elif kind is bool:
            return Cell(f'"{s} t="b"><v>{int(value)}</v></c>')
        else:  # date
            number = str(serial(value))
            if style is None:
                s = self._date_attr
        return Cell(f'"{s}><v>{number}</v></c>')

    def timestamp(self, ts: float, zone: tzinfo) -> Cell:
        """A datetime cell for the Unix time ``ts`` as the wall-clock time in ``zone``.

        The same as ``cell(datetime.fromtimestamp(ts, zone).replace(tzinfo=None))``, several times
        faster: building aware datetimes was a third of the time spent writing. The zone's UTC offset is
        looked up once per (UTC) day, trusting that no zone changes its offset twice in a day; on a
        day it changes (summer time), every value takes the slow path.
        """
        offsets = self._offsets.get(zone)
        if offsets is None:
            offsets = self._offsets[zone] = {}
        day = ts // 86400
        offset = offsets.get(day)
        if offset is None:
            offset = _utc_offset(zone, day * 86400)
            if offset != _utc_offset(zone, day * 86400 + 86399):
                return self.cell(datetime.fromtimestamp(ts, zone).replace(tzinfo=None))
            offsets[day] = offset
        days = (ts + offset + EPOCH_SECONDS) / 86400  # one rounding: ts and offset are whole seconds
        if days < FIRST_SERIAL:
            return self.cell(datetime.fromtimestamp(ts, zone).replace(tzinfo=None))  # refused there
        return Cell(f'"{self._datetime_attr}><v>{days!r}</v></c>')

    # -- sheets ------------------------------------------------------------------------------------

    def add_sheet(self, name: str, widths: Sequence[float] = (), *, freeze_header: bool = True) -> Worksheet:
        """A new sheet after the others; the one being written is closed first.

        ``widths``: of columns A, B, … in Excel's character units. ``freeze_header``: row 1 stays
        in view (the pane frozen at A2).
        """
        if self._closed:
            raise ValueError("the workbook is closed")
        if (
            not name
            or len(name) > 31
            or _SHEET_NAME_BAD.search(name)
            or _INVALID.search(name)
            or name[0] == "'"
            or name[-1] == "'"
        ):
            raise ValueError(f"invalid sheet name {name!r}")
        if any(s.name.casefold() == name.casefold() for s in self._sheets):
            raise ValueError(f"duplicate sheet name {name!r}")
        self.close_sheet()
        sheet = Worksheet(self, name, len(self._sheets) + 1, widths, freeze_header)
        self._sheets.append(sheet)
        self._open = sheet
        return sheet

    def close_sheet(self) -> None:
        """Finish the sheet being written, if any."""
        if self._open is not None:
            sheet, self._open = self._open, None
            sheet._close()

    # -- the end -----------------------------------------------------------------------------------

    def close(self) -> None:
        """Finish the last sheet and write the workbook's other parts."""
        if self._closed:
            return
        if not self._sheets:
            self.abort()
            raise ValueError("a workbook needs at least one sheet")
        try:
            self.close_sheet()
        except BaseException:
            self.abort()
            raise
        self._closed = True
        parts = {
            "xl/workbook.xml": self._workbook_xml(),
            "xl/_rels/workbook.xml.rels": self._workbook_rels(),
            "xl/styles.xml": self._styles_xml(),
            "docProps/core.xml": self._core_xml(),
            "_rels/.rels": (
                f'<Relationships xmlns="{_PKG_REL_NS}">'
                f'<Relationship Id="rId1" Type="{REL_NS}/officeDocument" Target="xl/workbook.xml"/>'
                f'<Relationship Id="rId2" Type="{_PKG_REL_NS}/metadata/core-properties" '
                'Target="docProps/core.xml"/></Relationships>'
            ),
            "[Content_Types].xml": self._content_types(),
        }
        try:
            for name, xml in parts.items():
                self._zip.writestr(name, XML_HEAD + xml)
            self._zip.close()
        except BaseException:
            self.abort()
            raise

    def abort(self) -> None:
        """Close the file after a failure, without raising: the caller deletes it."""
        self._closed = True
        self._open = None
        # Best effort (the disk may be full): the original error is the one that matters. Every
        # sheet's stream is closed, also one whose own closing failed half-way, or the zip would
        # refuse to close and complain again from ZipFile.__del__ on stderr.
        for sheet in self._sheets:
            with suppress(Exception):
                sheet._out.close()
        self._zip._writing = False  # type: ignore[attr-defined]  # a stream that failed to close still counts as open
        with suppress(Exception):
            self._zip.close()
        if self._zip.fp is not None:  # close() failed before letting go of the file
            fp, self._zip.fp = self._zip.fp, None
            with suppress(Exception):
                fp.close()

    def _workbook_xml(self) -> str:
        sheets = "".join(
            f'<sheet name={quoteattr(s.name)} sheetId="{s.index}" r:id="rId{s.index}"/>' for s in self._sheets
        )
        # Excel keeps a sheet's filter range in this hidden name as well; LibreOffice shows the
        # filter buttons only with it.
        names = "".join(
            f'<definedName name="_xlnm._FilterDatabase" localSheetId="{s.index - 1}" hidden="1">'
            f"{escape(_absolute(s.name, s.auto_filter))}</definedName>"
            for s in self._sheets
            if s.auto_filter
        )
        return (
            f'<workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}"><bookViews><workbookView activeTab="0"/>'
            f"</bookViews><sheets>{sheets}</sheets>"
            + (f"<definedNames>{names}</definedNames>" if names else "")
            + "</workbook>"
        )

    def _workbook_rels(self) -> str:
        rels = [
            f'<Relationship Id="rId{s.index}" Type="{REL_NS}/worksheet" '
            f'Target="worksheets/sheet{s.index}.xml"/>'
            for s in self._sheets
        ]
        rels.append(
            f'<Relationship Id="rId{len(self._sheets) + 1}" Type="{REL_NS}/styles" Target="styles.xml"/>'
        )
        return f'<Relationships xmlns="{_PKG_REL_NS}">{"".join(rels)}</Relationships>'

    def _styles_xml(self) -> str:
        formats = "".join(
            f'<numFmt numFmtId="{i}" formatCode={quoteattr(code)}/>' for code, i in self._formats.items()
        )
        font = '<sz val="11"/><name val="Calibri"/><family val="2"/>'
        xfs = []
        for number_format, bold in self._styles:  # dicts keep insertion order: index order
            fmt_id = 0 if number_format is None else self._formats[number_format]
            xfs.append(
                f'<xf numFmtId="{fmt_id}" fontId="{int(bold)}" fillId="0" borderId="0" xfId="0"'
                + (' applyNumberFormat="1"' if fmt_id else "")
                + (' applyFont="1"' if bold else "")
                + "/>"
            )
        return (
            f'<styleSheet xmlns="{MAIN_NS}">'
            + (f'<numFmts count="{len(self._formats)}">{formats}</numFmts>' if formats else "")
            + f'<fonts count="2"><font>{font}</font><font><b/>{font}</font></fonts>'
            '<fills count="2"><fill><patternFill patternType="none"/></fill>'
            '<fill><patternFill patternType="gray125"/></fill></fills>'
            '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
            f'<cellXfs count="{len(xfs)}">{"".join(xfs)}</cellXfs>'
            '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
            "</styleSheet>"
        )

    def _core_xml(self) -> str:
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        title = f"<dc:title>{escape(self.title)}</dc:title>" if self.title else ""
        return (
            '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties"'
            ' xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/"'
            ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f"{title}<dc:creator>contiple-tui</dc:creator>"
            f'<dcterms:created xsi:type="dcterms:W3CDTF">{now}</dcterms:created>'
            f'<dcterms:modified xsi:type="dcterms:W3CDTF">{now}</dcterms:modified></cp:coreProperties>'
        )

    def _content_types(self) -> str:
        ml = "application/vnd.openxmlformats-officedocument.spreadsheetml"
        overrides = [
            ("/xl/workbook.xml", f"{ml}.sheet.main+xml"),
            ("/xl/styles.xml", f"{ml}.styles+xml"),
            ("/docProps/core.xml", "application/vnd.openxmlformats-package.core-properties+xml"),
        ]
        overrides += [(f"/xl/worksheets/sheet{s.index}.xml", f"{ml}.worksheet+xml") for s in self._sheets]
        return (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            + "".join(f'<Override PartName="{p}" ContentType="{t}"/>' for p, t in overrides)
            + "</Types>"
        )


def _prefixes(columns: int) -> list[str]:
    """'<c r="A', '<c r="B', …: with the row number and a Cell, the three pieces of a cell."""
    return [f'<c r="{column_letter(i)}' for i in range(1, columns + 1)]


def _absolute(sheet: str, ref: str) -> str:
    """'Sheet name'!$A$1:$O$9 for the range A1:O9."""
    cells = [re.sub(r"([A-Z]+)(\d+)", r"$\1$\2", part) for part in ref.split(":")]
    return "'" + sheet.replace("'", "''") + "'!" + ":".join(cells)


class Worksheet:
    """A sheet being written: :meth:`append` rows, set :attr:`auto_filter`; see Workbook.add_sheet."""

    def __init__(
        self, book: Workbook, name: str, index: int, widths: Sequence[float], freeze_header: bool
    ) -> None:
        self.book = book
        self.name = name
        self.index = index
        self.rows = 0
        self.auto_filter: str | None = None  # e.g. "A1:O100", written when the sheet is closed
        self._written = 0  # bytes compressed into the archive so far
        self._pending: list[str] = []
        self._pending_chars = 0
        self._prefixes = _prefixes(max(len(widths), 26))
        self._out: IO[bytes] = book._zip.open(f"xl/worksheets/sheet{index}.xml", "w")
        view = '<sheetView workbookViewId="0"' + (' tabSelected="1"' if index == 1 else "")
        if freeze_header:
            view += (
                '><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
                '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView>'
            )
        else:
            view += "/>"
        cols = "".join(
            f'<col min="{i}" max="{i}" width="{w:g}" customWidth="1"/>' for i, w in enumerate(widths, start=1)
        )
        self._write(
            f'{XML_HEAD}<worksheet xmlns="{MAIN_NS}" xmlns:r="{REL_NS}"><sheetViews>{view}</sheetViews>'
            '<sheetFormatPr defaultRowHeight="15"/>'
            + (f"<cols>{cols}</cols>" if cols else "")
            + "<sheetData>"
        )

    @property
    def full(self) -> bool:
        """True once the sheet's XML nears 4 GiB, the most a zip member holds without ZIP64: continue
        on a new sheet. Pending text counts as 4 bytes a character (UTF-8's most); the 64 MiB
        margin holds the row appended after the check (15 cells of Excel's longest text: 3 MB)."""
        return self._written + 4 * self._pending_chars > SHEET_BYTES

    def append(self, values: Sequence[Any], style: int | None = None) -> None:
        """Write the next row: a value per column from A (None: an empty cell).

        Values are :class:`Cell` (written as they are) or anything :meth:`Workbook.cell` takes,
        with ``style`` for those.
        """
        if self.book._open is not self:
            raise ValueError(f"sheet {self.name!r} is closed")
        if self.rows == MAX_ROWS:
            raise ValueError(f"sheet {self.name!r} is full ({MAX_ROWS} rows)")
        self.rows += 1
        row = str(self.rows)
        parts = ['<row r="', row, '">']
        cell = self.book.cell
        prefixes = self._prefixes
        if len(values) > len(prefixes):
            self._prefixes = prefixes = _prefixes(len(values))
        for prefix, value in zip(prefixes, values):
            if value is None:
                continue
            kind = value.__class__
            if kind is Cell:
                parts += (prefix, row, value)
            elif kind is int and not style:  # counts: common enough to skip the call
                parts += (prefix, row, '"><v>', str(value), "</v></c>")
            else:
                parts += (prefix, row, cell(value, style))
        parts.append("</row>")
        line = "".join(parts)
        self._pending.append(line)
        self._pending_chars += len(line)
        if self._pending_chars > FLUSH_CHARS:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            self._write("".join(self._pending))
            self._pending.clear()
            self._pending_chars = 0

    def _write(self, xml: str) -> None:
        data = xml.encode("utf-8")
        self._written += len(data)
        self._out.write(data)

    def _close(self) -> None:
        self._flush()
        tail = "</sheetData>"
        if self.auto_filter:
            tail += f'<autoFilter ref="{escape(self.auto_filter)}"/>'
        self._write(tail + "</worksheet>")
        self._out.close()
