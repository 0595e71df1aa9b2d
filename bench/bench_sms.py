"""SMS composer byte counter per keystroke (target 2 ms for a 2,000-byte body) and requests per send to
1,000 recipients (target 1) — issue 5.

(a) sms_counter_keystroke (ms, p95): the real ContipleApp (agent02, en, no CTI) in `App.run_test(size=
    (120, 40))`; menu 2-2 opened, type MMS, the body set to 950 Hangul characters (1,900 bytes), the cursor
    at its end. Then 100 keystrokes through Pilot (`pilot.press`, letters a–z in turn), so the body ends at
    2,000 bytes. Timed per keystroke: the counter's update, i.e. `SmsTextField._update` (CP949 byte count,
    unencodable scan, counter text, CSS classes, the Static update), measured by wrapping that method of
    the mounted widget with perf_counter (the real method runs). Value: the 95th percentile. Checks: the
    counter shows "2,000 / 2,000 bytes" at the end. Baseline: `len(body.encode("cp949"))` alone for the
    final body (median of 1,000), the floor of any byte counter. Logged: the median, and the median time
    of the whole `pilot.press` (key event → TextArea edit → messages → idle), which includes Textual's
    own work and a repaint.
(b) sms_send_1000_requests (count): the local NHN-compatible server (contiple_tui/sim/nhn_server.py, real
    HTTP on 127.0.0.1) and the real NHN gateway (httpx); `core.sms.prepare` + `core.sms.send` of one SMS to
    1,000 distinct numbers. Value: the number of `POST /sender/sms` requests the server received (target 1).
    Baseline: 1,000, a request per recipient. Logged: the wall time of the send (storing the send and its
    1,000 recipients, the request, recording 1,000 results).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import emit, log  # noqa: E402

TARGET_MS = 2.0


async def counter_bench(store) -> None:
    from contiple_tui import config
    from contiple_tui.app import ContipleApp
    from contiple_tui.core.session import Session, resolve_user
    from contiple_tui.i18n import set_language
    from contiple_tui.widgets.sms_text import SmsTextField

    set_language("en")
    cfg = config.load(data_dir=store.path.parent, environ={}, lang="en")
    app = ContipleApp(session=Session(store, resolve_user(store, "agent02")), config=cfg)
    async with app.run_test(size=(120, 40)) as pilot:
        app.show_menu("sms_compose")
        for _ in range(100):
            await pilot.pause(0.05)
            if app.query("#sms-body"):
                break
        app.query_one("#sms-type").value = "MMS"
        field = app.query_one("#sms-body", SmsTextField)
        field.text = "가" * 950
        await pilot.pause(0.2)
        field.area.focus()
        field.area.move_cursor(field.area.document.end)
        await pilot.pause(0.1)
        durations: list[float] = []
        original = field._update

        def timed(text: str) -> None:
            start = time.perf_counter()
            original(text)
            durations.append(time.perf_counter() - start)

        field._update = timed
        press_times = []
        for i in range(100):
            start = time.perf_counter()
            await pilot.press(chr(ord("a") + i % 26))
            press_times.append(time.perf_counter() - start)
        await pilot.pause(0.1)
        counter = str(field.query_one(".sms-counter").render())
        if len(durations) < 100 or "2,000 / 2,000 bytes" not in counter:
            log(f"FAIL: {len(durations)} counter updates for 100 keys; counter shows {counter!r}")
            raise SystemExit(1)
        body = field.text
    floor = []
    for _ in range(1000):
        start = time.perf_counter()
        len(body.encode("cp949"))
        floor.append(time.perf_counter() - start)
    ms = sorted(d * 1000 for d in durations)
    p95 = ms[int(len(ms) * 0.95) - 1]
    log(
        f"counter: {len(ms)} updates; median {statistics.median(ms):.3f} ms, p95 {p95:.3f} ms, max "
        f"{ms[-1]:.3f} ms; "
        f"whole pilot.press median {statistics.median(press_times) * 1000:.1f} ms; "
        f"bare cp949 length {statistics.median(floor) * 1e6:.1f} µs"
    )
    emit("sms_counter_keystroke", p95, TARGET_MS, statistics.median(floor) * 1000, unit="ms")


def send_bench(store) -> None:
    from contiple_tui.core import sms
    from contiple_tui.domain.sms_rules import SendType
    from contiple_tui.sim.nhn_server import NhnServer
    from contiple_tui.sms.nhn import NhnGateway

    cs = store.services.get_by_code("cs")
    agent = store.users.get_by_login("agent02")
    with NhnServer(
        app_key="bench-app", secret_key="bench-secret", sender_numbers=cs.sender_numbers
    ) as server:
        gateway = NhnGateway(server.base_url, "bench-app", "bench-secret", timeout=30)
        numbers = ",".join(f"010{n:08d}" for n in range(1000))
        start = time.perf_counter()
        prepared = sms.prepare(
            store, agent, cs, sms.Draft(SendType.SMS, cs.sender_numbers[0], "공지 드립니다", numbers)
        )
        outcome = sms.send(store, agent, cs, prepared, gateway)
        elapsed = time.perf_counter() - start
        gateway.close()
        requests = server.requests["POST /sender/sms"]
        if outcome.recipients != 1000 or len(store.sms.recipients(outcome.message_id)) != 1000:
            log(f"FAIL: {outcome.recipients} recipients recorded")
            raise SystemExit(1)
    log(f"send: 1,000 recipients in {elapsed:.3f} s ({requests} send request(s); status {outcome.status})")
    emit("sms_send_1000_requests", requests, 1, 1000, unit="requests")


def main() -> int:
    from contiple_tui.sim import demo
    from contiple_tui.store import Store

    tmp = tempfile.mkdtemp(prefix="contiple-bench-sms-")
    store = Store(Path(tmp) / "contiple.sqlite3")
    demo.seed(store, callbacks=100, agents=12, sms=False)
    try:
        asyncio.run(counter_bench(store))
        send_bench(store)
    finally:
        store.close()
        for name in os.listdir(tmp):
            os.unlink(os.path.join(tmp, name))
        os.rmdir(tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
