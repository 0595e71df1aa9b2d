"""The fault matrix of docs/faults.md, one test (or a few) per row, with real faults only.

Read-only files and directories: the command runs as an unprivileged user (``setpriv``), since root
ignores permission bits, or as root against an immutable file (``chattr +i``). A full disk: a small
tmpfs mounted for the test and filled up. A damaged page: bytes of a table's pages overwritten after
the open check. A newer database: ``PRAGMA user_version`` beyond what the program knows.

Every refusal is one line on stderr in the user's language, exit code 2, and the store unchanged;
a crash is one line and exit 1, never 0.
"""

from __future__ import annotations

import hashlib
import os
import pty
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from contiple_tui.domain.models import CallbackStatus
from contiple_tui.store import DB_FILENAME, SCHEMA_VERSION, Store

from .apphelpers import StorePolls, until
from .conftest import run_cli

NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


# -- helpers ------------------------------------------------------------------------------------------


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def listing(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def cli_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONTIPLE_TUI_")}
    env.update({"LANG": "en_US.UTF-8", "PYTHONIOENCODING": "utf-8"})
    env.pop("LC_ALL", None)
    env.update(extra or {})
    return env


def run(*args: str, prefix: list[str] = (), env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """The real command line, as `prefix` (e.g. as nobody) if given."""
    if not prefix:
        return run_cli(*args, env=env)
    return subprocess.run(
        [*prefix, sys.executable, "-m", "contiple_tui", *args],
        capture_output=True,
        text=True,
        env=cli_env(env),
        timeout=60,
    )


def run_console(
    *args: str, prefix: list[str] = (), env: dict[str, str] | None = None, timeout: float = 30.0
) -> tuple[int, str]:
    """Start the console at a terminal (stdin, stdout and stderr ptys; stderr a pty of its own, read
    apart). The faults here are found before the screen opens, so the program must end by itself with
    one line on stderr."""
    master, slave = pty.openpty()
    err_master, err_slave = pty.openpty()
    full = cli_env({"TERM": "xterm-256color"} | (env or {}))
    proc = subprocess.Popen(
        [*prefix, sys.executable, "-m", "contiple_tui", *args],
        stdin=slave,
        stdout=slave,
        stderr=err_slave,
        env=full,
        start_new_session=True,
        close_fds=True,
    )
    os.close(slave)
    os.close(err_slave)
    os.set_blocking(master, False)
    os.set_blocking(err_master, False)
    err = bytearray()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            for fd in (master, err_master):
                try:
                    chunk = os.read(fd, 65536)
                except (BlockingIOError, OSError):
                    continue
                if fd == err_master:
                    err += chunk
            if proc.poll() is not None:
                break
            time.sleep(0.05)
        try:
            err += os.read(err_master, 65536)
        except (BlockingIOError, OSError):
            pass
        if proc.poll() is None:
            proc.kill()
            proc.wait()
            raise AssertionError("the console started instead of refusing")
        return proc.returncode, err.decode("utf-8", "replace").replace("\r\n", "\n")
    finally:
        os.close(master)
        os.close(err_master)


def one_line(stderr: str, code: int, returncode: int, *needles: str, absent: tuple[str, ...] = ()) -> str:
    assert returncode == code, stderr
    assert "Traceback" not in stderr and "Exception ignored" not in stderr, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    for word in absent:
        assert word not in lines[0], lines[0]
    return lines[0]


def refused(result: subprocess.CompletedProcess, *needles: str, absent: tuple[str, ...] = ()) -> str:
    return one_line(result.stderr, 2, result.returncode, *needles, absent=absent)


# Three ways in on the command line: a listing, an export, the SMS history (the console start apart).
def commands(out: Path) -> list[tuple[str, ...]]:
    return [("users", "list"), ("export", "callbacks", "-o", str(out)), ("sms", "history")]


@pytest.fixture
def shared_tmp():
    """A directory every user may enter (pytest's own tmp is root's alone)."""
    path = Path(tempfile.mkdtemp(prefix="contiple-faults-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def nobody(shared_tmp):
    if shutil.which("setpriv") is None or os.geteuid() != 0:
        pytest.skip("FAULT TESTS SKIPPED: read-only cases need root and setpriv to run as nobody")
    probe = subprocess.run([*NOBODY, sys.executable, "-c", "import contiple_tui"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("FAULT TESTS SKIPPED: nobody cannot run this Python: " + probe.stderr.decode()[-200:])
    return NOBODY


class Tmpfs:
    def __init__(self, path: Path) -> None:
        self.path = path

    def fill(self, spare: int = 0) -> None:
        """Fill the filesystem, then give back ``spare`` bytes (whole pages)."""
        ballast = self.path / "ballast"
        fd = os.open(ballast, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            for size in (1 << 20, 65536, 4096):
                try:
                    while True:
                        os.write(fd, b"\0" * size)
                except OSError:
                    pass
        finally:
            os.close(fd)
        if spare:
            os.truncate(ballast, max(ballast.stat().st_size - spare, 0))

    def free(self) -> None:
        (self.path / "ballast").unlink(missing_ok=True)


@pytest.fixture
def tmpfs(shared_tmp):
    """A 4 MB filesystem of our own, to fill up: a real ENOSPC, not a mock."""
    mount = shared_tmp / "small-disk"
    mount.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m,mode=0777", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        pytest.skip(
            f"FAULT TESTS SKIPPED: cannot mount a small tmpfs for the disk-full cases: {result.stderr}"
        )
    yield Tmpfs(mount)
    subprocess.run(["umount", "-l", str(mount)], check=False)


def copy_demo(demo_template: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / DB_FILENAME
    shutil.copy(demo_template, db)
    return db


def assigned_callback(db: Path) -> int:
    return (
        sqlite3.connect(db)
        .execute("SELECT id FROM callbacks WHERE status = 'assigned' LIMIT 1")
        .fetchone()[0]
    )


def status_of(db: Path, callback_id: int) -> str:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT status FROM callbacks WHERE id = ?", (callback_id,)).fetchone()[0]
    finally:
        conn.close()


def pages_of(db: Path, table: str) -> list[int]:
    conn = sqlite3.connect(db)
    try:
        return [row[0] for row in conn.execute("SELECT pageno FROM dbstat WHERE name = ?", (table,))]
    finally:
        conn.close()


def damage(db: Path, table: str) -> None:
    """Overwrite every page of ``table`` with garbage; the schema (page 1) stays intact."""
    pages = pages_of(db, table)
    page_size = sqlite3.connect(db).execute("PRAGMA page_size").fetchone()[0]
    assert pages and 1 not in pages
    with open(db, "r+b") as f:
        for page in pages:
            f.seek((page - 1) * page_size)
            f.write(b"\xa5" * page_size)


# -- read-only database file -----------------------------------------------------------------------


def test_read_only_database_file_is_refused_and_untouched(nobody, shared_tmp, demo_template):
    data = shared_tmp / "data"
    db = copy_demo(demo_template, data)
    shutil.chown(data, user="nobody")  # the directory is theirs, the database is root's (0644)
    before, files = digest(db), listing(data)
    out = shared_tmp / "out" / "cb.xlsx"
    (shared_tmp / "out").mkdir(mode=0o777)
    (shared_tmp / "out").chmod(0o777)
    for command in commands(out):
        result = run("--data-dir", str(data), "--user", "admin", *command, prefix=nobody)
        refused(result, "read-only", str(db), absent=("damaged",))
    result = run("--data-dir", str(data), "--user", "admin", "--lang", "ko", "users", "list", prefix=nobody)
    refused(result, "읽기 전용")
    code, err = run_console("--data-dir", str(data), "--user", "admin", prefix=nobody)
    one_line(err, 2, code, "read-only")
    assert digest(db) == before and listing(data) == files  # no -wal or -shm of nobody's beside it
    assert not out.exists()


def test_immutable_database_file_is_refused_even_for_root(shared_tmp, demo_template):
    data = shared_tmp / "data"
    db = copy_demo(demo_template, data)
    if subprocess.run(["chattr", "+i", str(db)], capture_output=True).returncode != 0:
        pytest.skip("FAULT TESTS SKIPPED: chattr +i does not work on this filesystem")
    try:
        before = digest(db)
        refused(run("--data-dir", str(data), "users", "disable", "agent03"), "read-only")
        assert digest(db) == before
    finally:
        subprocess.run(["chattr", "-i", str(db)], check=False)


# -- another account's configuration -------------------------------------------------------------------


def test_a_configuration_of_another_account_is_refused(nobody, shared_tmp, demo_template):
    """nobody's console, with a config.toml of the daemon account (0644: nobody may read it, not change
    it): that account could point the gateways or the CTI elsewhere, so it is refused, as OpenSSH refuses
    such a key (a file of root's or one's own is trusted)."""
    data = shared_tmp / "data"
    copy_demo(demo_template, data)
    shutil.chown(data, user="nobody")
    db = data / DB_FILENAME
    shutil.chown(db, user="nobody")
    config_file = data / "config.toml"
    config_file.write_text('[ui]\nlang = "en"\n')
    config_file.chmod(0o644)
    shutil.chown(config_file, user="daemon")
    result = run("--data-dir", str(data), "--user", "admin", "users", "list", prefix=nobody)
    refused(result, "belongs to another account", str(config_file), "chown")
    shutil.chown(config_file, user="nobody")
    assert run("--data-dir", str(data), "--user", "admin", "users", "list", prefix=nobody).returncode == 0


# -- read-only data directory ----------------------------------------------------------------------


def test_read_only_data_directory_is_refused_and_untouched(nobody, shared_tmp, demo_template):
    data = shared_tmp / "data"
    db = copy_demo(demo_template, data)
    db.chmod(0o666)  # the file would be writable; the directory (root's, 0755) is not
    before, files = digest(db), listing(data)
    out = shared_tmp / "cb.xlsx"
    for command in commands(out):
        result = run("--data-dir", str(data), "--user", "admin", *command, prefix=nobody)
        refused(result, "not writable", str(data))
    refused(run("--data-dir", str(data), "--lang", "ko", "users", "list", prefix=nobody), "쓸 수 없습니다")
    code, err = run_console("--data-dir", str(data), "--user", "admin", prefix=nobody)
    one_line(err, 2, code, "not writable")
    assert digest(db) == before and listing(data) == files


# -- disk full -----------------------------------------------------------------------------------------


def test_disk_full_at_open_is_not_damage(tmpfs, demo_template, shared_tmp):
    data = tmpfs.path / "data"
    db = copy_demo(demo_template, data)
    tmpfs.fill()
    before = digest(db)
    out = shared_tmp / "cb.xlsx"
    for command in commands(out):
        result = run("--data-dir", str(data), "--user", "admin", *command)
        refused(result, "is full", absent=("damaged",))
    refused(run("--data-dir", str(data), "--lang", "ko", "users", "list"), "가득 찼습니다", absent=("손상",))
    code, err = run_console("--data-dir", str(data), "--user", "admin")
    one_line(err, 2, code, "is full")
    assert digest(db) == before
    assert not out.exists()


def test_disk_full_when_creating_the_store_leaves_no_empty_database(tmpfs):
    data = tmpfs.path / "new"
    data.mkdir()
    tmpfs.fill()
    result = run("--data-dir", str(data), "services", "add", "--code", "cs", "--name", "고객센터")
    refused(result, "is full", absent=("damaged",))
    assert not (data / DB_FILENAME).exists() or (data / DB_FILENAME).stat().st_size == 0
    tmpfs.free()  # with room again, the same command works
    assert (
        run("--data-dir", str(data), "services", "add", "--code", "cs", "--name", "고객센터").returncode == 0
    )


def test_disk_full_during_a_write_changes_nothing(tmpfs, demo_template):
    data = tmpfs.path / "data"
    db = copy_demo(demo_template, data)
    tmpfs.fill(spare=32 * 1024)  # room for SQLite's shared memory, none for the write-ahead log
    before = digest(db)
    result = run("--data-dir", str(data), "users", "disable", "agent03")
    refused(result, "is full", absent=("damaged",))
    assert digest(db) == before
    tmpfs.free()
    disabled = sqlite3.connect(db).execute("SELECT disabled FROM users WHERE login = 'agent03'").fetchone()[0]
    assert disabled == 0


def test_disk_full_during_an_export(tmpfs, demo_dir):
    out = tmpfs.path / "cb.xlsx"
    tmpfs.fill(spare=8 * 1024)  # the export starts, then runs out of room
    for lang, needle in (("en", "the disk is full"), ("ko", "디스크가 가득 찼습니다")):
        result = run(
            "--data-dir",
            str(demo_dir),
            "--user",
            "admin",
            "--lang",
            lang,
            "export",
            "callbacks",
            "-o",
            str(out),
        )
        refused(result, needle, absent=("damaged", "손상"))
    assert listing(tmpfs.path) == {"ballast"}  # no half-written file, no temporary file


# -- damaged page after the open check -------------------------------------------------------------


def test_damaged_page_after_the_open_check(demo_dir, shared_tmp):
    db = demo_dir / DB_FILENAME
    damage(db, "callbacks")
    out = shared_tmp / "cb.xlsx"
    result = run("--data-dir", str(demo_dir), "--user", "admin", "export", "callbacks", "-o", str(out))
    refused(result, "damaged", absent=("full",))
    assert not out.exists() and not list(shared_tmp.glob(".cb.xlsx.*"))
    refused(
        run(
            "--data-dir",
            str(demo_dir),
            "--user",
            "admin",
            "--lang",
            "ko",
            "export",
            "callbacks",
            "-o",
            str(out),
        ),
        "손상",
    )
    code, err = run_console("--data-dir", str(demo_dir), "--user", "admin")
    one_line(err, 2, code, "damaged")
    # What the damage does not reach still works.
    assert run("--data-dir", str(demo_dir), "users", "list").returncode == 0


def test_damaged_sms_pages(tmp_path):
    from contiple_tui.sim import demo

    db = tmp_path / DB_FILENAME
    store = Store(db)  # the demo's SMS world, so that the SMS tables have pages of their own
    demo.seed(store, callbacks=20, agents=4, now=time.time(), sms=True)
    store.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    damage(db, "sms_messages")
    refused(run("--data-dir", str(tmp_path), "--user", "admin", "sms", "history"), "damaged")


# -- newer database ------------------------------------------------------------------------------------


def test_database_from_a_newer_version(demo_dir, shared_tmp):
    db = demo_dir / DB_FILENAME
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    before = digest(db)
    for command in commands(shared_tmp / "cb.xlsx"):
        refused(run("--data-dir", str(demo_dir), "--user", "admin", *command), "newer", "Upgrade")
    refused(run("--data-dir", str(demo_dir), "--lang", "ko", "users", "list"), "업그레이드")
    code, err = run_console("--data-dir", str(demo_dir), "--user", "admin")
    one_line(err, 2, code, "newer")
    assert digest(db) == before


# -- unknown user ------------------------------------------------------------------------------------


def test_unknown_user_creates_no_data_directory(tmp_path):
    new = tmp_path / "new"
    for command in ((), ("export", "callbacks", "-o", str(tmp_path / "x.xlsx")), ("sms", "history")):
        result = run("--data-dir", str(new), "--user", "ghost", *command)
        refused(result, "Unknown user 'ghost'")
        assert not new.exists()
    code, err = run_console("--data-dir", str(new), "--user", "ghost", env={"LANG": "ko_KR.UTF-8"})
    one_line(err, 2, code, "알 수 없는 사용자 'ghost'")
    assert not new.exists()
    # An existing but empty data directory stays empty.
    new.mkdir()
    refused(run("--data-dir", str(new), "--user", "ghost"), "Unknown user")
    assert listing(new) == set()


def test_unknown_user_changes_an_existing_store_in_nothing(demo_dir):
    db = demo_dir / DB_FILENAME
    before, files = digest(db), listing(demo_dir)
    code, err = run_console("--data-dir", str(demo_dir), "--user", "ghost")
    one_line(err, 2, code, "Unknown user 'ghost'")
    assert digest(db) == before and listing(demo_dir) - {"logs"} == files
    log = (demo_dir / "logs" / "contiple.log").read_text()
    assert "refused: Unknown user 'ghost'" in log  # the attempt, for the administrator


# -- a crash is never exit 0 ---------------------------------------------------------------------------


def test_a_crash_is_one_line_and_exit_1(demo_dir, shared_tmp):
    """A row another program wrote, which this one cannot read: not a refusal, a crash."""
    conn = sqlite3.connect(demo_dir / DB_FILENAME)
    conn.execute("PRAGMA ignore_check_constraints = ON")
    conn.execute("UPDATE callbacks SET status = 'bogus' WHERE id = (SELECT min(id) FROM callbacks)")
    conn.commit()
    conn.close()
    out = shared_tmp / "cb.xlsx"
    result = run("--data-dir", str(demo_dir), "--user", "admin", "export", "callbacks", "-o", str(out))
    line = one_line(result.stderr, 1, result.returncode, "unexpected error", "CONTIPLE_TUI_DEBUG")
    assert "bogus" in line
    debug = run(
        "--data-dir",
        str(demo_dir),
        "--user",
        "admin",
        "export",
        "callbacks",
        "-o",
        str(out),
        env={"CONTIPLE_TUI_DEBUG": "1"},
    )
    assert debug.returncode == 1 and "Traceback" in debug.stderr
    assert not out.exists()


# -- the console (Pilot): a message on screen, the console stays up --------------------------------


def _messages(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def test_console_complete_on_a_full_disk_says_so_and_stays_up(tmpfs, demo_template):
    from .apphelpers import make_app, open_callback_list

    db = copy_demo(demo_template, tmpfs.path / "data")
    store = Store(db)
    try:
        app = make_app(store, "admin", lang="en")
        async with app.run_test(size=(100, 30)) as pilot:
            table = await open_callback_list(pilot)
            target = next(c for c in table.rows_by_key.values() if c.status is CallbackStatus.ASSIGNED)
            table.move_cursor(row=table.row_of(target.id))
            table.focus()
            tmpfs.fill()
            await pilot.press("d")
            await until(pilot, lambda: any("is full" in m for m in _messages(app)))
            assert app.is_running and not any("damaged" in m for m in _messages(app))
            assert status_of(db, target.id) == "assigned"  # nothing half-done
            tmpfs.free()  # with room again, the same key works
            await pilot.press("d")
            await until(pilot, lambda: status_of(db, target.id) == "completed")
    finally:
        store.close()


async def test_console_export_on_a_full_disk_says_so_on_the_export_screen(tmpfs, demo_store):
    import gc

    from contiple_tui.screens.export_progress import ExportScreen

    from .apphelpers import make_app, open_callback_list, static_text

    unraisable = []
    previous_hook = sys.unraisablehook
    sys.unraisablehook = unraisable.append
    try:
        app = make_app(demo_store, "admin", lang="en")
        app.config.data_dir = tmpfs.path  # exports go to DATA_DIR/exports, on the small disk
        async with app.run_test(size=(100, 30)) as pilot:
            table = await open_callback_list(pilot)
            table.focus()
            tmpfs.fill(spare=8 * 1024)
            await pilot.press("x")
            await until(pilot, lambda: isinstance(app.screen, ExportScreen) and app.screen.done)
            text = static_text(app.screen.query_one("#export-message"))
            assert "the disk is full" in text and "damaged" not in text
            await pilot.press("escape")
            assert app.is_running
        gc.collect()
        import zipfile

        left_open = [z for z in gc.get_objects() if isinstance(z, zipfile.ZipFile) and z.fp is not None]
    finally:
        sys.unraisablehook = previous_hook
    assert unraisable == []  # no ZipFile.__del__ complaint now…
    assert left_open == []  # …nor later, when a zip left open would be collected
    exports = tmpfs.path / "exports"
    assert not exports.exists() or list(exports.iterdir()) == []


async def test_console_damaged_page_is_said_not_an_empty_list(demo_dir):
    from textual.widgets import Static

    from .apphelpers import make_app, static_text

    db = demo_dir / DB_FILENAME
    store = Store(db)
    try:
        app = make_app(store, "admin", lang="en")
        async with app.run_test(size=(100, 30)) as pilot:
            damage(db, "callbacks")  # the console is up: the open check passed long ago
            app.show_menu("callback_list")
            await until(pilot, lambda: app.query("#cb-status-line"))
            line = app.query_one("#cb-status-line", Static)
            await until(pilot, lambda: "damaged" in static_text(line))
            assert "full" not in static_text(line)
            assert app.is_running
    finally:
        store.close()


async def test_callback_request_on_a_full_disk_is_kept_for_replay(tmpfs, demo_template):
    """The phone system's callback request cannot be stored: said on screen, and the position in the
    feed that the console saves stays before it, so the next console takes it in (nothing lost)."""
    from contiple_tui.core.feed_intake import POSITION_KEY

    from .apphelpers import make_app, workers_done
    from .ctiserver import replaying_missed_request

    db = copy_demo(demo_template, tmpfs.path / "data")
    store = Store(db)
    server = replaying_missed_request(store, "cb-full-1")
    await server.start()
    try:
        app = make_app(store, "admin", lang="en", cti_url=server.url)
        tmpfs.fill()
        async with app.run_test() as pilot:
            await until(pilot, lambda: app.cti.live and any("is full" in m for m in _messages(app)))
            await workers_done(app)
            assert app.is_running
            app._save_position()  # the disk is still full: nothing saved, no crash
            assert store.get_meta(POSITION_KEY) == "test-1:10"
            tmpfs.free()
            app._save_position()
            # Never past a request that is not stored: before it, or past it once the 2 s tick's retry
            # (tests/test_feed_position.py) has stored it now that there is room again.
            reader = sqlite3.connect(db)
            stored = reader.execute(
                "SELECT count(*) FROM callbacks WHERE cti_request_id = 'cb-full-1'"
            ).fetchone()[0]
            reader.close()
            assert (stored, store.get_meta(POSITION_KEY)) in (
                (0, "test-1:10"),
                (1, "test-1:10"),
                (1, "test-1:12"),
            )
    finally:
        await server.stop()
        store.close()


async def test_console_store_fault_while_polling_is_said_once_and_the_console_stays_up(demo_dir):
    """A page of the users table damaged while the console runs: the next change another process
    commits makes the console re-read the user, which fails. That is a fault of the store, said once on
    screen (not on every poll), not a disabled user: the console stays up."""
    from .apphelpers import make_app

    db = demo_dir / DB_FILENAME
    store = Store(db)

    def commit_elsewhere(value: str) -> None:  # another console changed a service: the directory moved on
        conn = sqlite3.connect(db)
        conn.execute("UPDATE services SET name = name || ? WHERE code = 'care'", (value,))
        conn.commit()
        conn.close()

    try:
        app = make_app(store, "admin", lang="en", refresh_seconds=0.2)
        polls = StorePolls(app)
        async with app.run_test(size=(100, 30)) as pilot:
            await polls.passed(pilot)
            damage(db, "users")
            commit_elsewhere("1")
            await until(pilot, lambda: any("damaged" in m for m in _messages(app)))
            for value in ("2", "3", "4"):
                commit_elsewhere(value)
                await polls.passed(pilot, 3)
            assert app.is_running and app.exit_message is None
            assert sum("damaged" in m for m in _messages(app)) == 1
    finally:
        store.close()
