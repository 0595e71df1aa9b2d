"""The real command line in a subprocess: operator commands and every refusal (exit 2, one line)."""

import hashlib
import sqlite3
from pathlib import Path

import pytest

from contiple_tui.store import DB_FILENAME, SCHEMA_VERSION, Store

from .conftest import run_cli


def _seed_service(data: Path, cli=run_cli) -> None:
    result = cli(
        "--data-dir",
        str(data),
        "services",
        "add",
        "--code",
        "cs",
        "--name",
        "고객센터",
        "--sender",
        "1588-0001",
        "--ivr",
        "1=상품 문의",
    )
    assert result.returncode == 0, result.stderr


def _user_count(data: Path, cli) -> int:
    store = Store(cli.db_url or data / DB_FILENAME)
    try:
        return len(store.users.list())
    finally:
        store.close()


def _one_line_error(result, *needles: str) -> None:
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in lines[0]


def test_version():
    result = run_cli("--version")
    assert result.returncode == 0 and result.stdout.startswith("contiple-tui ")


@pytest.mark.both_engines
def test_users_and_services_round_trip(tmp_path, cli):
    _seed_service(tmp_path, cli)
    result = cli(
        "--data-dir",
        str(tmp_path),
        "users",
        "add",
        "--login",
        "kim",
        "--name",
        "김민준",
        "--role",
        "agent",
        "--perm",
        "phone,callback_assign",
        "--service",
        "cs",
        "--cti-id",
        "1001",
    )
    assert result.returncode == 0, result.stderr
    listing = cli("--data-dir", str(tmp_path), "--lang", "ko", "users", "list")
    assert listing.returncode == 0
    row = next(line for line in listing.stdout.splitlines() if line.startswith("kim"))
    assert "김민준" in row and "상담원" in row and "callback_assign,phone" in row and "1001" in row
    services = cli("--data-dir", str(tmp_path), "services", "list")
    assert (
        "고객센터" in services.stdout and "15880001" in services.stdout and "1=상품 문의" in services.stdout
    )
    assert cli("--data-dir", str(tmp_path), "users", "disable", "kim").returncode == 0
    listing = cli("--data-dir", str(tmp_path), "users", "list")
    assert "disabled" in next(line for line in listing.stdout.splitlines() if line.startswith("kim"))


@pytest.mark.both_engines
def test_assign_without_phone_is_refused_and_changes_nothing(tmp_path, cli):
    _seed_service(tmp_path, cli)
    before = _user_count(tmp_path, cli)
    for lang, needle in (("en", "only be granted together with phone"), ("ko", "전화 권한(phone)과 함께만")):
        result = cli(
            "--data-dir",
            str(tmp_path),
            "--lang",
            lang,
            "users",
            "add",
            "--login",
            "lee",
            "--name",
            "이서연",
            "--role",
            "agent",
            "--perm",
            "callback_assign",
            "--service",
            "cs",
        )
        _one_line_error(result, needle)
    assert _user_count(tmp_path, cli) == before


def _add_kim(tmp_path, cli=run_cli):
    """An agent of service cs, as an operator adds one."""
    return cli(
        "--data-dir",
        str(tmp_path),
        "users",
        "add",
        "--login",
        "kim",
        "--name",
        "김",
        "--role",
        "agent",
        "--service",
        "cs",
    )


@pytest.mark.both_engines
def test_unknown_and_disabled_user(tmp_path, cli):
    _seed_service(tmp_path, cli)
    result = cli("--data-dir", str(tmp_path), "--user", "ghost")
    _one_line_error(result, "Unknown user 'ghost'")
    result = cli("--data-dir", str(tmp_path), "--user", "ghost", env={"LANG": "ko_KR.UTF-8"})
    _one_line_error(result, "알 수 없는 사용자 'ghost'")
    _add_kim(tmp_path, cli)
    cli("--data-dir", str(tmp_path), "users", "disable", "kim")
    _one_line_error(cli("--data-dir", str(tmp_path), "--user", "kim"), "disabled")


