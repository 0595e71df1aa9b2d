"""Wall time of `contiple-tui --version` (target 0.15 s), and a check that the CLI does not import textual.

Baseline: `python -c "import textual.app"`, i.e. what importing textual alone would cost.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import bench_env, emit, log, median, timed_run

RUNS = 10
TARGET = 0.15


def console_script() -> Path | None:
    bindir = Path(sys.executable).parent
    for name in ("contiple-tui", "contiple-tui.exe"):
        if (bindir / name).is_file():
            return bindir / name
    return None


def main() -> int:
    tmp = tempfile.mkdtemp(prefix="contiple-bench-version-")
    try:
        env = bench_env(tmp)
        py = sys.executable

        check = subprocess.run(
            [py, "-c", "import contiple_tui.cli, sys; print('textual' in sys.modules)"],
            env=env,
            cwd=tmp,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if check.returncode != 0 or check.stdout.strip() != "False":
            log(
                f"FAIL: `import contiple_tui.cli` imports textual (or crashed): "
                f"exit {check.returncode}, stdout {check.stdout.strip()!r}, stderr {check.stderr.strip()!r}"
            )
            return 1
        log("ok: import contiple_tui.cli does not import textual")

        script = console_script()
        commands = {
            "module": [py, "-m", "contiple_tui", "--version"],
            "baseline": [py, "-c", "import textual.app"],
        }
        if script is not None:
            commands["script"] = [str(script), "--version"]
        else:
            log(f"console script not found next to {py}; timing `python -m contiple_tui` instead")

        for name, cmd in commands.items():  # warm-up (page cache, .pyc), not timed
            _, out = timed_run(cmd, env=env, cwd=tmp)
            if name != "baseline" and not out.startswith("contiple-tui "):
                log(f"FAIL: unexpected --version output from {cmd}: {out!r}")
                return 1

        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(RUNS):  # interleaved, so drift in machine load hits every command alike
            for name, cmd in commands.items():
                times[name].append(timed_run(cmd, env=env, cwd=tmp)[0])

        for name, values in times.items():
            log(f"{name}: median {median(values):.4f} s, min {min(values):.4f} s, max {max(values):.4f} s")
        value = median(times["script"] if script is not None else times["module"])
        emit("version", value, TARGET, median(times["baseline"]))
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
