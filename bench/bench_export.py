"""Excel export of 100,000 callbacks (target 15 s) with bounded memory (target 200 MB peak RSS).

The demo store is seeded with 100,000 callbacks (untimed); the admin then runs the cron-job command
`contiple-tui export callbacks -o FILE.xlsx` without filters, i.e. every callback of the three demo
services, one after another. Timed: the whole command, wall clock, interpreter start included.
Memory: the peak RSS (ru_maxrss) of that process.

Baselines: for the time, openpyxl's write-only mode writing as many plain rows of 15 values, with no
query, no conversion and no styles (the floor for this file format with openpyxl on this machine,
which the export used before its own writer, contiple_tui/export/sheetwriter.py); for the memory,
the peak RSS of a process that only imports the package (contiple_tui.cli and contiple_tui.export).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile

from _common import bench_env, emit, log, seed_cmd, short_mode, timed_run

CALLBACKS = 20_000 if short_mode() else 100_000
TARGET_S = 15.0
TARGET_MB = 200.0
PLAIN_ROW = (
    "2026-11-25 10:30:00",
    "고객센터",
    "010-1234-5678",
    "김민준",
    "2 배송 문의",
    "완료",
    1,
    "이서연",
    "김지훈",
    "2026-11-25 10:32:00",
    2,
    "2026-11-25 10:40:00",
    "2026-11-25 10:41:00",
    "이서연",
    "정상",
)


def run_measured(cmd: list[str], *, env: dict[str, str], cwd: str) -> tuple[float, float, str, float]:
    """Run cmd; return (wall seconds, peak RSS in MB of that very process, stdout, its CPU seconds)."""
    out_path = os.path.join(cwd, "child.out")
    err_path = os.path.join(cwd, "child.err")
    with open(out_path, "w") as out, open(err_path, "w") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        # wait4: the resource usage of this child alone (RUSAGE_CHILDREN would include the seeding)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    with open(out_path) as f:
        stdout = f.read()
    if proc.returncode != 0:
        with open(err_path) as f:
            log(f"command failed (exit {proc.returncode}): {cmd}\nstdout: {stdout}\nstderr: {f.read()}")
        raise SystemExit(1)
    cpu = usage.ru_utime + usage.ru_stime
    return elapsed, usage.ru_maxrss * 1024 / 1e6, stdout, cpu  # Linux: ru_maxrss in KiB


def count_rows(xlsx: str) -> int:
    """Rows in the first sheet, counted by streaming its XML (no workbook in memory)."""
    rows, tail = 0, b""
    with zipfile.ZipFile(xlsx) as zf, zf.open("xl/worksheets/sheet1.xml") as sheet:
        while chunk := sheet.read(1 << 20):
            data = tail + chunk
            rows += data.count(b"<row ")
            tail = data[-4:]
            rows -= tail.count(b"<row ")  # counted again with the next chunk
    return rows + tail.count(b"<row ")


def openpyxl_floor(path: str, n: int) -> tuple[float, float]:
    """(wall, CPU) seconds of openpyxl's write-only mode writing n + 1 plain rows."""
    from openpyxl import Workbook

    start, cpu = time.perf_counter(), time.process_time()
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("floor")
    for _ in range(n + 1):
        ws.append(PLAIN_ROW)
    wb.save(path)
    return time.perf_counter() - start, time.process_time() - cpu


def main() -> int:
    tmp = tempfile.mkdtemp(prefix="contiple-bench-export-")
    try:
        env = bench_env(tmp)
        seed_s, _ = timed_run(seed_cmd(tmp, CALLBACKS), env=env, cwd=tmp, timeout=900)
        log(f"seeded {CALLBACKS} callbacks in {seed_s:.1f} s (untimed)")
        data = os.path.join(tmp, "demo")
        xlsx = os.path.join(tmp, "callbacks.xlsx")
        cmd = [
            sys.executable,
            "-m",
            "contiple_tui",
            "--data-dir",
            data,
            "--user",
            "admin",
            "export",
            "callbacks",
            "-o",
            xlsx,
        ]
        seconds, rss, out, cpu = run_measured(cmd, env=env, cwd=tmp)
        match = re.search(r": (\d+) rows$", out.strip())
        reported = int(match.group(1)) if match else -1
        in_file = count_rows(xlsx) - 1  # without the header
        log(
            f"export: {seconds:.2f} s ({cpu:.2f} s CPU), peak RSS {rss:.0f} MB, printed {out.strip()!r}, "
            f"{in_file} data rows in the file, {os.path.getsize(xlsx) / 1e6:.1f} MB"
        )
        if reported != CALLBACKS or in_file != CALLBACKS:
            log(f"FAIL: expected {CALLBACKS} rows, the command printed {reported} and the file has {in_file}")
            return 1

        _, base_rss, _, _ = run_measured(
            [sys.executable, "-c", "import contiple_tui.cli, contiple_tui.export"], env=env, cwd=tmp
        )
        log(f"baseline: peak RSS after importing the package: {base_rss:.0f} MB")
        floor, floor_cpu = openpyxl_floor(os.path.join(tmp, "floor.xlsx"), CALLBACKS)
        log(
            f"baseline: openpyxl write-only, {CALLBACKS} plain rows of {len(PLAIN_ROW)} values: {floor:.2f} "
            "s "
            f"({floor_cpu:.2f} s CPU)"
        )
        name = f"export_{CALLBACKS // 1000}k"
        emit(name, seconds, TARGET_S, floor)
        emit(f"{name}_rss", rss, TARGET_MB, base_rss, unit="MB")
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
