"""`cti-sim` takes its token from a file or the environment, not only from the command line (where `ps`
shows it to every user of the host): the real command in a process of its own, real clients."""

from __future__ import annotations

import argparse
import asyncio
import socket
import subprocess
import sys
import time

import pytest

from contiple_tui.cli.demo import sim_token
from contiple_tui.cti.client import CtiClient
from contiple_tui.errors import ContipleError

from .conftest import run_cli


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _live_within(client: CtiClient, seconds: float) -> bool:
    client.start()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if client.live:
            return True
        await asyncio.sleep(0.05)
    return client.live


async def test_the_simulator_asks_for_the_token_in_its_file(tmp_path):
    assert run_cli("--data-dir", str(tmp_path), "demo", "--seed-only", "--callbacks", "10").returncode == 0
    token_file = tmp_path / "cti.token"
    token_file.write_text("s3cret-from-file\n")
    token_file.chmod(0o600)
    port, stats = _free_port(), tmp_path / "stats.json"
    args = [
        "--data-dir",
        str(tmp_path / "demo"),
        "cti-sim",
        "--port",
        str(port),
        "--token-file",
        str(token_file),
    ]
    sim = subprocess.Popen(
        [sys.executable, "-m", "contiple_tui", *args, "--stats-file", str(stats), "--heartbeat", "0.5"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"ws://127.0.0.1:{port}"
    right = CtiClient(url, token="s3cret-from-file", backoff_initial=0.05, backoff_max=0.2)
    wrong = CtiClient(url, token="guess", backoff_initial=0.05, backoff_max=0.2)
    try:
        for _ in range(100):
            if stats.exists():
                break
            time.sleep(0.1)
        assert await _live_within(right, 15)
        assert not await _live_within(wrong, 1.5)
        assert "s3cret-from-file" not in " ".join(sim.args)  # not on the command line
    finally:
        await right.stop()
        await wrong.stop()
        sim.terminate()
        sim.wait(10)


def test_the_token_comes_from_the_flag_then_the_file_then_the_environment(tmp_path):
    token_file = tmp_path / "t"
    token_file.write_text("from-file\nignored second line\n")
    env = {"CONTIPLE_TUI_CTI_TOKEN": "from-env"}

    def args(token=None, token_file=None):
        return argparse.Namespace(token=token, token_file=token_file)

    assert sim_token(args("from-flag", str(token_file)), env) == "from-flag"
    assert sim_token(args(None, str(token_file)), env) == "from-file"
    assert sim_token(args(), env) == "from-env"
    assert sim_token(args(), {}) is None
    (tmp_path / "empty").write_text("\n")
    for missing in (str(tmp_path / "empty"), str(tmp_path / "absent")):
        with pytest.raises(ContipleError) as err:
            sim_token(args(None, missing), env)
        assert missing in err.value.message("en")
