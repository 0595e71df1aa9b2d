"""The processing-status chart (1-5): one bar per day or month, █ completed and ░ not processed.

The two parts differ by glyph, not by colour alone. Drawn line by line at the width Rich gives it.
"""

from __future__ import annotations

from datetime import date

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

from contiple_tui.core import callbacks as cb
from contiple_tui.core.wallboard import format_rate
from contiple_tui.i18n import t

DONE, OPEN = "█", "░"  # the two parts of a bar differ by glyph, not by colour alone


def period_label(period: str, *, short: bool = False) -> str:
    """'2026-11-01 (일)' / '2026-11-01 Sun'; short: '11-01 일' / '11-01 Sun'. Months stay '2026-11'."""
    if len(period) != 10:
        return period
    weekday = t("cs.weekdays").split(",")[date.fromisoformat(period).weekday()]
    if short:
        return f"{period[5:]} {weekday}"
    return t("cs.day_label", day=period, weekday=weekday)


def _n(value: int) -> str:
    return f"{value:,}"


# -- the chart ------------------------------------------------------------------------------------


def bar_cells(done: int, open_: int, scale: int, width: int) -> tuple[int, int]:
    """How many cells of █ and of ░ for a bar on a ``width``-cell track where ``scale`` (the largest
    number assigned in any period) fills the whole track."""
    if scale <= 0 or width <= 0:
        return 0, 0
    total = min(width, round((done + open_) / scale * width))
    cells = round(done / scale * width)
    # A part that is not zero never vanishes in the rounding, and the parts add up to the total.
    if done and cells == 0:
        cells = 1
    if open_ and total - cells < 1:
        total = min(width, cells + 1)
        cells = min(cells, total - 1)
    return cells, max(0, total - cells)


class StatusChart:
    """A legend (``header_lines`` tall, so that beside the day table each bar lines up with its row),
    then one line per period: label, bar, █ completed, ░ not processed, processing rate.

    Drawn line by line at the width Rich gives it (a rich Table of a year of days re-measures every
    cell and takes seconds; this takes milliseconds)."""

    def __init__(
        self,
        rows: list[cb.StatusRow],
        done_style: Style,
        open_style: Style,
        *,
        short_labels: bool,
        header_lines: int = 1,
    ) -> None:
        self.rows = rows
        self.done_style, self.open_style = done_style, open_style
        self.short_labels = short_labels
        self.header_lines = max(1, header_lines)
        self.scale = max((r.assigned for r in rows), default=0)

    def legend(self) -> Text:
        return Text.assemble(
            (DONE, self.done_style),
            " ",
            t("cs.col.completed"),
            "   ",
            (OPEN, self.open_style),
            " ",
            t("cs.col.not_processed"),
        )

    def lines(self, width: int) -> list[Text]:
        """The chart as plain Text lines, each at most ``width`` cells."""
        out = [self.legend()] + [Text() for _ in range(self.header_lines - 1)]
        if self.scale == 0:
            return out + [Text(t("cs.chart.empty"), style="italic")]
        labels = [period_label(r.period, short=self.short_labels) for r in self.rows]
        label_w = max(map(cell_len, labels))
        done_w = max(len(_n(r.completed)) for r in self.rows)
        open_w = max(len(_n(r.not_processed)) for r in self.rows)
        rate_w = max(len(format_rate(r.rate)) for r in self.rows)
        fixed = label_w + 1 + 1 + (2 + done_w) + 1 + (2 + open_w) + 1 + rate_w
        track = max(1, width - fixed)
        for label, row in zip(labels, self.rows):
            done, open_ = bar_cells(row.completed, row.not_processed, self.scale, track)
            rate = format_rate(row.rate)
            line = Text(label + " " * (label_w - cell_len(label) + 1))
            line.append(DONE * done, self.done_style)
            line.append(OPEN * open_, self.open_style)
            line.append(" " * (track - done - open_ + 1))
            line.append(DONE, self.done_style)
            line.append(f" {_n(row.completed):>{done_w}} ")
            line.append(OPEN, self.open_style)
            line.append(f" {_n(row.not_processed):>{open_w}} ")
            line.append(f"{rate:>{rate_w}}", "dim" if row.rate is None else "")
            out.append(line)
        return out

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(1, options.max_width)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        for line in self.lines(width):
            line.no_wrap = True
            line.overflow = "ellipsis"
            line.truncate(width, overflow="ellipsis")
            yield from line.render(console)
            yield Segment.line()


def chart_renderable(
    rows: list[cb.StatusRow],
    done_color: str | None,
    open_color: str | None,
    *,
    short_labels: bool,
    header_lines: int = 1,
) -> StatusChart:
    return StatusChart(
        rows,
        Style.parse(done_color) if done_color else Style(),
        Style.parse(open_color) if open_color else Style(),
        short_labels=short_labels,
        header_lines=header_lines,
    )
