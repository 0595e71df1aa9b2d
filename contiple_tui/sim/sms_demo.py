"""The demo's SMS world: template categories and templates (one MMS with a map image), and a week of
sends through the sandbox, so menus 2-1, 2-2 and 2-3 have something to show."""

from __future__ import annotations

import io
import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from contiple_tui.core import sms
from contiple_tui.domain.images import check_image_bytes
from contiple_tui.domain.models import Role
from contiple_tui.domain.sms_rules import SendType
from contiple_tui.sms.gateway import SandboxGateway

TEMPLATES = {
    "cs": [
        (
            "안내",
            True,
            [
                (
                    "배송",
                    True,
                    [
                        (
                            "배송 출발 안내",
                            SendType.SMS,
                            "",
                            "[고객센터] 주문하신 상품이 오늘 출발했습니다. 문의 1588-0001",
                            True,
                        ),
                        (
                            "배송 지연 안내",
                            SendType.SMS,
                            "",
                            "[고객센터] 주문하신 상품의 배송이 1~2일 늦어집니다. 죄송합니다.",
                            False,
                        ),
                    ],
                ),
                (
                    "상담",
                    True,
                    [
                        (
                            "콜백 부재 안내",
                            SendType.SMS,
                            "",
                            "[고객센터] 요청하신 전화를 드렸으나 연결되지 않았습니다. 1588-0001로 연락 "
                            "주세요.",
                            True,
                        ),
                        (
                            "매장 약도",
                            SendType.MMS,
                            "오시는 길",
                            "[고객센터] 매장 위치를 보내 드립니다.\n서울시 중구 세종대로 110\n평일 "
                            "09:00~18:00",
                            False,
                        ),
                    ],
                ),
            ],
        ),
        (
            "이벤트",
            False,
            [
                (
                    "11월",
                    True,
                    [
                        (
                            "11월 감사 이벤트",
                            SendType.MMS,
                            "11월 감사 이벤트",
                            "(광고) 11월 한 달 동안 전 상품 10% 할인!\n무료수신거부 080-000-0000",
                            True,
                        )
                    ],
                )
            ],
        ),
    ],
    "sales": [
        (
            "영업",
            True,
            [
                (
                    "가입",
                    True,
                    [
                        (
                            "가입 환영",
                            SendType.SMS,
                            "",
                            "[영업팀] 가입해 주셔서 감사합니다. 문의 1588-0002",
                            True,
                        )
                    ],
                )
            ],
        )
    ],
}


def _map_image() -> bytes:
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (480, 320), (236, 240, 244))
    draw = ImageDraw.Draw(img)
    for x in range(0, 480, 60):
        draw.line([(x, 0), (x, 320)], fill=(200, 205, 210), width=2)
    for y in range(0, 320, 60):
        draw.line([(0, y), (480, y)], fill=(200, 205, 210), width=2)
    draw.rectangle([200, 120, 280, 200], fill=(220, 60, 60))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=80)
    return out.getvalue()


def seed_sms(store, now: float, rng: random.Random | None = None, sends: int = 40) -> None:
    rng = rng or random.Random(11)
    admin = store.users.get_by_login("admin")
    image = check_image_bytes("map.jpg", _map_image())
    for service in store.services.list():
        if not service.sms_enabled or service.code not in TEMPLATES:
            continue
        for top_name, top_use, subs in TEMPLATES[service.code]:
            top = sms.add_category(store, admin, service, top_name, in_use=top_use)
            for sub_name, sub_use, templates in subs:
                sub = sms.add_category(store, admin, service, sub_name, parent_id=top, in_use=sub_use)
                for name, send_type, title, body, editable in templates:
                    sms.save_template(
                        store,
                        admin,
                        service,
                        sms.TemplateDraft(
                            category_id=sub,
                            name=name,
                            send_type=send_type,
                            title=title,
                            body=body,
                            editable=editable,
                            sender_no=service.sender_numbers[0] if service.sender_numbers else None,
                            images=(image,) if send_type is SendType.MMS and title == "오시는 길" else None,
                        ),
                    )
        _seed_sends(store, service, now, rng, sends)


def _seed_sends(store, service, now: float, rng: random.Random, count: int) -> None:
    senders = [u for u in store.users.list() if u.member_of(service) and u.role in (Role.ADMIN, Role.AGENT)]
    usable = sms.usable_templates(store, senders[0], service)
    if not senders or not usable or not service.sender_numbers:
        return
    zone = ZoneInfo(service.timezone)
    gateway = SandboxGateway(service.sender_numbers)
    for _ in range(count):
        user = rng.choice(senders)
        _, _, tpl = rng.choice(usable)
        at = datetime.fromtimestamp(now, zone) - timedelta(days=rng.random() * 7)
        numbers = ",".join(f"010{rng.randrange(10**8):08d}" for _ in range(rng.choice((1, 1, 1, 2, 3, 12))))
        draft = sms.Draft(
            send_type=tpl.send_type,
            sender_no=tpl.sender_no or service.sender_numbers[0],
            body=tpl.body,
            recipients=numbers,
            title=tpl.title,
            images=tuple(check_image_bytes(im.file_name, im.data) for im in tpl.images),
            template_id=tpl.id,
        )
        sms.send(store, user, service, sms.prepare(store, user, service, draft, at), gateway, at)
