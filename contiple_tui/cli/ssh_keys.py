"""People's SSH keys in the service account's ``authorized_keys``: each key runs the console as its person.

A key line this program writes (one line in the file)::

    command="/srv/contiple/venv/bin/contiple-tui --data-dir /srv/contiple/data --user agent02",
    restrict,pty ssh-ed25519 AAAA... contiple-tui:agent02

The forced command fixes the user and the data directory whatever the client asks; ``restrict`` turns
off forwarding of every kind; ``pty`` gives the console its terminal. A wallboard user's key opens the
kiosk. A disabled user's lines are kept as comments (``# contiple-tui disabled: ...``), which sshd
ignores, so enabling them again restores them. Every other line of the file is kept as it is; the file
is replaced atomically and stays 0600 (its folder 0700).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import shlex
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from contiple_tui.errors import ValidationError

KEY_TYPES = (
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
)
TAG = "contiple-tui:"
DISABLED = "# contiple-tui disabled: "


@dataclass(frozen=True)
class PublicKey:
    kind: str
    blob: str  # base64

    @property
    def fingerprint(self) -> str:
        """As ``ssh-keygen -l`` shows it: SHA256:... of the key's bytes."""
        digest = hashlib.sha256(base64.b64decode(self.blob)).digest()
        return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def parse_public_key(text: str) -> PublicKey:
    """The first key of a ``.pub`` file: its type, and its base64 bytes naming the same type."""
    for line in text.splitlines():
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            continue
        if len(fields) >= 2 and fields[0] in KEY_TYPES:
            try:
                raw = base64.b64decode(fields[1], validate=True)
            except (binascii.Error, ValueError):
                break
            size = int.from_bytes(raw[:4], "big") if len(raw) >= 4 else -1
            if raw[4 : 4 + size].decode("ascii", "replace") == fields[0]:
                return PublicKey(fields[0], fields[1])
        break
    raise ValidationError("err.ssh_key_invalid")


def forced_command(data_dir: Path, login: str, kiosk: bool) -> str:
    """The installed ``contiple-tui`` beside this interpreter (its processes are then named so, which
    `pkill -x contiple-tui` finds at an upgrade), else this interpreter with ``-m contiple_tui``."""
    script = Path(sys.executable).with_name("contiple-tui")
    if script.exists():
        argv = [str(script), "--data-dir", str(Path(data_dir).resolve()), "--user", login]
        return shlex.join(argv + (["wallboard", "--kiosk"] if kiosk else []))
    argv = [
        sys.executable,
        "-m",
        "contiple_tui",
        "--data-dir",
        str(Path(data_dir).resolve()),
        "--user",
        login,
    ]
    if kiosk:
        argv += ["wallboard", "--kiosk"]
    return shlex.join(argv)


def key_line(key: PublicKey, data_dir: Path, login: str, kiosk: bool) -> str:
    command = forced_command(data_dir, login, kiosk).replace("\\", "\\\\").replace('"', '\\"')
    return f'command="{command}",restrict,pty {key.kind} {key.blob} {TAG}{login}'


def default_path() -> Path:
    return Path(os.environ.get("CONTIPLE_TUI_AUTHORIZED_KEYS") or Path.home() / ".ssh" / "authorized_keys")


def _owner(line: str) -> str | None:
    """The login a line of ours is for (enabled or disabled), None for anybody else's line."""
    body = line.removeprefix(DISABLED)
    if not body.strip() or body.lstrip().startswith("#"):
        return None  # a blank line, or a comment of someone else's
    last = body.rsplit(" ", 1)[-1]
    return last.removeprefix(TAG) if last.startswith(TAG) else None


def _key_of(line: str) -> PublicKey | None:
    fields = line.removeprefix(DISABLED).split()
    for i, field in enumerate(fields[:-1]):
        if field in KEY_TYPES:
            return PublicKey(field, fields[i + 1])
    return None


def read_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []


def write_lines(path: Path, lines: list[str]) -> None:
    """Replace the file at once (a reader sees the old or the new file, never half): 0600 in a 0700 folder."""
    folder = path.parent
    if not folder.is_dir():
        folder.mkdir(mode=0o700, parents=True)
        os.chmod(folder, 0o700)
    fd, tmp = tempfile.mkstemp(prefix=".authorized_keys.", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write("".join(f"{line}\n" for line in lines))
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def add_key(path: Path, key: PublicKey, data_dir: Path, login: str, kiosk: bool) -> None:
    lines = read_lines(path)
    for line in lines:
        known = _key_of(line)
        if known is not None and known.blob == key.blob:
            raise ValidationError(
                "err.ssh_key_exists", fingerprint=key.fingerprint, login=_owner(line) or "?"
            )
    write_lines(path, lines + [key_line(key, data_dir, login, kiosk)])


def keys_of(path: Path, login: str | None = None) -> list[tuple[str, str, bool]]:
    """(login, fingerprint, enabled) of our lines, for one login or all."""
    found = []
    for line in read_lines(path):
        owner, key = _owner(line), _key_of(line)
        if owner is not None and key is not None and (login is None or owner == login):
            found.append((owner, key.fingerprint, not line.startswith(DISABLED)))
    return found


def remove_keys(path: Path, login: str, fingerprint: str | None = None) -> int:
    kept, removed = [], 0
    for line in read_lines(path):
        key = _key_of(line)
        if _owner(line) == login and key is not None and fingerprint in (None, key.fingerprint):
            removed += 1
        else:
            kept.append(line)
    if removed:
        write_lines(path, kept)
    return removed


def set_keys_enabled(path: Path, login: str, enabled: bool) -> int:
    """Comment a user's lines out (disabled: sshd ignores them) or back in; returns how many changed."""
    changed, out = 0, []
    for line in read_lines(path):
        if _owner(line) == login:
            if enabled and line.startswith(DISABLED):
                line, changed = line.removeprefix(DISABLED), changed + 1
            elif not enabled and not line.startswith(DISABLED):
                line, changed = DISABLED + line, changed + 1
        out.append(line)
    if changed and path.exists():
        write_lines(path, out)
    return changed