def test_data_dir_not_writable(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    # A path under a regular file cannot be created, even by root.
    result = run_cli("--data-dir", str(blocker / "data"), "users", "list")
    _one_line_error(result, "not writable", str(blocker / "data"))
    result = run_cli("--data-dir", str(blocker / "data"), "--lang", "ko", "users", "list")
    _one_line_error(result, "쓸 수 없습니다")


def test_invalid_config(tmp_path):
    (tmp_path / "config.toml").write_text('[ui]\nmouse = "often"\n')
    result = run_cli("--data-dir", str(tmp_path), "users", "list")
    _one_line_error(result, str(tmp_path / "config.toml"), "ui.mouse", "boolean")
    (tmp_path / "config.toml").write_text("[ui]\nwhat = 1\n")
    _one_line_error(run_cli("--data-dir", str(tmp_path), "users", "list"), "unknown key 'ui.what'")


def test_newer_and_corrupt_database(tmp_path):
    _seed_service(tmp_path)
    db = tmp_path / DB_FILENAME
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    digest = hashlib.sha256(db.read_bytes()).hexdigest()
    _one_line_error(run_cli("--data-dir", str(tmp_path), "users", "list"), "newer", "was not changed")
    assert hashlib.sha256(db.read_bytes()).hexdigest() == digest
    db.write_bytes(b"garbage" * 1000)
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    _one_line_error(run_cli("--data-dir", str(tmp_path), "users", "list"), "damaged")
    assert db.read_bytes() == b"garbage" * 1000


def test_config_path(tmp_path):
    result = run_cli("--data-dir", str(tmp_path), "config", "path")
    assert result.returncode == 0 and result.stdout.strip() == str(tmp_path / "config.toml")
    result = run_cli("config", "path", env={"CONTIPLE_TUI_HOME": str(tmp_path / "h")})
    assert result.stdout.strip() == str(tmp_path / "h" / "config.toml")


def test_bad_usage_is_one_clear_error(tmp_path):
    result = run_cli("--data-dir", str(tmp_path), "users", "add", "--login", "x")
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_demo_seed_only_and_reuse(tmp_path):
    result = run_cli("--data-dir", str(tmp_path), "demo", "--seed-only", "--callbacks", "50")
    assert result.returncode == 0, result.stderr
    db = Path(result.stdout.strip())
    assert db == tmp_path / "demo" / DB_FILENAME
    count = sqlite3.connect(db).execute("SELECT count(*) FROM callbacks").fetchone()[0]
    assert count == 50
    # Reused, not re-seeded: same rows.
    assert run_cli("--data-dir", str(tmp_path), "demo", "--seed-only", "--callbacks", "999").returncode == 0
    assert sqlite3.connect(db).execute("SELECT count(*) FROM callbacks").fetchone()[0] == 50
    listing = run_cli("--data-dir", str(tmp_path / "demo"), "users", "list")
    assert "admin" in listing.stdout and "tv" in listing.stdout and "agent01" in listing.stdout


@pytest.mark.both_engines
def test_service_flag_must_name_one_of_the_users_services(tmp_path, cli):
    _seed_service(tmp_path, cli)
    _add_kim(tmp_path, cli)
    _one_line_error(cli("--data-dir", str(tmp_path), "--user", "kim", "--service", "sales"), "'sales'")


@pytest.mark.both_engines
def test_bad_role_is_explained_in_korean(tmp_path, cli):
    _seed_service(tmp_path, cli)
    result = cli(
        "--data-dir",
        str(tmp_path),
        "--lang",
        "ko",
        "users",
        "add",
        "--login",
        "kim",
        "--name",
        "김",
        "--role",
        "boss",
        "--service",
        "cs",
    )
    _one_line_error(result, "알 수 없는 역할 'boss'")


def test_paths_printed_to_stdout_carry_no_escape_sequences(tmp_path):
    """`config path` and `demo --seed-only` print a path built from --data-dir: a hostile directory name
    (an OSC 0 title change ended by BEL, a CSI colour) reaches stdout cleaned, not as escape sequences."""
    hostile = tmp_path / "data\x1b]0;PWN\x07\x1b[31mred\x9b2J"
    result = run_cli("--data-dir", str(hostile), "config", "path")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("config.toml") and "PWN" in result.stdout
    seeded = run_cli("--data-dir", str(hostile), "demo", "--seed-only", "--callbacks", "5")
    assert seeded.returncode == 0, seeded.stderr
    assert seeded.stdout.strip().endswith(DB_FILENAME) and "PWN" in seeded.stdout
    for out in (result.stdout, seeded.stdout):
        assert not any(ch in out for ch in "\x1b\x07\x9b"), repr(out)
