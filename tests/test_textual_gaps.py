"""The four private parts of Textual the console relies on, wrapped in widgets/textual_gaps.py: these
tests fail when a Textual upgrade changes them."""

from __future__ import annotations

import pytest
from textual.app import App
from textual.widgets import Static

from contiple_tui.widgets.textual_gaps import app_error, being_taken_down, fail_app, write_to_terminal

from .ptyrun import PtyProgram


class _Blank(App[None]):
    pass


async def test_fail_app_shows_the_error_and_exits_as_a_handler_error_would():
    app = _Blank()
    with pytest.raises(RuntimeError, match="boom"):
        async with app.run_test() as pilot:
            fail_app(app, RuntimeError("boom"))
            await pilot.pause()
    assert app.return_code == 1
    error = app_error(app)
    assert isinstance(error, RuntimeError) and str(error) == "boom"


async def test_an_app_that_ended_well_has_no_error():
    app = _Blank()
    async with app.run_test() as pilot:
        await pilot.exit(None)
    assert app_error(app) is None


async def test_a_widget_being_removed_is_seen_as_such_until_it_is_gone():
    app = _Blank()
    async with app.run_test() as pilot:
        widget = Static("x")
        await app.screen.mount(widget)
        assert not being_taken_down(widget)
        removal = widget.remove()
        assert being_taken_down(widget)  # from the moment the removal starts: a mount into it does nothing
        widget.mount(Static("y"))
        assert not widget.children
        await removal
        assert being_taken_down(widget)
        await pilot.pause()


async def test_nothing_is_written_without_a_terminal():
    app = _Blank()
    async with app.run_test():
        assert write_to_terminal(app, "\x1b]9;x\x07") is False  # headless


def test_a_desktop_notification_reaches_the_real_terminal(tmp_path):
    """The demo's first callback (about 12 s after start) as the admin, with desktop notifications on:
    the terminal receives OSC 777 and OSC 9 with the notice's text."""
    (tmp_path / "config.toml").write_text("[notifications]\ndesktop = true\n")
    program = PtyProgram(["--data-dir", str(tmp_path), "--lang", "en", "demo", "--callbacks", "20"], env={})
    try:
        assert program.read_until(b"\x1b]777;notify;Contiple;New callback", timeout=60), bytes(
            program.output[-2000:]
        ).decode(errors="replace")
        assert b"\x1b]9;New callback" in program.output
        program.send(b"\x11")
        assert program.wait() == 0
    finally:
        program.close()
