"""SMS in the core with the sandbox gateway: templates (2-1), sending (2-2), history and cancel (2-3),
permissions refused by the core whatever the UI shows."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from contiple_tui.core import sms
from contiple_tui.domain import images
from contiple_tui.domain.sms_models import MessageStatus
from contiple_tui.domain.sms_rules import SendType
from contiple_tui.errors import NotFound, PermissionDenied, ValidationError
from contiple_tui.sms.gateway import RecipientState, SandboxGateway

from .conftest import integrity_errors
from .smsdata import jpeg_bytes

pytestmark = pytest.mark.both_engines  # SQLite and PostgreSQL: the same rules


@pytest.fixture
def world(demo_store):
    store = demo_store
    cs = store.services.get_by_code("cs")
    admin = store.users.get_by_login("admin")
    agent = store.users.get_by_login("agent02")
    other = store.users.get_by_login("agent11")  # no phone: SMS still allowed
    return store, cs, admin, agent, other


def _tree(store, admin, cs):
    top = sms.add_category(store, admin, cs, "안내")
    sub = sms.add_category(store, admin, cs, "배송", parent_id=top)
    return top, sub


def _draft(sub, **kw) -> sms.TemplateDraft:
    base = dict(
        category_id=sub,
        name="배송 안내",
        send_type=SendType.SMS,
        body="[고객센터] 주문하신 상품이 출발했습니다.",
    )
    base.update(kw)
    return sms.TemplateDraft(**base)


# -- templates ------------------------------------------------------------------------------------


def test_two_level_categories_and_templates(world):
    store, cs, admin, *_ = world
    top, sub = _tree(store, admin, cs)
    with pytest.raises(ValidationError) as err:
        sms.add_category(store, admin, cs, "3단계", parent_id=sub)
    assert err.value.key == "sms.err.category_depth"
    with pytest.raises(ValidationError) as err:
        sms.save_template(store, admin, cs, _draft(top))
    assert err.value.key == "sms.err.template_top_level"
    tid = sms.save_template(store, admin, cs, _draft(sub))
    tree = sms.template_tree(store, admin, cs)
    assert [c.name for c in tree] == ["안내"]
    assert [c.name for c in tree[0].children] == ["배송"]
    assert [t.id for t in tree[0].children[0].templates] == [tid]


def test_the_database_itself_refuses_a_third_level(world):
    store, cs, admin, *_ = world
    _, sub = _tree(store, admin, cs)
    with pytest.raises(integrity_errors()):
        with store.db.write() as conn:
            conn.execute(
                "INSERT INTO sms_categories (service_id, parent_id, name, created_at) VALUES (?, ?, 'x', 0)",
                (cs.id, sub),
            )


def test_category_not_in_use_hides_its_templates(world):
    store, cs, admin, agent, _ = world
    top, sub = _tree(store, admin, cs)
    tid = sms.save_template(store, admin, cs, _draft(sub, in_use=True))
    assert [t.id for *_, t in sms.usable_templates(store, agent, cs)] == [tid]
    sms.update_category(store, admin, cs, top, "안내", in_use=False)
    assert sms.usable_templates(store, agent, cs) == []
    tree = sms.template_tree(store, admin, cs)
    tpl = tree[0].children[0].templates[0]
    assert tpl.in_use and not tpl.effective_in_use  # marked in use, counts as not in use
    with pytest.raises(ValidationError) as err:
        sms.prepare(
            store, agent, cs, sms.Draft(SendType.SMS, "15880001", tpl.body, "01012345678", template_id=tid)
        )
    assert err.value.key == "sms.err.template_not_in_use"
    sms.update_category(store, admin, cs, top, "안내", in_use=True)
    sms.update_category(store, admin, cs, sub, "배송", in_use=False)
    assert sms.usable_templates(store, agent, cs) == []


def test_delete_category_says_how_many_and_deletes_below(world):
    store, cs, admin, *_ = world
    top, sub = _tree(store, admin, cs)
    sub2 = sms.add_category(store, admin, cs, "결제", parent_id=top)
    sms.save_template(store, admin, cs, _draft(sub))
    sms.save_template(store, admin, cs, _draft(sub, name="두번째"))
    sms.save_template(store, admin, cs, _draft(sub2, name="세번째"))
    assert sms.category_contents(store, admin, cs, top) == (2, 3)
    assert sms.delete_category(store, admin, cs, top) == (2, 3)
    assert sms.template_tree(store, admin, cs) == []
    with store.db.read() as conn:
        assert conn.execute("SELECT count(*) FROM sms_templates").fetchone()[0] == 0


def test_template_rules_checked_on_save(world):
    store, cs, admin, *_ = world
    _, sub = _tree(store, admin, cs)
    with pytest.raises(ValidationError) as err:
        sms.save_template(store, admin, cs, _draft(sub, body="가" * 46))
    assert err.value.key == "sms.err.sms_too_long"
    with pytest.raises(ValidationError) as err:
        sms.save_template(store, admin, cs, _draft(sub, sender_no="0299999999"))
    assert err.value.key == "sms.err.sender_unregistered"
    img = images.check_image_bytes("a.jpg", jpeg_bytes())
    tid = sms.save_template(
        store, admin, cs, _draft(sub, send_type=SendType.MMS, title="안내", images=(img,))
    )
    tpl = sms.get_template(store, admin, cs, tid)
    assert tpl.send_type is SendType.MMS and tpl.images[0].data == img.data
    # Editing without images keeps the stored ones.
    sms.save_template(store, admin, cs, _draft(sub, send_type=SendType.MMS, title="안내2", images=None), tid)
    tpl = sms.get_template(store, admin, cs, tid)
    assert tpl.title == "안내2" and len(tpl.images) == 1


def test_agents_cannot_manage_templates(world):
    store, cs, admin, agent, _ = world
    _, sub = _tree(store, admin, cs)
    with pytest.raises(PermissionDenied):
        sms.add_category(store, agent, cs, "x")
    with pytest.raises(PermissionDenied):
        sms.save_template(store, agent, cs, _draft(sub))
    with pytest.raises(PermissionDenied):
        sms.template_tree(store, agent, cs)


def test_sms_off_service_refuses_everything(world):
    store, _, admin, *_ = world
    care = store.services.get_by_code("care")
    with pytest.raises(PermissionDenied):
        sms.prepare(store, admin, care, sms.Draft(SendType.SMS, "x", "hi", "01012345678"))


def test_locked_template_text_cannot_change(world):
    store, cs, admin, agent, _ = world
    _, sub = _tree(store, admin, cs)
    tid = sms.save_template(store, admin, cs, _draft(sub, editable=False))
    tpl = sms.get_template(store, agent, cs, tid)
    sms.prepare(
        store, agent, cs, sms.Draft(SendType.SMS, "15880001", tpl.body, "01012345678", template_id=tid)
    )
    with pytest.raises(ValidationError) as err:
        sms.prepare(
            store,
            agent,
            cs,
            sms.Draft(SendType.SMS, "15880001", tpl.body + "!", "01012345678", template_id=tid),
        )
    assert err.value.key == "sms.err.template_locked"


# -- sending -----------------------------------------------------------------------------------------


def test_send_now_through_the_sandbox(world):
    store, cs, _, agent, _ = world
    prepared = sms.prepare(
        store,
        agent,
        cs,
        sms.Draft(SendType.SMS, "15880001", "안녕하세요", "01012345678,01012345678,0212345678"),
    )
    assert prepared.duplicates == 1
    outcome = sms.send(store, agent, cs, prepared, SandboxGateway(cs.sender_numbers))
    assert outcome.status is MessageStatus.SENT and outcome.recipients == 2 and outcome.gateway == "sandbox"
    msg = sms.message(store, agent, cs, outcome.message_id)
    assert msg.status is MessageStatus.SENT and msg.request_id.startswith("SANDBOX-")
    rows = store.sms.recipients(outcome.message_id)
    assert [(r.recipient_no, r.recipient_seq, r.state) for r in rows] == [
        ("01012345678", 1, "sent"),
        ("0212345678", 2, "sent"),
    ]


def test_mms_with_images_keeps_the_images(world):
    store, cs, _, agent, _ = world
    img = images.check_image_bytes("p.jpg", jpeg_bytes(300, 200))
    prepared = sms.prepare(
        store,
        agent,
        cs,
        sms.Draft(SendType.MMS, "15880001", "본문", "01012345678", title="제목", images=(img,)),
    )
    outcome = sms.send(store, agent, cs, prepared, SandboxGateway())
    stored = store.sms.images(outcome.message_id)
    assert [(i.file_name, i.width, i.height, i.data) for i in stored] == [("p.jpg", 300, 200, img.data)]


def test_reservation_becomes_sent_when_due_and_can_be_cancelled(world):
    store, cs, _, agent, _ = world
    now = sms.service_now(cs)
    at = (now + timedelta(minutes=45)).strftime("%Y-%m-%d %H:%M")
    gw = SandboxGateway()
    first = sms.send(
        store,
        agent,
        cs,
        sms.prepare(
            store, agent, cs, sms.Draft(SendType.SMS, "15880001", "예약 1", "01012345678", reserve=at), now
        ),
        gw,
        now,
    )
    second = sms.send(
        store,
        agent,
        cs,
        sms.prepare(
            store,
            agent,
            cs,
            sms.Draft(SendType.SMS, "15880001", "예약 2", "01012345678,01087654321", reserve=at),
            now,
        ),
        gw,
        now,
    )
    assert first.status is MessageStatus.RESERVED
    assert sms.refresh(store, lambda s, name: gw, [cs], now=time.time()) == 0  # not due yet
    assert sms.cancel_reservation(store, agent, cs, second.message_id, gw) == 2
    assert sms.message(store, agent, cs, second.message_id).status is MessageStatus.CANCELLED
    with pytest.raises(ValidationError) as err:
        sms.cancel_reservation(store, agent, cs, second.message_id, gw)
    assert err.value.key == "sms.err.not_cancellable"
    later = time.time() + 3600
    assert sms.refresh(store, lambda s, name: gw, [cs], now=later) == 1
    assert sms.message(store, agent, cs, first.message_id).status is MessageStatus.SENT
    assert sms.message(store, agent, cs, second.message_id).status is MessageStatus.CANCELLED


def test_reservation_checked_again_at_send_time(world):
    store, cs, _, agent, _ = world
    now = sms.service_now(cs)
    at = (now + timedelta(minutes=31)).strftime("%Y-%m-%d %H:%M")
    prepared = sms.prepare(
        store, agent, cs, sms.Draft(SendType.SMS, "15880001", "hi", "01012345678", reserve=at), now
    )
    with pytest.raises(ValidationError) as err:
        sms.send(store, agent, cs, prepared, SandboxGateway(), now + timedelta(minutes=5))
    assert err.value.key == "sms.err.reserve_too_soon"
    with store.db.read() as conn:
        assert conn.execute("SELECT count(*) FROM sms_messages").fetchone()[0] == 0


@pytest.mark.parametrize(
    "draft,key",
    [
        (dict(body="이모지 😀"), "sms.err.unencodable"),
        (dict(body="a" * 91), "sms.err.sms_too_long"),
        (dict(recipients="0101234567a"), "sms.err.recipient_chars"),
        (dict(sender_no="0299999999"), "sms.err.sender_unregistered"),
    ],
)
def test_nothing_is_stored_or_sent_when_a_rule_breaks(world, draft, key):
    store, cs, _, agent, _ = world
    base = dict(send_type=SendType.SMS, sender_no="15880001", body="hi", recipients="01012345678")
    base.update(draft)
    with pytest.raises(ValidationError) as err:
        sms.prepare(store, agent, cs, sms.Draft(**base))
    assert err.value.key == key
    with store.db.read() as conn:
        assert conn.execute("SELECT count(*) FROM sms_messages").fetchone()[0] == 0


# -- history ---------------------------------------------------------------------------------------------


def test_agents_see_their_own_history_admins_all(world):
    store, cs, admin, agent, other = world
    gw = SandboxGateway()
    for user, body in ((agent, "from agent02"), (other, "from agent11"), (admin, "from admin")):
        sms.send(
            store,
            user,
            cs,
            sms.prepare(store, user, cs, sms.Draft(SendType.SMS, "15880001", body, "01012345678")),
            gw,
        )
    own = sms.history(store, agent, cs, sms.history_filter(agent, cs))
    assert [m.body for m in own] == ["from agent02"]
    everyone = sms.history(store, admin, cs, sms.history_filter(admin, cs))
    assert {m.body for m in everyone} == {"from agent02", "from agent11", "from admin"}
    with pytest.raises(PermissionDenied):
        sms.history(store, agent, cs, sms.history_filter(admin, cs))  # an unscoped filter is refused
    with pytest.raises(PermissionDenied):
        sms.message(store, agent, cs, everyone[0].id if everyone[0].user_id != agent.id else everyone[1].id)
    with pytest.raises(NotFound):
        sms.message(store, agent, cs, 999_999)


def test_history_filters(world):
    store, cs, admin, agent, _ = world
    gw = SandboxGateway()
    sms.send(
        store,
        agent,
        cs,
        sms.prepare(store, agent, cs, sms.Draft(SendType.SMS, "15880001", "a", "01011112222")),
        gw,
    )
    sms.send(
        store,
        agent,
        cs,
        sms.prepare(store, agent, cs, sms.Draft(SendType.MMS, "0212345678", "b", "01033334444", title="t")),
        gw,
    )

    def bodies(**kw):
        return [m.body for m in sms.history(store, admin, cs, sms.history_filter(admin, cs, **kw))]

    assert bodies(send_type=SendType.MMS) == ["b"]
    assert bodies(recipient="1112") == ["a"]
    assert bodies(sender_no="0212") == ["b"]
    assert bodies(status=MessageStatus.SENT) == ["b", "a"]
    assert bodies(status=MessageStatus.RESERVED) == []
    now = int(time.time())
    assert bodies(start=now + 3600, end=now + 7200) == []
    with pytest.raises(ValidationError) as err:
        sms.history_filter(admin, cs, start=now, end=now - 1)
    assert err.value.key == "err.date_range_reversed"
    assert sms.history_count(store, admin, cs, sms.history_filter(admin, cs)) == 2


def test_summarize():
    s = {str(k): v for k, v in {RecipientState.SENT: 2, RecipientState.FAILED: 1}.items()}
    assert sms.summarize(s) is MessageStatus.PARTIAL
    assert sms.summarize({"failed": 3}) is MessageStatus.FAILED
    assert sms.summarize({"reserved": 1, "cancelled": 1}) is MessageStatus.RESERVED
    assert sms.summarize({}) is MessageStatus.PENDING


def test_demo_sms_world(empty_store):
    from contiple_tui.sim import demo

    demo.seed(empty_store, callbacks=10, agents=6, now=time.time())
    cs = empty_store.services.get_by_code("cs")
    admin = empty_store.users.get_by_login("admin")
    tree = sms.template_tree(empty_store, admin, cs)
    assert {c.name for c in tree} == {"안내", "이벤트"}
    usable = [tpl.name for *_, tpl in sms.usable_templates(empty_store, admin, cs)]
    assert "11월 감사 이벤트" not in usable and "매장 약도" in usable  # its category is not in use
    mms = next(tpl for *_, tpl in sms.usable_templates(empty_store, admin, cs) if tpl.name == "매장 약도")
    assert mms.images and images.check_image_bytes(mms.images[0].file_name, mms.images[0].data)
    assert sms.history_count(empty_store, admin, cs, sms.history_filter(admin, cs)) == 40
    care = empty_store.services.get_by_code("care")  # SMS off: nothing seeded
    assert empty_store.sms.tree(care.id) == []
