"""Hostile strings: what an attacker (or a broken feed) can put in a name, a phone, an SMS or a gateway
answer. Each escape sequence carries a marker payload of its own, so a test reading a terminal's raw
bytes can tell an escape that came from the data from the ones Textual writes itself.

``seed_hostile`` writes them into a real store (straight into the tables, as a foreign writer, an old
version or a CTI feed could: the checks at the door would refuse them) where every screen shows data.
"""

from __future__ import annotations

import time

# Raw escape sequences from the data: none of these may ever reach the terminal.
OSC52_BEL = "\x1b]52;c;SE9TVElMRTUy\x07"  # clipboard write, BEL-terminated ("HOSTILE52")
OSC52_ST = "\x1b]52;p;SE9TVElMRTUy\x1b\\"  # clipboard write, ST-terminated
OSC0_TITLE = "\x1b]0;PWNED-TITLE\x07"  # window title
OSC8_LINK = "\x1b]8;;http://evil.example/\x1b\\click\x1b]8;;\x1b\\"  # terminal hyperlink
CSI_COLOUR = "\x1b[5;31;47mCSI-RED\x1b[0m"  # blinking red on white
DCS_QUERY = "\x1bP+q544e\x1b\\"  # terminal capability query

FORBIDDEN_BYTES = [
    b"\x1b]52;c;SE9TVElMRTUy",
    b"\x1b]52;p;",
    b"\x1b]0;PWNED",
    b"\x1b]8;;http://evil",
    b"\x1b[5;31;47m",
    b"\x1bP+q544e",
]

HOSTILE: list[str] = [
    # Rich / Textual markup: actions, links, malformed tags, styles, variables
    "[@click=app.quit]끝내기[/]",
    "[@click=app.bell]beep[/]",
    "[link=file:///etc/passwd]passwd[/link]",
    "[/x]",
    "[/]",
    "[b]unclosed bold",
    "[red on blue]색깔[/red on blue]",
    "[[double]] \\[escaped\\]",
    "$name {name} {0} %s",
    # terminal escapes
    CSI_COLOUR,
    OSC52_BEL,
    OSC52_ST,
    OSC0_TITLE,
    OSC8_LINK,
    DCS_QUERY,
    "\x1b[2J\x1b[Hclear",
    "c1\x9b31mcsi\x85nel\x90dcs",
    "bell\x07\x07del\x7f",
    "nul\x00byte",
    "line1\nline2\rline3\ttab",
    # bidi controls and marks
    "\u202eevil.exe\u202c",
    "\u2066isolate\u2069 \u202a\u202b\u202d",
    "\u200fRLM\u200eLRM\u061cALM",
    # lone surrogates
    "lone\ud800surrogate\udfff",
    # long and wide
    "x" * 10_000,
    "가" * 5_000,
    "😀👨‍👩‍👧🇰🇷" * 400,
    "[@click=app.quit]" + "한" * 3000 + "\x1b]52;c;SE9TVElMRTUy\x07",
]
assert len(HOSTILE) >= 25


def label(index: int) -> str:
    """A short id for a parametrized test."""
    return f"h{index:02d}"


