"""The terminal is borrowed: no full-screen command without one, and it is always given back.

The real program in a pseudo-terminal: after SIGTERM or SIGHUP the bytes it writes leave the alternate
screen, turn mouse reporting off and show the cursor, the pty is back in cooked mode, and the process
ends promptly with the documented code (contiple_tui/terminal.py). When the other side of the pty goes
away (a dropped SSH client) it ends without spinning. Without a tty it refuses with one line.
"""

from __future__ import annotations

import os
import pty
import signal
import sqlite3
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from contiple_tui.terminal import EXIT_HANGUP, EXIT_TERMINATED, GRACE_ENV, RESTORE_SEQUENCE

from .conftest import run_cli
from .ptyrun import PtyProgram

ALT_SCREEN_OFF = b"\x1b[?1049l"
CURSOR_ON = b"\x1b[?25h"
MOUSE_ON = b"\x1b[?1000h"
MOUSE_OFF = (b"\x1b[?1000l", b"\x1b[?1003l", b"\x1b[?1015l", b"\x1b[?1006l")
# Written by the hard exit's restore sequence and never by Textual here (its pixel mouse mode stays off
# in a pty that does not answer the in-band resize query): tells the two ways out apart.
HARD_EXIT_ONLY = b"\x1b[?1016l"
# The programs here run with a generous grace period, so that Textual's normal shutdown on a loaded
# 2-core machine (the suite runs twice in CI, once under faketime) is never cut short by the hard exit
# that HARD_EXIT_ONLY tells apart; "promptly" is then a bound of its own, measured from the signal.
NORMAL_GRACE_S = 15.0
GRACE = {GRACE_ENV: str(NORMAL_GRACE_S)}
PROMPT_S = 10.0  # "promptly": from the signal to the exit, a loaded machine's slack included


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo store, seeded once for the module: ROOT/demo holds it."""
    root = tmp_path_factory.mktemp("terminal")
    result = run_cli("--data-dir", str(root), "demo", "--seed-only", "--callbacks", "50")
    assert result.returncode == 0, result.stderr
    return root


# name: (command line from the data root, text that shows the screen is up, whether the mouse is on)
PROGRAMS = {
    "demo": (lambda root: ["--data-dir", str(root), "--lang", "en", "demo"], b"Quit", True),
    "console": (
        lambda root: ["--data-dir", str(root / "demo"), "--lang", "en", "--user", "admin"],
        b"Quit",
        True,
    ),
    "kiosk": (
        lambda root: [
            "--data-dir",
            str(root / "demo"),
            "--lang",
            "en",
            "--user",
            "tv",
            "wallboard",
            "--kiosk",
        ],
        b"Wallboard",
        False,
    ),
}


def _start(name: str, root: Path, **options) -> PtyProgram:
    argv, ready, _mouse = PROGRAMS[name]
    program = PtyProgram(argv(root), env=dict(GRACE), **options)
    ok = program.read_until(ready, b"\x1b[?25l", timeout=30)
    assert ok, bytes(program.output[-2000:]).decode(errors="replace")
    program.read_until(b"\x00never", timeout=0.3)  # let the first screen settle
    return program


def _cooked(slave_name: str) -> bool:
    """Is the pty back in the mode a shell expects (line editing and echo on)?"""
    fd = os.open(slave_name, os.O_RDWR | os.O_NOCTTY)
    try:
        lflag = termios.tcgetattr(fd)[3]
    finally:
        os.close(fd)
    return bool(lflag & termios.ICANON) and bool(lflag & termios.ECHO)


@pytest.mark.parametrize(
    "name, signum",
    [
        ("demo", signal.SIGTERM),
        ("demo", signal.SIGHUP),
        ("console", signal.SIGTERM),
        ("kiosk", signal.SIGTERM),
        ("kiosk", signal.SIGHUP),
    ],
)
def test_signal_gives_the_terminal_back_and_exits(data, name, signum):
    program = _start(name, data)
    try:
        assert not _cooked(program.slave_name)  # the app has the terminal in raw mode
        seen = len(program.output)
        started = time.monotonic()
        os.kill(program.proc.pid, signum)
        code = program.wait(NORMAL_GRACE_S + 5)
        elapsed = time.monotonic() - started
        after = bytes(program.output[seen:])
        expected = EXIT_TERMINATED if signum == signal.SIGTERM else EXIT_HANGUP
        assert code == expected, (code, after[-500:])
        assert elapsed < PROMPT_S
        assert ALT_SCREEN_OFF in after and CURSOR_ON in after, after[-500:]
        # Once the main screen is back: the cursor shown, and nothing takes the terminal again.
        tail = after[after.rindex(ALT_SCREEN_OFF) :]
        assert CURSOR_ON in tail
        assert b"\x1b[?1049h" not in tail and b"\x1b[?25l" not in tail and MOUSE_ON not in tail
        if PROGRAMS[name][2]:
            assert MOUSE_ON in program.output[:seen]
            for sequence in MOUSE_OFF:
                assert sequence in after, sequence
        else:  # the kiosk never turns the mouse on
            assert MOUSE_ON not in program.output
        assert _cooked(program.slave_name)
        assert HARD_EXIT_ONLY not in after  # Textual's own exit gave the terminal back
        if name == "demo":  # the demo's simulator outlives it (for other consoles), then ends by itself
            _simulator_ends(data / "demo")
    finally:
        program.close()


def _simulator_ends(demo_dir) -> None:
    """Nobody connected any more (CONTIPLE_TUI_DEMO_SIM_IDLE_S=2 under tests): it ends and unregisters."""
    from contiple_tui.sim.embedded import SIM_FILE

    deadline = time.monotonic() + 20
    while (demo_dir / SIM_FILE).exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not (demo_dir / SIM_FILE).exists()


@pytest.mark.parametrize("name, controlling", [("demo", False), ("console", True), ("kiosk", False)])
def test_dropped_terminal_ends_the_program_without_spinning(data, name, controlling):
    """The pty's other side closes (an SSH client that went away): the program reads end of input (and,
    when the pty is its controlling terminal, gets SIGHUP) and exits with 129, without burning a core."""
    program = _start(name, data, controlling=controlling)
    try:
        cpu_before = program.cpu_seconds()
        started = time.monotonic()
        program.close_master()
        code, cpu_total = program.wait_with_usage(NORMAL_GRACE_S + 5, drain=False)
        elapsed = time.monotonic() - started
        assert code == EXIT_HANGUP, code
        assert elapsed < PROMPT_S
        # Spinning until the hard exit would cost about a core for that long; a normal exit, little.
        assert cpu_total - cpu_before < 1.0, (cpu_before, cpu_total)
    finally:
        program.close()


def test_a_read_that_would_block_is_not_a_hang_up(data):
    """The program's terminal is non-blocking and shared with another reader (a parent that set
    O_NONBLOCK on the same open file, a second process reading it): the other reader often takes the
    bytes between the program's select and its read, which then fails with EAGAIN. That is no hang-up:
    the program keeps running, and SIGTERM still ends it the normal way."""
    import fcntl
    import select
    import threading

    program = _start("kiosk", data, keep_slave=True)
    stop = threading.Event()
    taken = [0]

    def other_reader() -> None:
        while not stop.is_set():
            ready, _, _ = select.select([program.slave], [], [], 0.05)
            if ready:
                try:
                    taken[0] += len(os.read(program.slave, 4096))
                except (BlockingIOError, OSError):
                    pass

    try:
        flags = fcntl.fcntl(program.slave, fcntl.F_GETFL)
        fcntl.fcntl(program.slave, fcntl.F_SETFL, flags | os.O_NONBLOCK)  # the program's stdin too
        thread = threading.Thread(target=other_reader, daemon=True)
        thread.start()
        for _ in range(300):  # harmless keys for a kiosk, one at a time: both readers wake for each
            program.send(b"z")
            program.read_until(b"\x00never", timeout=0.01)
            if program.proc.poll() is not None:
                break
        stop.set()
        thread.join(5)
        assert program.proc.poll() is None, program.proc.returncode  # not taken for a hang-up (129)
        assert taken[0] > 0  # the other reader did take bytes away
        fcntl.fcntl(program.slave, fcntl.F_SETFL, flags)
        seen = len(program.output)
        os.kill(program.proc.pid, signal.SIGTERM)
        assert program.wait(PROMPT_S + NORMAL_GRACE_S) == EXIT_TERMINATED
        assert HARD_EXIT_ONLY not in program.output[seen:]
    finally:
        stop.set()
        program.close()


def _no_tty_run(
    *args: str, stdin=subprocess.DEVNULL, lang: str = "en_US.UTF-8"
) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONTIPLE_TUI_", "TEXTUAL"))}
    env.update({"LANG": lang, "PYTHONIOENCODING": "utf-8"})
    env.pop("LC_ALL", None)
    return subprocess.run(
        [sys.executable, "-m", "contiple_tui", *args], stdin=stdin, capture_output=True, env=env, timeout=60
    )


@pytest.mark.parametrize(
    "command", [[], ["demo"], ["--user", "tv", "wallboard"], ["--user", "tv", "wallboard", "--kiosk"]]
)
def test_full_screen_commands_refuse_without_a_tty(data, command):
    if command == ["demo"]:
        args = ["--data-dir", str(data), "demo"]
    else:
        args = ["--data-dir", str(data / "demo"), *(["--user", "admin"] if not command else command)]
    for stdin in (subprocess.DEVNULL, subprocess.PIPE):
        result = _no_tty_run(*args, stdin=stdin)
        assert result.returncode == 2
        lines = result.stderr.decode().strip().splitlines()
        assert len(lines) == 1 and "no terminal" in lines[0], result.stderr
        assert result.stdout == b""
        assert b"\x1b" not in result.stderr


def test_textual_serve_is_not_refused(data):
    """textual-serve runs the console with pipes and its web driver named in TEXTUAL_DRIVER."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONTIPLE_TUI_", "TEXTUAL"))}
    env.update(
        {
            "LANG": "C.UTF-8",
            "TEXTUAL_DRIVER": "textual.drivers.web_driver:WebDriver",
            "COLUMNS": "80",
            "ROWS": "24",
        }
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "contiple_tui", "--data-dir", str(data / "demo"), "--user", "admin"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        assert proc.stdout.readline() == b"__GANGLION__\n"  # the web driver's greeting: it runs
    finally:
        proc.terminate()
        proc.wait(10)
    assert b"no terminal" not in proc.stderr.read()


def test_stdin_a_terminal_but_stdout_a_pipe_is_refused_too(data):
    master, slave = pty.openpty()
    try:
        result = _no_tty_run("--data-dir", str(data / "demo"), "--user", "admin", stdin=slave)
    finally:
        os.close(slave)
        os.close(master)
    assert result.returncode == 2 and b"no terminal" in result.stderr and b"\x1b" not in result.stdout


def test_refusal_in_korean_and_demo_not_seeded_without_a_tty(tmp_path):
    result = _no_tty_run("--data-dir", str(tmp_path), "demo", lang="ko_KR.UTF-8")
    assert result.returncode == 2
    lines = result.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and "터미널이 없습니다" in lines[0]
    assert not (tmp_path / "demo").exists()  # refused before creating, seeding or starting anything
    # Nor does --reset delete anything first.
    assert run_cli("--data-dir", str(tmp_path), "demo", "--seed-only", "--callbacks", "5").returncode == 0
    db = tmp_path / "demo" / "contiple.sqlite3"
    before = db.read_bytes()
    assert _no_tty_run("--data-dir", str(tmp_path), "demo", "--reset").returncode == 2
    assert db.read_bytes() == before


def _older_schema_store(folder: Path) -> Path:
    """A store as the previous version of the program left it: one migration behind."""
    from contiple_tui.store.connection import _split_sql
    from contiple_tui.store.migrations import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION

    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "contiple.sqlite3"
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    for script in MIGRATIONS[: SCHEMA_VERSION - 1]:
        for statement in _split_sql(script):
            conn.execute(statement)
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION - 1}")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return db


