"""SSH keys are the identity, end to end with a real OpenSSH server (Debian's openssh-server, started
here on a loopback port with a host key of its own): a person's key opens their console and nobody
else's, the TV's key opens the kiosk, a disabled person's key is refused, Ctrl+Q ends the session."""

from __future__ import annotations

import os
import select
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from .conftest import run_cli

SSHD = "/usr/sbin/sshd"
pytestmark = pytest.mark.skipif(
    not (os.path.exists(SSHD) and shutil.which("ssh") and os.geteuid() == 0),
    reason="SSH END-TO-END SKIPPED: needs openssh-server (/usr/sbin/sshd), the ssh client and root",
)


def _real_clock_env(**extra: str) -> dict[str, str]:
    """sshd and ssh on the real clock: CI's second run moves the clock with libfaketime (LD_PRELOAD)."""
    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "FAKETIME", "FAKETIME_NO_CACHE")}
    return env | extra


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _keypair(folder: Path, name: str) -> tuple[Path, Path]:
    key = folder / name
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(key)], check=True)
    return key, Path(f"{key}.pub")


class Sshd:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = _free_port()
        self.authorized_keys = folder / "authorized_keys"
        host_key, _ = _keypair(folder, "host_key")
        config = folder / "sshd_config"
        config.write_text(
            f"Port {self.port}\nListenAddress 127.0.0.1\nHostKey {host_key}\n"
            f"AuthorizedKeysFile {self.authorized_keys}\nPidFile {folder / 'sshd.pid'}\n"
            "PasswordAuthentication no\nKbdInteractiveAuthentication no\nPubkeyAuthentication yes\n"
            "PermitRootLogin prohibit-password\nStrictModes no\nUsePAM no\nLogLevel ERROR\n"
        )
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege-separation directory
        self.proc = subprocess.Popen(
            [SSHD, "-D", "-f", str(config), "-E", str(folder / "sshd.log")], env=_real_clock_env()
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise AssertionError(f"sshd did not start: {(folder / 'sshd.log').read_text()}")

    def session(self, key: Path, *asked: str) -> SshSession:
        cmd = [
            "ssh",
            "-tt",
            "-i",
            str(key),
            "-p",
            str(self.port),
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "BatchMode=yes",
        ]
        cmd += [
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "LogLevel=ERROR",
        ]
        return SshSession(cmd + ["root@127.0.0.1", *asked])

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


class SshSession:
    """The ssh client in a process of its own; what the remote terminal draws, read as it comes."""

    def __init__(self, cmd: list[str]) -> None:
        env = _real_clock_env(TERM="xterm-256color")
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env
        )
        self.output = b""

    def read_until(self, needle: bytes, timeout: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout
        while needle not in self.output and time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.2)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                if not chunk:
                    break
                self.output += chunk
        return needle in self.output

    def send(self, data: bytes) -> None:
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def wait(self, timeout: float = 20.0) -> int:
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            self.read_until(b"\x00never", timeout=0.2)
        return self.proc.wait(1)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)


@pytest.fixture
def sshd(tmp_path):
    server = Sshd(tmp_path)
    yield server
    server.stop()


def _keys(demo_dir, sshd, *args: str):
    env = {"CONTIPLE_TUI_AUTHORIZED_KEYS": str(sshd.authorized_keys)}
    result = run_cli("--data-dir", str(demo_dir), "users", *args, env=env)
    assert result.returncode == 0, result.stderr
    return result


def test_keys_are_the_identity_over_a_real_sshd(demo_dir, sshd, tmp_path):
    agent_key, agent_pub = _keypair(tmp_path, "agent02")
    tv_key, tv_pub = _keypair(tmp_path, "tv")
    _keys(demo_dir, sshd, "keys", "add", "agent02", str(agent_pub))
    _keys(demo_dir, sshd, "keys", "add", "tv", str(tv_pub))

    # agent02's key opens agent02's console (in English, as asked), and Ctrl+Q ends the session cleanly.
    session = sshd.session(agent_key, "--", "--lang", "en")
    try:
        assert session.read_until("서서윤".encode()), session.output[-2000:]
        assert session.read_until(b"Agent") and b"Admin" not in session.output
        session.send(b"\x11")  # Ctrl+Q
        assert session.wait() == 0
        assert b"\x1b[?1049l" in session.output  # the alternate screen was left: the terminal is restored
    finally:
        session.close()

    # The same key asking to be the admin: one line, exit 2, no console.
    session = sshd.session(agent_key, "--", "--user", "admin")
    try:
        assert session.wait() == 2
        said = session.output.decode(errors="replace")  # no LANG over SSH: Korean, the product's language
        assert "'--user'은 허용되지 않습니다" in said and "\x1b[?1049h" not in said
    finally:
        session.close()

    # The TV's key opens the kiosk.
    session = sshd.session(tv_key, "--", "--lang", "en")
    try:
        assert session.read_until(b"Wallboard"), session.output[-2000:]
    finally:
        session.close()

    # An administrator stopping consoles (SIGTERM, as for an upgrade): the terminal is given back.
    session = sshd.session(agent_key)
    try:
        assert session.read_until("서서윤".encode())
        pattern = (
            f"contiple[-_]tui --data-dir {demo_dir.resolve()} --user agent02$"  # this test's console only
        )
        found = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True)
        pids = [int(pid) for pid in found.stdout.split()]
        assert pids, found
        for pid in pids:
            os.kill(pid, 15)
        assert session.wait() == 143
        assert b"\x1b[?1049l" in session.output and b"\x1b[?25h" in session.output  # screen and cursor back
    finally:
        session.close()

    # A disabled person's key no longer opens anything: sshd refuses it (ssh's own exit code 255).
    _keys(demo_dir, sshd, "disable", "agent02")
    session = sshd.session(agent_key)
    try:
        assert session.wait() == 255
    finally:
        session.close()