def seed_hostile(store, *, now: float | None = None) -> dict[str, int]:
    """Put hostile strings everywhere the 'cs' service shows data: user and service names, IVR routes,
    callbacks (names, phones), SMS categories, templates and sends with gateway answers. Returns ids."""
    now = int(now if now is not None else time.time())
    conn = store.db.conn
    # SQLite (UTF-8) cannot hold a lone surrogate: those come from the CTI feed and gateways only.
    h = [s.encode("utf-8", "surrogatepass").decode("utf-8", "replace") for s in HOSTILE]
    ids: dict[str, int] = {}
    with conn:
        cs = conn.execute("SELECT id FROM services WHERE code = 'cs'").fetchone()[0]
        ids["service"] = cs
        conn.execute("UPDATE services SET name = ? WHERE id = ?", ("고객센터" + h[0] + h[9], cs))
        conn.execute("UPDATE ivr_routes SET name = ? WHERE service_id = ? AND code = '1'", (h[3] + h[10], cs))
        conn.execute("UPDATE ivr_routes SET name = ? WHERE service_id = ? AND code = '2'", (h[2] + h[25], cs))
        users = [
            row[0]
            for row in conn.execute(
                "SELECT u.id FROM users u JOIN user_services s ON s.user_id = u.id "
                "WHERE s.service_id = ? AND u.login != 'admin' ORDER BY u.id",
                (cs,),
            )
        ]
        for index, uid in enumerate(users):
            conn.execute(
                "UPDATE users SET name = ? WHERE id = ?", (h[(index * 5) % len(h)] + f"#{index}", uid)
            )
        conn.execute("UPDATE users SET name = ? WHERE login = 'admin'", ("관리자" + h[1] + h[12],))
        # Callbacks: the newest ones of the service, so the lists' first pages show them.
        rows = [
            row[0]
            for row in conn.execute(
                "SELECT id FROM callbacks WHERE service_id = ? ORDER BY requested_at DESC, id DESC LIMIT ?",
                (cs, len(h)),
            )
        ]
        for index, cid in enumerate(rows):
            conn.execute(
                "UPDATE callbacks SET customer_name = ?, customer_phone = ?, phone_valid = 0 WHERE id = ?",
                (h[index], h[(index + 7) % len(h)][:200] + f"#{index}", cid),
            )
        # SMS: a category tree and templates with hostile names and texts.
        top = conn.execute(
            "INSERT INTO sms_categories (service_id, parent_id, name, created_at) VALUES (?, NULL, ?, ?)",
            (cs, h[0] + h[11], now),
        ).lastrowid
        sub = conn.execute(
            "INSERT INTO sms_categories (service_id, parent_id, name, created_at) VALUES (?, ?, ?, ?)",
            (cs, top, h[3] + h[20], now),
        ).lastrowid
        ids["category"] = sub
        sender = conn.execute(
            "SELECT number FROM sender_numbers WHERE service_id = ? ORDER BY position LIMIT 1", (cs,)
        ).fetchone()[0]
        for index in range(0, len(h), 4):
            ids.setdefault(
                "template",
                conn.execute(
                    "INSERT INTO sms_templates (service_id, category_id, name, description, send_type, "
                    "sender_no, title,"
                    " body, created_at, updated_at) VALUES (?, ?, ?, ?, 'MMS', ?, ?, ?, ?, ?)",
                    (
                        cs,
                        sub,
                        h[index] + f"#{index}",
                        h[(index + 1) % len(h)],
                        sender,
                        h[(index + 2) % len(h)],
                        h[(index + 3) % len(h)],
                        now,
                        now,
                    ),
                ).lastrowid,
            )
        admin = conn.execute("SELECT id FROM users WHERE login = 'admin'").fetchone()[0]
        for index, text in enumerate(h):
            mid = conn.execute(
                "INSERT INTO sms_messages (service_id, user_id, template_name, send_type, sender_no, title, "
                "body,"
                " created_at, gateway, grouping_key, status, result_code, result_message, recipient_count,"
                " first_recipient) VALUES (?, ?, ?, 'MMS', ?, ?, ?, ?, 'nhn', ?, 'failed', ?, ?, 1, ?)",
                (
                    cs,
                    admin,
                    text,
                    sender,
                    h[(index + 5) % len(h)],
                    text,
                    now - 60 * (index + 1),
                    f"hostile-{index}-{now}",
                    h[(index + 9) % len(h)][:50],
                    text,
                    h[(index + 3) % len(h)][:40],
                ),
            ).lastrowid
            ids.setdefault("message", mid)
            conn.execute(
                "INSERT INTO sms_recipients (message_id, recipient_no, recipient_seq, state, result_code,"
                " result_message, updated_at) VALUES (?, ?, 1, 'failed', ?, ?, ?)",
                (mid, h[(index + 3) % len(h)][:40], h[(index + 9) % len(h)][:50], text, now),
            )
    return ids
