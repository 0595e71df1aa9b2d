"""`contiple-tui completion bash|zsh`: the script is made from the parser and works in a real bash."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from .conftest import run_cli


def _complete(script: str, words: list[str]) -> list[str]:
    """What bash offers for the last of ``words`` (the word being typed), with the script loaded."""
    quoted = " ".join(f"'{w}'" for w in words)
    program = (
        f"{script}\nCOMP_WORDS=({quoted}); COMP_CWORD={len(words) - 1}\n"
        '_contiple_tui; printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    out = subprocess.run(["bash", "-c", program], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


@pytest.fixture(scope="module")
def bash_script() -> str:
    made = run_cli("completion", "bash")
    assert made.returncode == 0, made.stderr
    return made.stdout


def test_commands_actions_options_and_values_complete_in_bash(bash_script, tmp_path):
    assert "users" in _complete(bash_script, ["contiple-tui", "us"])
    assert set(_complete(bash_script, ["contiple-tui", "users", ""])) >= {"add", "list", "disable", "enable"}
    assert "--role" in _complete(bash_script, ["contiple-tui", "users", "add", "--r"])
    assert _complete(bash_script, ["contiple-tui", "--lang", ""]) == ["ko", "en"]
    # A global option's value is not taken for the command.
    offered = _complete(bash_script, ["contiple-tui", "--data-dir", str(tmp_path), "wallboard", "--k"])
    assert offered == ["--kiosk"]
    (tmp_path / "data-here").mkdir()
    assert str(tmp_path / "data-here") in _complete(
        bash_script, ["contiple-tui", "--data-dir", f"{tmp_path}/data"]
    )


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")
def test_the_zsh_script_loads_in_zsh():
    made = run_cli("completion", "zsh")
    out = subprocess.run(["zsh", "-f", "-c", made.stdout + "\nprint ok"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr
