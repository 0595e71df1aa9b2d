"""People's SSH keys in the service account's authorized_keys (cli/ssh_keys.py): the real command line,
real keys from ssh-keygen, and ssh-keygen reading the file back (it parses authorized_keys as sshd does)."""

from __future__ import annotations

import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from .conftest import run_cli

pytestmark = pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="ssh-keygen is not installed")


def _keypair(tmp_path, name: str):
    key = tmp_path / name
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(key)], check=True)
    fingerprint = subprocess.run(
        ["ssh-keygen", "-lf", f"{key}.pub"], capture_output=True, text=True, check=True
    )
    return f"{key}.pub", fingerprint.stdout.split()[1]


def _cli(demo_dir, auth, *args: str):
    return run_cli(
        "--data-dir", str(demo_dir), "users", *args, env={"CONTIPLE_TUI_AUTHORIZED_KEYS": str(auth)}
    )


def test_keys_open_their_persons_console_and_disabling_disables_them(demo_dir, tmp_path):
    auth = tmp_path / "home" / ".ssh" / "authorized_keys"
    auth.parent.mkdir(parents=True)
    auth.write_text(
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOtherPersonsKeyKeptAsItIs0000000000000 someone@else\n"
    )
    agent_pub, agent_fp = _keypair(tmp_path, "agent02")
    tv_pub, tv_fp = _keypair(tmp_path, "tv")

    added = _cli(demo_dir, auth, "keys", "add", "agent02", agent_pub)
    assert added.returncode == 0, added.stderr
    assert agent_fp in added.stdout and "their console" in added.stdout
    assert _cli(demo_dir, auth, "keys", "add", "tv", tv_pub).returncode == 0
    again = _cli(demo_dir, auth, "keys", "add", "admin", agent_pub)  # one key, one person
    assert again.returncode == 2 and "already in use" in again.stderr

    lines = auth.read_text().splitlines()
    assert lines[0].endswith("someone@else")  # other lines kept
    agent_line = next(line for line in lines if line.endswith("contiple-tui:agent02"))
    assert agent_line.startswith('command="') and ",restrict,pty ssh-ed25519 " in agent_line
    assert f"--data-dir {demo_dir.resolve()} --user agent02" in agent_line and "wallboard" not in agent_line
    tv_line = next(line for line in lines if line.endswith("contiple-tui:tv"))
    assert "--user tv wallboard --kiosk" in tv_line
    assert stat.S_IMODE(auth.stat().st_mode) == 0o600
    listed = subprocess.run(["ssh-keygen", "-lf", str(auth)], capture_output=True, text=True)
    assert (
        listed.returncode == 0 and agent_fp in listed.stdout and tv_fp in listed.stdout
    )  # as sshd parses it

    assert _cli(demo_dir, auth, "disable", "agent02").returncode == 0
    assert f"# contiple-tui disabled: {agent_line}" in auth.read_text().splitlines()
    listing = _cli(demo_dir, auth, "keys", "list", "agent02")
    assert agent_fp in listing.stdout and "disabled" in listing.stdout
    assert (
        agent_fp
        not in subprocess.run(["ssh-keygen", "-lf", str(auth)], capture_output=True, text=True).stdout
    )
    assert _cli(demo_dir, auth, "enable", "agent02").returncode == 0
    assert agent_line in auth.read_text().splitlines()

    removed = _cli(demo_dir, auth, "keys", "remove", "agent02", "--fingerprint", agent_fp)
    assert removed.returncode == 0, removed.stderr
    assert "contiple-tui:agent02" not in auth.read_text() and "contiple-tui:tv" in auth.read_text()
    assert _cli(demo_dir, auth, "keys", "remove", "agent02").returncode == 2  # nothing left to remove


def test_a_bad_key_file_is_refused_before_the_user_is_added(demo_dir, tmp_path):
    auth = tmp_path / "authorized_keys"
    bad = tmp_path / "bad.pub"
    bad.write_text("ssh-ed25519 not-base64!! x\n")
    args = (
        "add",
        "--login",
        "kim",
        "--name",
        "김",
        "--role",
        "agent",
        "--service",
        "cs",
        "--ssh-key",
        str(bad),
    )
    result = _cli(demo_dir, auth, *args)
    assert result.returncode == 2 and "Not an SSH public key" in result.stderr
    assert "kim" not in _cli(demo_dir, auth, "list").stdout.split()
    good, fingerprint = _keypair(tmp_path, "kim")
    result = _cli(demo_dir, auth, *args[:-1], good)
    assert result.returncode == 0 and fingerprint in result.stdout
    assert auth.read_text().rstrip().endswith("contiple-tui:kim")


# -- what a person may ask for over SSH (the key's forced command fixes the rest) ---------------------


def test_over_ssh_only_the_language_and_the_view_may_be_chosen():
    from contiple_tui.cli.main import ssh_request
    from contiple_tui.errors import ValidationError

    console = ["--data-dir", "/srv/d", "--user", "kim"]
    kiosk = ["--data-dir", "/srv/d", "--user", "tv", "wallboard", "--kiosk"]
    assert ssh_request(console, {}) == console  # no SSH_ORIGINAL_COMMAND: as it is
    assert ssh_request(console, {"SSH_ORIGINAL_COMMAND": "--lang en"}) == ["--lang", "en", *console]
    assert ssh_request(kiosk, {"SSH_ORIGINAL_COMMAND": "contiple-tui --view=agents --lang ko"}) == [
        "--lang",
        "ko",
        *kiosk,
        "--view",
        "agents",
    ]
    for asked in (
        "--user admin",
        "--data-dir /tmp",
        "users add --login x",
        "--lang fr",
        "--view agents",
        "sh",
    ):
        with pytest.raises(ValidationError):
            ssh_request(console, {"SSH_ORIGINAL_COMMAND": asked})


def test_a_forced_console_refuses_another_identity_in_one_line_before_anything(demo_dir):
    asked = {"SSH_ORIGINAL_COMMAND": "--user admin"}
    result = run_cli("--data-dir", str(demo_dir), "--user", "agent02", env=asked)
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "'--user' is not allowed" in result.stderr
    chosen = run_cli(
        "--data-dir", str(demo_dir), "--user", "agent02", env={"SSH_ORIGINAL_COMMAND": "--lang ko"}
    )
    assert chosen.returncode == 2 and "터미널" in chosen.stderr  # the language applied; no pty in this test


def test_operator_commands_are_in_the_audit_trail(demo_dir, tmp_path):
    """Who (the person behind sudo), when and what, listed by `audit`; a key by its fingerprint only."""
    auth = tmp_path / "authorized_keys"
    env = {"CONTIPLE_TUI_AUTHORIZED_KEYS": str(auth), "SUDO_USER": "opkim"}
    pub, fingerprint = _keypair(tmp_path, "lee")
    add = (
        "users",
        "add",
        "--login",
        "lee",
        "--name",
        "이",
        "--role",
        "agent",
        "--service",
        "cs",
        "--ssh-key",
        pub,
    )
    for args in (add, ("users", "disable", "lee"), ("services", "add", "--code", "vip", "--name", "VIP")):
        result = run_cli("--data-dir", str(demo_dir), *args, env=env)
        assert result.returncode == 0, result.stderr
    listed = run_cli("--data-dir", str(demo_dir), "--lang", "en", "audit", "--limit", "10").stdout
    lines = [line for line in listed.splitlines() if "opkim (sudo)" in line]
    assert len(lines) == 4, listed  # newest first
    assert "services add" in lines[0] and "vip" in lines[0]
    assert "users disable" in lines[1] and "users keys add" in lines[2] and fingerprint in lines[2]
    assert "users add" in lines[3] and "lee role=agent services=cs" in lines[3]
    assert Path(pub).read_text().split()[1] not in listed  # never the key itself