@pytest.mark.parametrize("command", [[], ["wallboard"], ["wallboard", "--kiosk"]])
def test_no_tty_refusal_comes_before_the_store_is_migrated_or_created(tmp_path, command):
    """README: without a terminal the full-screen commands refuse "before touching anything" -- also
    when opening the store would migrate it (an older schema) or create it (none yet)."""
    old = tmp_path / "old"
    db = _older_schema_store(old)
    before, files = db.read_bytes(), sorted(p.name for p in old.iterdir())
    result = _no_tty_run("--data-dir", str(old), "--user", "admin", *command)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and "no terminal" in lines[0], result.stderr
    assert db.read_bytes() == before and sorted(p.name for p in old.iterdir()) == files
    new = tmp_path / "new"
    result = _no_tty_run("--data-dir", str(new), "--user", "admin", *command)
    assert result.returncode == 2 and len(result.stderr.decode().strip().splitlines()) == 1
    assert not new.exists()


def test_non_interactive_commands_work_without_a_tty(data, tmp_path):
    demo = str(data / "demo")
    for args in (
        ["--version"],
        ["--data-dir", demo, "config", "path"],
        ["--data-dir", demo, "users", "list"],
        ["--data-dir", demo, "services", "list"],
        ["--data-dir", demo, "--user", "admin", "sms", "history"],
        ["--data-dir", str(tmp_path), "demo", "--seed-only", "--callbacks", "5"],
        ["--data-dir", demo, "--user", "admin", "export", "callbacks", "-o", str(tmp_path / "cb.xlsx")],
    ):
        result = _no_tty_run(*args)
        assert result.returncode == 0, (args, result.stderr)
        assert b"no terminal" not in result.stderr
    assert (tmp_path / "cb.xlsx").stat().st_size > 0


