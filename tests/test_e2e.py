"""The installed program end to end, in a pseudo-terminal: demo start, first screen, Ctrl+Q."""

from __future__ import annotations

import pytest

from .ptyrun import PtyProgram


@pytest.mark.parametrize("size", [(80, 24), (160, 45)])
def test_demo_opens_console_and_ctrl_q_quits(tmp_path, size):
    program = PtyProgram(["--data-dir", str(tmp_path), "--lang", "en", "demo", "--callbacks", "50"],
                         env={}, size=size)
    try:
        assert program.read_until(b"Contiple", b"Callback list", b"Processing status", b"Quit"), \
            bytes(program.output[-2000:]).decode(errors="replace")
        program.send(b"\x11")  # Ctrl+Q
        assert program.wait() == 0
    finally:
        program.close()


def test_demo_as_agent_in_korean_shows_only_permitted_menus(tmp_path):
    program = PtyProgram(["--data-dir", str(tmp_path), "demo", "--callbacks", "50", "--user", "agent11"],
                         env={"LANG": "ko_KR.UTF-8"})
    try:
        assert program.read_until("SMS 발송".encode(), "발송 내역".encode(), "종료".encode()), \
            bytes(program.output[-2000:]).decode(errors="replace")
        program.send(b"\x11")
        assert program.wait() == 0
        screen = bytes(program.output).decode(errors="replace")
        assert "콜백 리스트" not in screen and "템플릿 관리" not in screen
    finally:
        program.close()
