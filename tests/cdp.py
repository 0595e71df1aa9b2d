"""Headless Chromium driven through the DevTools protocol, for the web console's test.

Debian's ``chromium`` is started headless with its own empty profile and a DevTools port; the test
talks to the page over that websocket (``websockets``' synchronous client, already a dependency), with
no browser-automation package. Only what the test needs: open a URL, read what the page received on
its websockets, evaluate JavaScript, type keys, take a screenshot.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

from websockets.sync.client import connect

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Headless, and quiet on a closed network: without the background-networking flags Chromium keeps
# trying to reach Google's hosts.
FLAGS = [
    "--headless",
    "--no-sandbox",  # the tests run as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-port=0",
    "--window-size=1280,800",
]

# Key events for the keys the test types: (key, code, windowsVirtualKeyCode, text).
KEYS = {"F1": ("F1", "F1", 112, "")}


class Browser:
    def __init__(self, profile: Path) -> None:
        assert CHROMIUM, "chromium is not installed"
        self.profile = profile
        env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "FAKETIME")}
        self.proc = subprocess.Popen(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not (port_file.exists() and port_file.read_text().strip()):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("chromium did not open its DevTools port")
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as answer:
            pages = [p for p in json.load(answer) if p.get("type") == "page"]
        self.ws = connect(pages[0]["webSocketDebuggerUrl"], max_size=None, ping_interval=None).__enter__()
        self.ids = itertools.count(1)
        self.frames: list[bytes] = []  # what the page received on its websockets, in order
        self.call("Network.enable")
        self.call("Page.enable")

    def _event(self, message: dict[str, Any]) -> None:
        if message.get("method") == "Network.webSocketFrameReceived":
            response = message["params"]["response"]
            data = response["payloadData"]
            self.frames.append(base64.b64decode(data) if response["opcode"] == 2 else data.encode())

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        ident = next(self.ids)
        self.ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv(timeout=30))
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self._event(message)

    def pump(self, seconds: float) -> None:
        """Take in the page's events for this long."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                self._event(json.loads(self.ws.recv(timeout=left)))
            except TimeoutError:
                return

    def received(self) -> bytes:
        return b"".join(self.frames)

    def mark(self) -> int:
        """Where the frames received so far end: ``wait_for(..., since=mark)`` looks after it."""
        return len(self.received())

    def wait_for(self, needle: bytes, timeout: float = 30, since: int | None = None) -> bool:
        """Until the page's websockets have brought ``needle`` after ``since`` (default: the frames seen so
        far). Take the mark before the key that should bring it: a call to the browser reads the frames
        that arrive while it waits for its answer."""
        start = len(self.received()) if since is None else since
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.received()[start:]:
                return True
            self.pump(0.2)
        return False

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    def key(self, name: str, modifiers: int = 0) -> None:
        """One key press, as the keyboard sends it (modifiers: 2 = Ctrl)."""
        if name in KEYS:
            key, code, vk, text = KEYS[name]
        else:  # a letter
            key, code, vk, text = name, f"Key{name.upper()}", ord(name.upper()), name
        if modifiers:
            text = ""
        down = "keyDown" if text else "rawKeyDown"
        params = {"key": key, "code": code, "windowsVirtualKeyCode": vk, "modifiers": modifiers}
        self.call("Input.dispatchKeyEvent", type=down, text=text, **params)
        self.call("Input.dispatchKeyEvent", type="keyUp", **params)

    def screenshot(self) -> bytes:
        return base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"])

    def close(self) -> None:
        # The browser first, then the socket without a close handshake: the handshake's timeouts run on
        # the clock, which CI's second run moves with libfaketime, and there they never end.
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        self.ws.close_socket()
        self.ws.recv_events_thread.join(10)
