"""Run every benchmark under bench/ and pass its JSON result lines through to stdout.

Usage: python bench/run.py [NAME ...]

NAME: version, first_paint, seed, wallboard_latency, kiosk_cpu, kiosk_board, wallboard_traffic,
reconnect, export, callback_list, assign, split_crash, sms, consoles, postgres; default: all.

Each script runs as a subprocess with this interpreter. Every result line gets "ok": value <= target, or
value >= target for a line that says "better": "higher". BENCH_SHORT=1 in the environment makes the
wallboard benchmarks run shorter (a quick check; docs/benchmarks.md reports full runs).
Exit status is non-zero if any script crashes or fails its own checks, not when a target is missed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = [
    "bench_version.py",
    "bench_first_paint.py",
    "bench_seed.py",
    "bench_wallboard_latency.py",
    "bench_kiosk_cpu.py",
    "bench_kiosk_board.py",
    "bench_wallboard_traffic.py",
    "bench_reconnect.py",
    "bench_export.py",
    "bench_callback_list.py",
    "bench_assign.py",
    "bench_split_crash.py",
    "bench_sms.py",
    "bench_consoles.py",
    "bench_postgres.py",
]


def main(argv: list[str]) -> int:
    wanted = [f"bench_{name}.py" for name in argv] or SCRIPTS
    unknown = [w for w in wanted if w not in SCRIPTS]
    if unknown:
        print(
            f"unknown benchmark(s): {', '.join(u[6:-3] for u in unknown)}; choose from "
            f"{', '.join(s[6:-3] for s in SCRIPTS)}",
            file=sys.stderr,
        )
        return 2
    failed: list[str] = []
    for script in wanted:
        print(f"== {script}", file=sys.stderr, flush=True)
        start = time.perf_counter()
        # stderr is inherited: diagnostics stream straight to the terminal.
        proc = subprocess.run(
            [sys.executable, str(HERE / script)], cwd=HERE, stdout=subprocess.PIPE, text=True
        )
        results = 0
        for line in proc.stdout.splitlines():
            try:
                result = json.loads(line)
                if result.get("better") == "higher":
                    result["ok"] = result["value"] >= result["target"]
                else:
                    result["ok"] = result["value"] <= result["target"]
            except (ValueError, KeyError, TypeError):
                print(f"{script}: unexpected stdout line: {line!r}", file=sys.stderr)
                failed.append(script)
                continue
            results += 1
            print(json.dumps(result), flush=True)
        print(
            f"== {script}: exit {proc.returncode} in {time.perf_counter() - start:.1f} s",
            file=sys.stderr,
            flush=True,
        )
        if proc.returncode != 0 or results == 0:
            failed.append(script)
    if failed:
        print(f"FAILED: {', '.join(dict.fromkeys(failed))}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