# -- the hard way out, with a stand-in app whose exit never finishes ---------------------------------

_STUCK_APP = """
import asyncio, os, signal, sys, threading, time
from contiple_tui.terminal import TerminalGuard

class StuckApp:
    def exit(self, return_code=0):
        pass  # a shutdown that never finishes (a stuck worker thread, say)

guard = TerminalGuard(StuckApp(), grace_s={grace}, out_fd=1)  # None: from the environment
guard.install()

def send():  # from another thread, after the loop runs (or is blocked)
    for signum in {signals}:
        time.sleep(0.2)
        if {to_main}:
            signal.pthread_kill(threading.main_thread().ident, signum)
        else:
            os.kill(os.getpid(), signum)

async def main():
    guard.driver_started(asyncio.get_running_loop())
    sys.stderr.write("ready\\n")  # start-up is over: the test's clock starts here
    sys.stderr.flush()
    threading.Thread(target=send, daemon=True).start()
    {stuck}

asyncio.run(main())
"""
IDLE = "await asyncio.sleep(30)"  # the loop runs, the app just never leaves
BLOCKED = "time.sleep(30)"  # the loop itself is blocked


def _run_stuck(script: str, env: dict[str, str] | None = None) -> tuple[subprocess.CompletedProcess, float]:
    """Run a stand-in; the seconds from its "ready" (interpreter start-up excluded) to its end."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("CONTIPLE_TUI_")} | (env or {})
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=full_env
    )
    try:
        assert proc.stderr.readline() == b"ready\n"
        started = time.monotonic()
        stdout, stderr = proc.communicate(timeout=60)
        elapsed = time.monotonic() - started
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr), elapsed


# The signals come 0.2 s apart after "ready". Bounds are generous (a loaded machine) yet far below what
# the wrong behaviour takes: a grace period of 30 s where "at once" is expected.
@pytest.mark.parametrize(
    "signals, grace, env, limit, stuck",
    [
        ((signal.SIGTERM,), 0.5, None, 8.0, IDLE),  # one signal: the hard exit after the grace period
        ((signal.SIGTERM,), 0.5, None, 8.0, BLOCKED),
        ((signal.SIGTERM,), None, {GRACE_ENV: "0.5"}, 8.0, IDLE),  # the grace period from the environment
        ((signal.SIGTERM, signal.SIGTERM), 30, None, 15.0, IDLE),  # a second SIGTERM: at once
        (
            (signal.SIGTERM, signal.SIGINT),
            30,
            None,
            15.0,
            IDLE,
        ),  # or SIGINT: at once, with the first one's code
    ],
)
def test_stuck_shutdown_still_restores_and_exits(signals, grace, env, limit, stuck):
    script = _STUCK_APP.format(
        grace=grace, signals=tuple(int(s) for s in signals), stuck=stuck, to_main=False
    )
    result, elapsed = _run_stuck(script, env)
    assert result.returncode == EXIT_TERMINATED, result.stderr
    assert result.stdout == RESTORE_SEQUENCE
    for sequence in (ALT_SCREEN_OFF, CURSOR_ON, *MOUSE_OFF):
        assert sequence in result.stdout
    assert elapsed < limit


def test_the_grace_period_from_the_environment_is_waited_for():
    """CONTIPLE_TUI_EXIT_GRACE_S lengthens the grace period; a value out of range is ignored (3 s)."""
    from contiple_tui.terminal import GRACE_S, grace_seconds

    assert grace_seconds({GRACE_ENV: "15"}) == 15.0
    for bad in ("", "soon", "nan", "0", "-1", "601", "inf"):
        assert grace_seconds({GRACE_ENV: bad}) == GRACE_S, bad
    script = _STUCK_APP.format(grace=None, signals=(int(signal.SIGTERM),), stuck=IDLE, to_main=False)
    result, elapsed = _run_stuck(script, {GRACE_ENV: "2.5"})
    assert result.returncode == EXIT_TERMINATED and result.stdout == RESTORE_SEQUENCE
    assert elapsed >= 2.5  # not the default 3 s either way round: waited at least what was asked


def test_a_repeated_sighup_does_not_cut_the_normal_exit_short():
    """A hung-up controlling terminal signals the session leader and the foreground group: the second
    SIGHUP waits for the normal exit like the first (here: the grace period of a stuck stand-in)."""
    script = _STUCK_APP.format(
        grace=1.0, signals=(int(signal.SIGHUP), int(signal.SIGHUP)), stuck=IDLE, to_main=True
    )
    result, elapsed = _run_stuck(script)
    assert result.returncode == EXIT_HANGUP and result.stdout == RESTORE_SEQUENCE
    assert elapsed >= 1.0


def test_terminal_module_is_textual_free():
    """The guard and the tty check are imported by the CLI before any app: no textual there."""
    code = "import sys, contiple_tui.terminal; print('textual' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert result.stdout.strip() == "False", result.stderr


@pytest.mark.parametrize("name", ["console", "kiosk"])
def test_a_cti_feed_that_never_answers_does_not_hold_the_exit(data, name):
    """The CTI client connects to a server that accepts and then says nothing: SIGTERM still ends the
    program promptly through its normal exit (no client task or thread keeps it alive)."""
    import socket
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    accepted: list = []

    def accept() -> None:
        try:
            while True:
                accepted.append(server.accept())
        except OSError:
            pass

    threading.Thread(target=accept, daemon=True).start()
    argv, ready, _mouse = PROGRAMS[name]
    url = f"ws://127.0.0.1:{server.getsockname()[1]}"
    program = PtyProgram(
        [*argv(data)[:-2], "--cti-url", url, *argv(data)[-2:]]
        if name == "kiosk"
        else [*argv(data), "--cti-url", url],
        env=dict(GRACE),
    )
    try:
        assert program.read_until(ready, timeout=30), bytes(program.output[-2000:]).decode(errors="replace")
        for _ in range(50):
            if accepted:
                break
            program.read_until(b"\x00never", timeout=0.1)
        assert accepted  # the client is waiting for an answer that never comes
        seen = len(program.output)
        started = time.monotonic()
        os.kill(program.proc.pid, signal.SIGTERM)
        assert program.wait(NORMAL_GRACE_S + 5) == EXIT_TERMINATED
        assert time.monotonic() - started < PROMPT_S
        assert ALT_SCREEN_OFF in program.output[seen:]
        assert HARD_EXIT_ONLY not in program.output[seen:]  # the normal exit, not the hard one
    finally:
        program.close()
        server.close()
        for conn, _addr in accepted:
            conn.close()
