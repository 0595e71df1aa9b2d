"""``contiple-tui serve``: the console in a web browser through textual-serve, tested with Debian's
headless Chromium: the page loads, the console draws in it, a key works, Ctrl+Q ends the console's
process, and stopping the server ends the consoles of the tabs still open."""

from __future__ import annotations

import importlib.util
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from contiple_tui.cli.main import build_parser, ssh_request
from contiple_tui.cli.serve import loopback, served_command
from contiple_tui.config import Config
from contiple_tui.errors import ValidationError

from .conftest import run_cli

HAVE_SERVE = importlib.util.find_spec("textual_serve") is not None
needs_browser = pytest.mark.skipif(
    not (HAVE_SERVE and (Path("/usr/bin/chromium").exists())),
    reason="WEB CONSOLE TEST SKIPPED: needs textual-serve (the web extra) and Debian's chromium",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _consoles(data_dir: Path) -> list[int]:
    """The console processes textual-serve started on this data directory."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            words = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"contiple_tui" in words and str(data_dir).encode() in words and b"serve" not in words:
            found.append(int(entry.name))
    return found


def _wait(condition, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


class Served:
    """``contiple-tui serve`` running on a free loopback port."""

    def __init__(self, data_dir: Path, *args: str, serve: tuple[str, ...] = ()) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        env = {k: v for k, v in os.environ.items() if not k.startswith("CONTIPLE_TUI_")}
        env |= {"LANG": "en_US.UTF-8", "PYTHONIOENCODING": "utf-8", "CONTIPLE_TUI_EXIT_GRACE_S": "20"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "contiple_tui", "--data-dir", str(data_dir), *args]
            + ["serve", *serve, "--port", str(self.port)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
        )
        assert _wait(self._listening), "serve did not start listening"

    def _listening(self) -> bool:
        assert self.proc.poll() is None, self.proc.stdout.read().decode()  # type: ignore[union-attr]
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", self.port)) == 0

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise


@pytest.fixture
def browser(tmp_path_factory: pytest.TempPathFactory):
    from .cdp import Browser

    chromium = Browser(tmp_path_factory.mktemp("chromium-profile"))
    yield chromium
    chromium.close()


def _open_console(browser, url: str, needle: bytes) -> None:
    mark = browser.mark()
    browser.call("Page.navigate", url=url)
    assert browser.wait_for(needle, 60, since=mark), "the console did not draw in the browser"
    # The terminal in the page takes keys once it has the focus, as after a click into it.
    assert browser.evaluate(
        "(() => { const t = document.querySelector('.xterm-helper-textarea');"
        " t.focus(); return document.activeElement === t })()"
    )


@needs_browser
def test_the_console_draws_in_chromium_and_takes_keys(demo_dir: Path, browser) -> None:
    served = Served(demo_dir, "--user", "admin", "--lang", "en")
    try:
        _open_console(browser, served.url, b"Callback list")
        assert "-first-byte" in browser.evaluate("document.body.className")
        assert len(_consoles(demo_dir)) >= 1, "one console process for the tab"
        mark = browser.mark()
        browser.key("F1")
        assert browser.wait_for(b"Keys of Home", 20, since=mark), "F1 did not open the key help"
        assert browser.screenshot().startswith(b"\x89PNG")
        browser.key("q", modifiers=2)  # Ctrl+Q: the console ends, the page says the session ended
        assert _wait(lambda: "-closed" in browser.evaluate("document.body.className"))
        assert _wait(lambda: not _consoles(demo_dir)), "the console's process outlived Ctrl+Q"
    finally:
        code = served.stop()
    assert code == 0


@needs_browser
def test_the_wall_tv_board_in_chromium_and_stopping_the_server_ends_it(demo_dir: Path, browser) -> None:
    served = Served(demo_dir, "--user", "tv", "--lang", "en", serve=("--wallboard",))
    try:
        _open_console(browser, served.url, b"CTI")
        assert _wait(lambda: len(_consoles(demo_dir)) >= 1)
        assert any(b"--kiosk" in Path(f"/proc/{pid}/cmdline").read_bytes() for pid in _consoles(demo_dir))
    finally:
        code = served.stop()  # SIGTERM with the tab still open: the board's process ends too
    assert code == 0
    assert _wait(lambda: not _consoles(demo_dir)), "a console outlived its server"


def test_serve_refuses_an_unknown_user_before_listening(demo_dir: Path) -> None:
    result = run_cli("--data-dir", str(demo_dir), "--user", "nobody", "serve", "--port", str(_free_port()))
    assert result.returncode == 2
    assert "Unknown user 'nobody'" in result.stderr
    assert "Serving" not in result.stdout


def test_without_the_web_extra_serve_says_how_to_install_it(demo_dir: Path) -> None:
    code = (
        "import sys; sys.modules['textual_serve'] = None\n"  # as if textual-serve were not installed
        "from contiple_tui.cli.main import main\n"
        f"sys.exit(main(['--data-dir', {str(demo_dir)!r}, '--user', 'admin', 'serve']))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=os.environ | {"LANG": "en_US.UTF-8"}
    )
    assert result.returncode == 2
    assert "pip install 'contiple-tui[web]'" in result.stderr


def test_serve_is_not_a_choice_over_ssh() -> None:
    with pytest.raises(ValidationError):
        ssh_request(["--user", "agent02"], {"SSH_ORIGINAL_COMMAND": "serve --host 0.0.0.0"})


def test_the_served_command_is_quoted_word_by_word(tmp_path: Path) -> None:
    data_dir = tmp_path / "a dir; rm -rf ~ 'quoted'"
    args = build_parser().parse_args(["--theme", "dark mode", "serve", "--wallboard", "--view", "agents"])
    command = served_command(
        args, Config(data_dir=data_dir, config_file=data_dir / "config.toml", lang="ko"), "agent'01"
    )
    words = shlex.split(command)
    assert words[:3] == [sys.executable, "-m", "contiple_tui"]
    assert words[words.index("--data-dir") + 1] == str(data_dir)
    assert words[words.index("--user") + 1] == "agent'01"
    assert words[words.index("--theme") + 1] == "dark mode"
    assert words[-4:] == ["wallboard", "--kiosk", "--view", "agents"]


def test_only_loopback_addresses_count_as_this_machine() -> None:
    assert loopback("127.0.0.1") and loopback("127.3.2.1") and loopback("::1") and loopback("localhost")
    assert not loopback("0.0.0.0") and not loopback("::") and not loopback("192.0.2.7")
    assert not loopback("console.example.com")


@pytest.mark.skipif(not HAVE_SERVE, reason="needs textual-serve (the web extra)")
def test_the_page_points_its_websocket_at_the_public_address(demo_dir: Path) -> None:
    """Behind a reverse proxy the page must open its websocket through the proxy: the address given with
    --public-url (a trailing slash or not), not the port serve listens on."""
    import urllib.request

    served = Served(demo_dir, "--user", "admin", serve=("--public-url", "https://console.example.com/lee/"))
    try:
        with urllib.request.urlopen(served.url, timeout=10) as answer:
            page = answer.read().decode()
    finally:
        assert served.stop() == 0
    assert 'data-session-websocket-url="wss://console.example.com/lee/ws"' in page
    assert "https://console.example.com/lee/static/js/textual.js" in page
