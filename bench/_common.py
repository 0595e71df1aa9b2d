"""Shared helpers for the benchmark scripts (standard library only)."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time


def log(*args: object) -> None:
    """Diagnostics go to stderr; stdout carries only the JSON result lines."""
    print(*args, file=sys.stderr, flush=True)


def emit(bench: str, value: float, target: float, baseline: float | None) -> None:
    line = {
        "bench": bench,
        "value": round(value, 4),
        "unit": "s",
        "target": target,
        "baseline": None if baseline is None else round(baseline, 4),
    }
    print(json.dumps(line), flush=True)


def median(values: list[float]) -> float:
    return statistics.median(values)


def bench_env(data_dir: str) -> dict[str, str]:
    """The current environment without the user's contiple/textual settings.

    CONTIPLE_TUI_HOME points at the benchmark's temporary directory so that nothing can fall back
    to the user's real data dir, even where a command is run without --data-dir.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONTIPLE_TUI_", "TEXTUAL"))}
    env["CONTIPLE_TUI_HOME"] = data_dir
    return env


def timed_run(cmd: list[str], *, env: dict[str, str], cwd: str, timeout: float = 600) -> tuple[float, str]:
    """Run cmd to completion; return (wall seconds, stdout). Raises if it fails."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=timeout)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        log(f"command failed (exit {proc.returncode}): {cmd}\nstdout: {proc.stdout}\nstderr: {proc.stderr}")
        raise SystemExit(1)
    return elapsed, proc.stdout
