"""The demo's simulated phone system outlives the console that started it (issue 11, 8): real processes,
a real socket, the real client."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time

import pytest

from contiple_tui.cti.client import CtiClient
from contiple_tui.sim import embedded
from contiple_tui.store import DB_FILENAME

from .test_cti_client import until


@pytest.fixture
def sim_dir(demo_store, monkeypatch):
    monkeypatch.setattr(embedded, "KEEP_EVERY_S", 0.2)
    yield demo_store.path.parent
    info = embedded._marker(demo_store.path.parent)
    if info is not None:  # whatever a test left running
        try:
            os.kill(info["pid"], signal.SIGKILL)
        except ProcessLookupError:
            pass


def _wait_gone(pid: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not embedded._alive(pid):
            return
        time.sleep(0.05)
    raise AssertionError(f"process {pid} still running")


async def test_the_simulator_outlives_the_process_that_started_it(sim_dir):
    store = sim_dir / DB_FILENAME
    # A first "console": a process that starts the simulator and quits at once.
    started = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; from contiple_tui.sim import embedded; "
            f"print(embedded.join_or_start(Path({str(sim_dir)!r}), Path({str(store)!r}), idle_exit_s=5))",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    url = started.stdout.strip()
    assert url.startswith("ws://127.0.0.1:")
    pid = embedded._marker(sim_dir)["pid"]
    assert embedded._alive(pid)
    # A second console joins the same one, and its link is live although the first has gone.
    assert embedded.join_or_start(sim_dir, store, idle_exit_s=5) == url
    assert embedded._marker(sim_dir)["pid"] == pid
    client = CtiClient(url, backoff_initial=0.05, backoff_max=0.2)
    client.start()
    try:
        await until(lambda: client.live, timeout=10)
        await asyncio.sleep(6)  # longer than its idle exit: a console is connected, so it stays
        assert embedded._alive(pid) and client.live
    finally:
        await client.stop()
    # Nobody connected any more: it ends by itself and unregisters.
    await asyncio.to_thread(_wait_gone, pid, 20)
    assert embedded._marker(sim_dir) is None and embedded.running_simulator_url(sim_dir) is None


async def test_a_killed_simulator_is_started_again_on_its_port_and_links_come_back(sim_dir):
    store = sim_dir / DB_FILENAME
    url = embedded.join_or_start(sim_dir, store, idle_exit_s=5)
    keeper = embedded.Keeper(sim_dir, store, url, idle_exit_s=5)
    keeper.start()
    client = CtiClient(url, backoff_initial=0.05, backoff_max=0.3)
    client.start()
    try:
        await until(lambda: client.live, timeout=10)
        old = embedded._marker(sim_dir)["pid"]
        os.kill(old, signal.SIGKILL)
        await until(lambda: not client.live, timeout=10)
        await until(lambda: client.live, timeout=30)  # restarted by the keeper, same port, reconnected
        info = embedded._marker(sim_dir)
        assert info["pid"] != old and f"ws://127.0.0.1:{info['port']}" == url
    finally:
        keeper.stop()
        await client.stop()


def test_two_consoles_starting_at_once_start_one_simulator(sim_dir):
    store = sim_dir / DB_FILENAME
    code = (
        "import sys; from pathlib import Path; from contiple_tui.sim import embedded; "
        f"print(embedded.join_or_start(Path({str(sim_dir)!r}), Path({str(store)!r}), idle_exit_s=3))"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True) for _ in range(3)
    ]
    urls = {proc.communicate(timeout=60)[0].strip() for proc in procs}
    assert len(urls) == 1 and next(iter(urls)).startswith("ws://")


def test_an_agent_whose_person_is_at_a_console_is_theirs_to_drive(demo_store):
    """The demo: the simulator rings no inbound call to the agent of a connected console's user, and sends
    it on no break, so Connect on a callback finds it free. Others carry on as before."""
    from contiple_tui.cti.protocol import AgentState, Event
    from contiple_tui.sim.engine import SimEngine, load_directory

    from .conftest import FIXED_NOW

    directory = load_directory(demo_store)
    mine = next(a for a in directory.agents if a.login == "agent02")
    start = FIXED_NOW.timestamp()
    engine = SimEngine(directory, start=start, seed=5, arrival_scale=3.0)
    engine.attend("agent02", +1)
    events = engine.advance(start + 4 * 3600)  # four busy hours
    rung = [e for e in events if e["event"] == Event.CALL_RINGING]
    assert rung and not [e for e in rung if e["agent_id"] == mine.agent_id]
    assert not [e for e in events if e["event"] == Event.AGENT_STATE and e["agent_id"] == mine.agent_id]
    state = {a["agent_id"]: a["state"] for a in engine.snapshot()["agents"]}
    assert state[mine.agent_id] == AgentState.READY
    engine.attend("agent02", -1)  # the console left: the agent takes calls again
    later = engine.advance(start + 6 * 3600)
    assert [e for e in later if e["event"] == Event.CALL_RINGING and e["agent_id"] == mine.agent_id]


def test_a_person_sitting_down_finishes_the_call_their_agent_was_on(demo_store):
    """The demo: an agent busy on a call when its person's console connects is free to dial within
    seconds (it would otherwise talk on for minutes and refuse every Connect)."""
    from contiple_tui.cti.protocol import AgentState
    from contiple_tui.sim.engine import ATTEND_WRAP_S, DIALABLE, SimEngine, load_directory

    from .conftest import FIXED_NOW

    directory = load_directory(demo_store)
    logins = {a.agent_id: a.login for a in directory.agents if a.login}
    start = FIXED_NOW.timestamp()
    engine = SimEngine(directory, start=start, seed=5, arrival_scale=3.0)
    now, talking = start, []
    while not talking:  # a busy moment: some agent with a login is on a call
        now += 60
        engine.advance(now)
        states = {a["agent_id"]: a["state"] for a in engine.snapshot()["agents"]}
        talking = [
            agent for agent, state in states.items() if state == AgentState.TALKING and agent in logins
        ]
        assert now < start + 4 * 3600
    agent = talking[0]
    engine.attend(logins[agent], +1)
    engine.advance(now + ATTEND_WRAP_S + 0.5)
    state = {a["agent_id"]: a["state"] for a in engine.snapshot()["agents"]}[agent]
    assert AgentState(state) in DIALABLE
