"""The installed program end to end, in a pseudo-terminal: demo start, first screen, Ctrl+Q."""

from __future__ import annotations

import pytest

from .ptyrun import PtyProgram


@pytest.mark.parametrize("size", [(80, 24), (160, 45)])
def test_demo_opens_console_and_ctrl_q_quits(tmp_path, size):
    program = PtyProgram(
        ["--data-dir", str(tmp_path), "--lang", "en", "demo", "--callbacks", "50"], env={}, size=size
    )
    try:
        assert program.read_until(b"Contiple", b"Callback list", b"Processing status", b"Quit"), bytes(
            program.output[-2000:]
        ).decode(errors="replace")
        program.send(b"\x11")  # Ctrl+Q
        assert program.wait() == 0
    finally:
        program.close()


def test_demo_as_agent_in_korean_shows_only_permitted_menus(tmp_path):
    program = PtyProgram(
        ["--data-dir", str(tmp_path), "demo", "--callbacks", "50", "--user", "agent11"],
        env={"LANG": "ko_KR.UTF-8"},
    )
    try:
        assert program.read_until("SMS 발송".encode(), "발송 내역".encode(), "종료".encode()), bytes(
            program.output[-2000:]
        ).decode(errors="replace")
        program.send(b"\x11")
        assert program.wait() == 0
        screen = bytes(program.output).decode(errors="replace")
        assert "콜백 리스트" not in screen and "템플릿 관리" not in screen
    finally:
        program.close()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_simulator_and_kiosk_in_two_processes(tmp_path):
    """`cti-sim` in one process, `wallboard --kiosk` in another: live, then Disconnected when killed."""
    import json
    import subprocess
    import sys
    import time

    from .conftest import run_cli

    assert run_cli("--data-dir", str(tmp_path), "demo", "--seed-only", "--callbacks", "10").returncode == 0
    data = str(tmp_path / "demo")
    port = _free_port()
    stats = tmp_path / "stats.json"
    sim = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "contiple_tui",
            "--data-dir",
            data,
            "cti-sim",
            "--port",
            str(port),
            "--speed",
            "120",
            "--seed",
            "5",
            "--stats-file",
            str(stats),
            "--heartbeat",
            "0.5",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    board = None
    try:
        for _ in range(100):
            if stats.exists():
                break
            time.sleep(0.1)
        assert json.loads(stats.read_text())["services"].keys() == {"cs", "sales", "care"}
        board = PtyProgram(
            [
                "--data-dir",
                data,
                "--user",
                "tv",
                "--cti-url",
                f"ws://127.0.0.1:{port}",
                "wallboard",
                "--kiosk",
                "--view",
                "services",
            ],
            env={"LANG": "en_US.UTF-8"},
            size=(160, 45),
        )
        assert board.read_until(b"Total", b"Service level"), bytes(board.output[-2000:]).decode(
            errors="replace"
        )
        # "Total" is drawn only once live data arrived; from here on, watch only what comes next.
        seen = len(board.output)
        sim.kill()
        sim.wait(10)
        for _ in range(100):
            board.read_until(b"\x00never", timeout=0.1)
            if b"Disconnected" in board.output[seen:]:
                break
        assert b"Disconnected" in board.output[seen:]
        board.send(b"\x11\x11\x11")  # kiosk: three Ctrl+Q
        assert board.wait() == 0
    finally:
        if sim.poll() is None:
            sim.kill()
            sim.wait(10)
        if board is not None:
            board.close()


def test_wallboard_refusals(tmp_path):
    from .conftest import run_cli

    run_cli("--data-dir", str(tmp_path), "demo", "--seed-only", "--callbacks", "10")
    data = str(tmp_path / "demo")
    bad = run_cli("--data-dir", data, "--user", "tv", "wallboard", "--interval", "0")
    assert bad.returncode == 2 and "--interval" in bad.stderr and "Traceback" not in bad.stderr
    for value in ("-1", "61", "soon"):
        bad = run_cli("--data-dir", data, "--user", "tv", "wallboard", "--kiosk", "--refresh", value)
        assert bad.returncode == 2 and "--refresh" in bad.stderr and "Traceback" not in bad.stderr
    bad = run_cli("--data-dir", data, "--user", "agent02", "--lang", "ko", "wallboard", "--service", "care")
    assert bad.returncode == 2 and "'care'" in bad.stderr
    port = _free_port()
    import socket

    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", port))
        blocker.listen()
        busy = run_cli("--data-dir", data, "cti-sim", "--port", str(port))
    assert busy.returncode == 2 and f"127.0.0.1:{port}" in busy.stderr and "Traceback" not in busy.stderr
