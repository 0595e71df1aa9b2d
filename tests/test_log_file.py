"""The log file (DATA_DIR/logs/contiple.log, cli/logs.py): the real command line in a process of its
own; operator commands, gateway calls with their result codes, never keys or message bodies; private."""

from __future__ import annotations

import stat
import time

from contiple_tui.cli.logs import LOG_DIRNAME, LOG_FILENAME
from contiple_tui.sim.nhn_server import NhnServer

from .conftest import run_cli
from .smsdata import nhn_env


def _log(data_dir) -> str:
    return (data_dir / LOG_DIRNAME / LOG_FILENAME).read_text(encoding="utf-8")


def test_operator_commands_are_logged_in_a_private_file(demo_dir):
    args = ("users", "add", "--login", "kim", "--name", "김", "--role", "agent", "--service", "cs")
    added = run_cli("--data-dir", str(demo_dir), *args)
    assert added.returncode == 0, added.stderr
    assert run_cli("--data-dir", str(demo_dir), "--debug", "users", "disable", "kim").returncode == 0
    text = _log(demo_dir)
    assert "users add kim role=agent" in text and "users disable kim" in text and "operator " in text
    path = demo_dir / LOG_DIRNAME / LOG_FILENAME
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_gateway_calls_are_logged_with_result_codes_never_keys_or_bodies(demo_dir):
    with NhnServer(app_key="app-key-7f3", secret_key="secret-9c1", sender_numbers=("15880001",)) as server:
        env = nhn_env(server.base_url, "app-key-7f3", "secret-9c1")
        args = ("--data-dir", str(demo_dir), "--user", "agent02", "--lang", "en", "sms", "send")
        sent = run_cli(*args, "--to", "01012345678", "--body", "배송 안내 본문", env=env)
        assert sent.returncode == 0, sent.stderr
        server.fail_next(-9999, endpoint="POST /sender")
        refused = run_cli(*args, "--to", "01012345678", "--body", "두 번째", env=env)
        assert refused.returncode == 2, refused.stderr
    text = _log(demo_dir)
    assert "NHN POST /sender/sms: HTTP 200, resultCode 0" in text
    assert "resultCode -9999" in text
    for secret in ("app-key-7f3", "secret-9c1", "배송 안내 본문", "두 번째"):
        assert secret not in text


def test_an_unexpected_error_is_one_line_on_screen_and_its_traceback_in_the_log(
    demo_dir, monkeypatch, capsys
):
    """A bug (here: the users listing raising RuntimeError) ends the command with exit 1 and one line;
    the log keeps the traceback for whoever investigates."""
    from contiple_tui.cli import directory, logs
    from contiple_tui.cli.main import main

    def broken(args, store):
        raise RuntimeError("a bug in the listing")

    monkeypatch.setattr(directory, "run_users", broken)
    try:
        code = main(["--data-dir", str(demo_dir), "--lang", "en", "users", "list"])
    finally:
        logs.close()
    err = capsys.readouterr().err
    assert code == 1 and len(err.strip().splitlines()) == 1 and "a bug in the listing" in err
    text = _log(demo_dir)
    assert "Traceback" in text and "RuntimeError: a bug in the listing" in text


def test_many_writers_rotate_once_and_keep_the_history(tmp_path):
    """Eight handlers on one file, as eight consoles have, writing in turn: one rotates at a time under
    the lock and the others reopen the new file instead of rotating again, so the history the file and
    its five backups can hold is all kept (Python's own handler lost most of it here)."""
    import logging

    from contiple_tui.cli import logs

    path = tmp_path / "c.log"
    handlers = [
        logs._SharedRotatingFileHandler(path, maxBytes=4_000, backupCount=5, encoding="utf-8")
        for _ in range(8)
    ]
    loggers = []
    for n, handler in enumerate(handlers):
        logger = logging.getLogger(f"rotation-test-{n}")
        logger.propagate = False
        logger.addHandler(handler)
        loggers.append(logger)
    try:
        for i in range(300):  # about 18 kB: the file and five backups of 4 kB hold it all
            loggers[i % 8].warning("line %03d %s", i, "x" * 48)
    finally:
        for logger, handler in zip(loggers, handlers):
            logger.removeHandler(handler)
            handler.close()
    text = "".join(p.read_text() for p in tmp_path.glob("c.log*") if not p.name.endswith(".lock"))
    assert [i for i in range(300) if f"line {i:03d} " in text] == list(range(300))
    assert len(list(tmp_path.glob("c.log.*"))) <= 5 + 1  # five backups (and the lock file)


def test_a_crash_inside_the_console_keeps_its_traceback_in_the_log(demo_dir):
    """Textual prints a crash's traceback on the terminal, gone once the person closes it; the log keeps
    it. The crash: a row another program wrote with a status this one cannot read, met when the person
    opens the callback list."""
    import sqlite3

    from contiple_tui.store import DB_FILENAME

    from .ptyrun import PtyProgram

    conn = sqlite3.connect(demo_dir / DB_FILENAME)
    conn.execute("PRAGMA ignore_check_constraints = ON")
    conn.execute(  # requested now: inside the list's default period, whatever today is
        "UPDATE callbacks SET status = 'bogus', requested_at = ?, last_requested_at = ?"
        " WHERE id = (SELECT max(id) FROM callbacks WHERE service_id ="
        " (SELECT id FROM services WHERE code = 'cs'))",  # admin's first service, the one shown
        (int(time.time()), int(time.time())),
    )
    conn.commit()
    conn.close()
    program = PtyProgram(["--data-dir", str(demo_dir), "--user", "admin", "--lang", "en"], env={})
    try:
        assert program.read_until(b"Callback list", timeout=60)
        program.send(b"\x1b[B")  # Down: the Callbacks group
        time.sleep(0.3)
        program.send(b"\x1b[B")  # Down: Callback list
        time.sleep(0.3)
        program.send(b"\r")
        assert program.wait(60) == 1
    finally:
        program.close()
    text = _log(demo_dir)
    assert "the ContipleApp crashed" in text and "Traceback" in text
    assert "ValueError: 'bogus' is not a valid CallbackStatus" in text
