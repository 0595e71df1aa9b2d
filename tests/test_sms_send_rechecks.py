"""`sms.send` checks every rule again itself instead of trusting what the caller prepared (Issue 9 §5):
a forged or stale ``Prepared`` is refused before anything is stored or posted. And `sms cancel` of
another user's send reads exactly as a missing id, in the core and on the command line."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from contiple_tui.core import sms
from contiple_tui.domain.images import MmsImage
from contiple_tui.domain.sms_rules import SendType
from contiple_tui.errors import NotFound, ValidationError
from contiple_tui.sim.nhn_server import NhnServer
from contiple_tui.sms.nhn import NhnGateway

from .conftest import run_cli
from .smsdata import jpeg_bytes, png_bytes

pytestmark = pytest.mark.both_engines  # SQLite and PostgreSQL: the same rules


@pytest.fixture
def server():
    with NhnServer(app_key="app-1", secret_key="secret-1", sender_numbers=("15880001", "0299998888")) as srv:
        yield srv


@pytest.fixture
def world(demo_store):
    store = demo_store
    return store, store.services.get_by_code("cs"), store.users.get_by_login("agent02")


def good(store, cs, agent, **kw) -> sms.Prepared:
    draft = sms.Draft(
        kw.pop("send_type", SendType.SMS), "15880001", kw.pop("body", "안녕하세요"), "01012345678", **kw
    )
    return sms.prepare(store, agent, cs, draft)


def forged_cases(store, cs, agent):
    base = good(store, cs, agent)
    mms = good(store, cs, agent, send_type=SendType.MMS, title="제목", body="본문")
    now = sms.service_now(cs)
    png = png_bytes()
    return {
        "unregistered sender": dataclasses.replace(
            base, sender_no="0299998888"
        ),  # NHN has it; the service not
        "emoji": dataclasses.replace(base, body="출발했습니다 🚚"),
        "over 90 bytes": dataclasses.replace(base, body="가" * 46),
        "no recipients": dataclasses.replace(base, recipients=()),
        "bad recipient": dataclasses.replace(base, recipients=("0101234",)),
        "letters in a number": dataclasses.replace(base, recipients=("0101234567a",)),
        "too many recipients": dataclasses.replace(
            base, recipients=tuple(f"010{n:08d}" for n in range(1001))
        ),
        "reservation too soon": dataclasses.replace(base, reserve_at=now + timedelta(minutes=5)),
        "reservation past": dataclasses.replace(base, reserve_at=now - timedelta(hours=1)),
        "reservation too late": dataclasses.replace(base, reserve_at=now + timedelta(days=3)),
        "image on an SMS": dataclasses.replace(base, images=(MmsImage("a.jpg", jpeg_bytes(), 200, 150),)),
        "PNG claimed as JPEG": dataclasses.replace(mms, images=(MmsImage("a.jpg", png, 10, 10),)),
        "four images": dataclasses.replace(
            mms, images=tuple(MmsImage(f"{i}.jpg", jpeg_bytes(), 200, 150) for i in range(4))
        ),
        "MMS title emoji": dataclasses.replace(mms, title="🚚"),
        # An OSC 52 clipboard write (ESC … BEL): prepare() refuses it; a forged Prepared must not pass.
        "control characters": dataclasses.replace(base, body="hi \x1b]52;c;aGk=\x07 there"),
        "MMS title control characters": dataclasses.replace(mms, title="제목\x1b[31m"),
    }


CASES = [
    "unregistered sender",
    "emoji",
    "over 90 bytes",
    "no recipients",
    "bad recipient",
    "letters in a number",
    "too many recipients",
    "reservation too soon",
    "reservation past",
    "reservation too late",
    "image on an SMS",
    "PNG claimed as JPEG",
    "four images",
    "MMS title emoji",
    "control characters",
    "MMS title control characters",
]


@pytest.mark.parametrize("case", CASES)
def test_send_refuses_a_forged_prepared_before_storing_or_posting(world, server, case):
    store, cs, agent = world
    before = store.sms.history_count(cs.id, sms.history_filter(agent, cs))
    prepared = forged_cases(store, cs, agent)[case]
    gw = NhnGateway(server.base_url, "app-1", "secret-1", timeout=2.0)
    with pytest.raises(ValidationError):
        sms.send(store, agent, cs, prepared, gw)
    assert store.sms.history_count(cs.id, sms.history_filter(agent, cs)) == before  # nothing stored
    assert server.received == []  # nothing posted, no image uploaded


def test_send_reads_the_sender_numbers_from_the_store(world, server):
    store, cs, agent = world
    prepared = good(store, cs, agent, body="x")
    # The number was removed since the composer was opened (another console synced the senders).
    store.db.run_write(lambda conn: store.services.replace_sender_numbers(conn, cs.id, ["0212345678"]))
    gw = NhnGateway(server.base_url, "app-1", "secret-1", timeout=2.0)
    with pytest.raises(ValidationError) as err:
        sms.send(store, agent, cs, prepared, gw)  # ``cs`` still lists 15880001: the store does not
    assert err.value.key == "sms.err.sender_unregistered" and server.received == []


def test_send_refuses_a_template_locked_since(world):
    store, cs, agent = world
    admin = store.users.get_by_login("admin")
    top = sms.add_category(store, admin, cs, "안내")
    sub = sms.add_category(store, admin, cs, "배송", parent_id=top)
    tid = sms.save_template(store, admin, cs, sms.TemplateDraft(sub, "출발", SendType.SMS, "출발했습니다"))
    prepared = sms.prepare(
        store,
        agent,
        cs,
        sms.Draft(SendType.SMS, "15880001", "출발했습니다 (수정)", "01012345678", template_id=tid),
    )
    sms.save_template(
        store,
        admin,
        cs,
        sms.TemplateDraft(sub, "출발", SendType.SMS, "출발했습니다", editable=False),
        template_id=tid,
    )
    from contiple_tui.sms.gateway import SandboxGateway

    with pytest.raises(ValidationError) as err:
        sms.send(store, agent, cs, prepared, SandboxGateway())
    assert err.value.key == "sms.err.template_locked"


def _locked_template_with_old_text(store, cs, send_type, title, body) -> int:
    """A locked template whose text was stored before the door refused tabs and carriage returns:
    written to SQLite directly, as an old database holds it."""
    admin = store.users.get_by_login("admin")
    top = sms.add_category(store, admin, cs, "안내")
    sub = sms.add_category(store, admin, cs, "배송", parent_id=top)
    tid = sms.save_template(
        store, admin, cs, sms.TemplateDraft(sub, "출발", send_type, "임시", title="임시", editable=False)
    )
    store.db.run_write(
        lambda conn: conn.execute(
            "UPDATE sms_templates SET title = ?, body = ? WHERE id = ?", (title, body, tid)
        )
    )
    return tid


@pytest.mark.parametrize(
    ("send_type", "title", "body"),
    [
        (SendType.SMS, "", "출발\t했습니다\r\n도착 예정"),
        (SendType.MMS, "배송\r\n안내", "출발\t했습니다\r\n도착\r예정"),
    ],
    ids=["SMS body", "MMS title and body"],
)
def test_a_locked_template_with_tabs_or_carriage_returns_stays_sendable(world, send_type, title, body):
    from contiple_tui.safe_text import clean
    from contiple_tui.sms.gateway import SandboxGateway

    store, cs, agent = world
    tid = _locked_template_with_old_text(store, cs, send_type, title, body)
    tpl = sms.get_template(store, agent, cs, tid)
    # The composer fills its fields with the stored text made safe to show, and cannot change them.
    shown_title, shown_body = clean(tpl.title, None), clean(tpl.body, None, newlines=True)
    assert "\t" not in shown_body and "\r" not in shown_body
    draft = sms.Draft(send_type, "15880001", shown_body, "01012345678", title=shown_title, template_id=tid)
    outcome = sms.send(store, agent, cs, sms.prepare(store, agent, cs, draft), SandboxGateway())
    sent = sms.message(store, agent, cs, outcome.message_id)
    assert sent.body == shown_body and sent.template_id == tid
    assert sms.template_text(tpl) == (shown_title, shown_body)  # what the composer uses
    # Still locked: a changed text is refused, before and at the send.
    with pytest.raises(ValidationError) as err:
        sms.prepare(store, agent, cs, dataclasses.replace(draft, body=shown_body + "!"))
    assert err.value.key == "sms.err.template_locked"
    prepared = sms.prepare(store, agent, cs, draft)
    with pytest.raises(ValidationError) as err:
        sms.send(
            store,
            agent,
            cs,
            dataclasses.replace(prepared, body=shown_body.replace("도착", "출발")),
            SandboxGateway(),
        )
    assert err.value.key == "sms.err.template_locked"


def test_send_rejects_anything_but_a_prepared(world):
    store, cs, agent = world
    from contiple_tui.sms.gateway import SandboxGateway

    with pytest.raises(TypeError):
        sms.send(store, agent, cs, sms.Draft(SendType.SMS, "15880001", "x", "01012345678"), SandboxGateway())


# -- cancel: another user's send is "not found or not yours" ----------------------------------------------


def test_cancel_of_another_users_send_reads_as_a_missing_one(world):
    from contiple_tui.sms.gateway import SandboxGateway

    store, cs, agent = world
    other = store.users.get_by_login("agent01")
    at = (sms.service_now(cs) + timedelta(hours=2)).strftime("%Y-%m-%d %H:%M")
    theirs = sms.send(
        store,
        other,
        cs,
        sms.prepare(store, other, cs, sms.Draft(SendType.SMS, "15880001", "예약", "01012345678", reserve=at)),
        SandboxGateway(),
    )
    errors = {}
    for name, message_id in (("theirs", theirs.message_id), ("missing", 99_999)):
        with pytest.raises(NotFound) as err:
            sms.cancel_reservation(store, agent, cs, message_id, SandboxGateway())
        errors[name] = err.value
    assert errors["theirs"].key == errors["missing"].key == "sms.outcome.cancel_not_found"
    for lang in ("en", "ko"):
        assert errors["theirs"].message(lang).replace(str(theirs.message_id), "N") == errors[
            "missing"
        ].message(lang).replace("99999", "N")
    admin = store.users.get_by_login("admin")
    assert sms.cancel_reservation(store, admin, cs, theirs.message_id, SandboxGateway()) == 1  # admins may


def test_cli_cancel_of_another_users_send_reads_as_a_missing_one(demo_dir):
    env = {"CONTIPLE_TUI_SMS_GATEWAY": "sandbox"}
    made = run_cli(
        "--data-dir",
        str(demo_dir),
        "--user",
        "admin",
        "sms",
        "send",
        "--to",
        "01012345678",
        "--body",
        "by admin",
        env=env,
    )
    assert made.returncode == 0, made.stderr
    theirs = run_cli("--data-dir", str(demo_dir), "--user", "agent02", "sms", "cancel", "1", env=env)
    missing = run_cli("--data-dir", str(demo_dir), "--user", "agent02", "sms", "cancel", "777", env=env)
    assert theirs.returncode == missing.returncode == 2
    assert "not found or not yours" in theirs.stderr
    assert theirs.stderr.replace("#1", "#N") == missing.stderr.replace("#777", "#N")
