"""`contiple-tui doctor` in a real terminal: a healthy demo with a live CTI feed is all well; a broken
one (a database others may write, the CTI down, a wrong NHN key, a tiny terminal) is named problem by
problem, each with its fix. Real parts: a pty, the simulator and a local NHN-compatible server."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

from contiple_tui.sim.nhn_server import NhnServer

from .conftest import run_cli
from .ptyrun import PtyProgram
from .smsdata import nhn_env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _doctor(data, size, env=None, *flags: str) -> tuple[int | None, str]:
    program = PtyProgram(
        ["--data-dir", str(data), "--lang", "en", *flags, "doctor"], env=env or {}, size=size
    )
    try:
        program.read_until(b"All is well.", b" found.", timeout=60)
        code = program.wait(30)
        return code, bytes(program.output).decode(errors="replace")
    finally:
        program.close()


def _seed(tmp_path):
    assert run_cli("--data-dir", str(tmp_path), "demo", "--seed-only", "--callbacks", "20").returncode == 0
    return tmp_path / "demo"


def test_a_healthy_demo_with_a_live_feed_is_all_well(tmp_path):
    data = _seed(tmp_path)
    port, stats = _free_port(), tmp_path / "stats.json"
    sim = subprocess.Popen(
        [sys.executable, "-m", "contiple_tui", "--data-dir", str(data), "cti-sim", "--port", str(port)]
        + ["--stats-file", str(stats)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            if stats.exists():
                break
            time.sleep(0.1)
        code, out = _doctor(data, (100, 30), None, "--cti-url", f"ws://127.0.0.1:{port}")
    finally:
        sim.terminate()
        sim.wait(10)
    assert code == 0, out
    assert "All is well." in out and "connected, token accepted" in out and "integrity ok" in out
    assert "✘" not in out


def test_a_broken_deployment_is_named_problem_by_problem_with_each_fix(tmp_path):
    data = _seed(tmp_path)
    (data / "contiple.sqlite3").chmod(0o666)
    with NhnServer(app_key="real-app", secret_key="real-secret", sender_numbers=("15880001",)) as server:
        env = nhn_env(server.base_url, "wrong-app", "wrong-secret")
        code, out = _doctor(data, (40, 10), env, "--cti-url", f"ws://127.0.0.1:{_free_port()}")
    assert code == 1, out
    flat = " ".join(out.split())  # the 40-column terminal wraps the lines
    assert "needs at least 80x24" in flat and "enlarge the window" in flat
    assert "Other users may write the database" in flat and "chmod 600" in flat
    assert "connection refused" in flat and "check cti.url and cti.token" in flat
    assert "problems found." in flat


def test_wrong_nhn_keys_are_a_problem_with_the_fix(tmp_path):
    data = _seed(tmp_path)
    with NhnServer(app_key="real-app", secret_key="real-secret", sender_numbers=("15880001",)) as server:
        env = nhn_env(server.base_url, "wrong-app", "wrong-secret")
        code, out = _doctor(data, (120, 40), env)
    flat = " ".join(out.split())
    assert code == 1, out
    assert "NHN Cloud keys of cs:" in flat and "app_key and secret_key" in flat
    assert "wrong-secret" not in flat


def _doctor_at_a_terminal(data, cells: dict[str, int]) -> tuple[int | None, str]:
    """doctor in a pty whose other side plays a terminal: it answers each cursor position request
    (CSI 6n) with the column the character drawn since the carriage return leaves the cursor at,
    giving each character the cells in ``cells`` (a terminal set to draw ambiguous characters wide,
    say). The edge faked here is the terminal emulator itself."""
    program = PtyProgram(["--data-dir", str(data), "--lang", "en", "doctor"], env={}, size=(120, 40))
    answered = 0
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and b" found." not in program.output:
            if b"All is well." in program.output:
                break
            program.read_until(b"\x00never", timeout=0.05)
            queries = program.output.count(b"\x1b[6n")
            while answered < queries:
                before = bytes(program.output).split(b"\x1b[6n")[answered]
                drawn = before.rsplit(b"\r", 1)[-1].decode()
                column = 1 + sum(cells.get(char, 1) for char in drawn)
                program.send(f"\x1b[1;{column}R".encode())
                answered += 1
        code = program.wait(30)
        return code, bytes(program.output).decode(errors="replace")
    finally:
        program.close()


def test_a_terminal_with_narrow_ambiguous_width_draws_hangul_and_lines(tmp_path):
    code, out = _doctor_at_a_terminal(_seed(tmp_path), {"가": 2, "─": 1, "○": 1})
    assert "Hangul is 2 cells wide, box lines and symbols 1" in out, out
    assert out.count("\x1b[6n") == 3
    assert code == 0, out


def test_a_terminal_drawing_ambiguous_characters_wide_is_a_problem_with_the_fix(tmp_path):
    code, out = _doctor_at_a_terminal(_seed(tmp_path), {"가": 2, "─": 2, "○": 2})
    flat = " ".join(out.split())
    assert code == 1, out
    assert "ambiguous characters (box lines ─, symbols ○) two cells wide" in flat
    assert "Treat CJK ambiguous characters as wide" in flat  # the PuTTY fix


def test_a_terminal_that_gives_hangul_one_cell_is_a_problem_with_the_fix(tmp_path):
    code, out = _doctor_at_a_terminal(_seed(tmp_path), {"가": 1})
    flat = " ".join(out.split())
    assert code == 1, out
    assert "gives Hangul 1 cell instead of 2" in flat and "a font that has Hangul" in flat


def test_a_terminal_that_does_not_answer_is_told_what_to_set(tmp_path):
    code, out = _doctor(_seed(tmp_path), (100, 30))  # this pty never answers
    assert "widths were not measured" in out
    assert code == 0, out
