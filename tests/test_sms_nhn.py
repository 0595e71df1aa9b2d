"""The NHN Cloud gateway against the local NHN-compatible server: real httpx over a real socket.

Nothing of ours is mocked: the gateway speaks HTTP to ``NhnServer`` on 127.0.0.1, which validates what
it receives as NHN-SMS-API.md documents and can be told to fail (``fail_next``).
"""

from __future__ import annotations

import base64
import dataclasses
import logging
import signal
import socket
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from contiple_tui.domain.sms_rules import SendType
from contiple_tui.i18n import CATALOGS, set_language
from contiple_tui.sim.nhn_server import NhnServer
from contiple_tui.sms.gateway import GatewayError, OutgoingImage, RecipientState, SendRequest
from contiple_tui.sms.nhn import GatewayRefused, NhnGateway, upload_name

SEOUL = ZoneInfo("Asia/Seoul")
SENDER = "0215441234"
OTHER_SENDER = "0212345678"
BLOCKED = "0299998888"
UNUSED = "0277776666"
TWO = ("01012345678", "01098765432")
PREFIX = "/sms/v3.0/appKeys/test-app"


@pytest.fixture
def server():
    with NhnServer(
        sender_numbers=(SENDER, OTHER_SENDER), blocked_numbers=(BLOCKED,), unused_numbers=(UNUSED,)
    ) as srv:
        yield srv


@pytest.fixture
def gateway(server):
    gw = NhnGateway(server.base_url, server.app_key, server.secret_key, timeout=2.0)
    yield gw
    gw.close()


def make_request(**overrides) -> SendRequest:
    fields = {
        "send_type": SendType.SMS,
        "sender_no": SENDER,
        "body": "[콘티플] 상담 예약이 확인되었습니다.",
        "recipients": TWO,
        "grouping_key": f"ct-{uuid.uuid4().hex}",
        "user_login": "agent1",
        "requested_at": datetime.now(SEOUL),
    }
    fields.update(overrides)
    return SendRequest(**fields)


def jpeg_like(seed: int, size: int) -> bytes:
    """Bytes shaped like a JPEG (NHN checks the name and size, not the content)."""
    filler = bytes((seed * 31 + i * 7) % 256 for i in range(size - 4))
    return b"\xff\xd8" + filler + b"\xff\xd9"


def summary(results):
    return [(r.recipient_no, r.recipient_seq, r.state, r.result_code) for r in results]


# -- sending -----------------------------------------------------------------------------------------


def test_sms_send_is_one_request_exactly_as_documented(server, gateway):
    request = make_request()
    result = gateway.send(request)

    stored = server.find(request.grouping_key)
    assert result.request_id == stored[0].request_id
    assert summary(result.recipients) == [
        (TWO[0], 1, RecipientState.REQUESTED, "0"),
        (TWO[1], 2, RecipientState.REQUESTED, "0"),
    ]
    assert result.image_ids == ()
    assert dict(server.requests) == {"POST /sender/sms": 1}
    sent = server.sends()[0]
    assert sent.path == f"{PREFIX}/sender/sms"
    assert sent.headers["content-type"] == "application/json;charset=UTF-8"
    assert sent.headers["x-secret-key"] == "test-secret"
    assert sent.json == {
        "body": request.body,
        "sendNo": SENDER,
        "senderGroupingKey": request.grouping_key,
        "userId": "agent1",
        "recipientList": [
            {"recipientNo": TWO[0], "recipientGroupingKey": f"{request.grouping_key}:1"},
            {"recipientNo": TWO[1], "recipientGroupingKey": f"{request.grouping_key}:2"},
        ],
    }

    statuses = gateway.statuses(SendType.SMS, result.request_id, reserved=False)
    assert summary(statuses) == [
        (TWO[0], 1, RecipientState.SENT, "1000"),
        (TWO[1], 2, RecipientState.SENT, "1000"),
    ]
    assert server.received[-1].query["requestId"] == result.request_id


def test_mms_uploads_each_image_then_sends_once_with_their_ids(server, gateway):
    first, second = jpeg_like(1, 20_000), jpeg_like(2, 35_000)
    request = make_request(
        send_type=SendType.MMS,
        title="예약 안내",
        body="매장 약도를 보내드립니다.\n" * 3,
        images=(OutgoingImage("/home/me/사진 1.JPG", first), OutgoingImage("map.jpeg", second)),
    )
    result = gateway.send(request)

    assert [r.endpoint for r in server.received] == [
        "POST /attachfile/binaryUpload",
        "POST /attachfile/binaryUpload",
        "POST /sender/mms",
    ]
    uploads = [r.json for r in server.received[:2]]
    assert [u["fileName"] for u in uploads] == ["사진 1.jpg", "map.jpeg"]  # NHN wants lower-case .jpg/.jpeg
    assert {u["createUser"] for u in uploads} == {"agent1"}
    ids = [int(i) for i in result.image_ids]
    assert len(ids) == 2
    assert server.files[ids[0]].data == first and server.files[ids[1]].data == second
    send = server.received[2].json
    assert send["attachFileIdList"] == ids
    assert send["title"] == "예약 안내"
    assert [m.message_type for m in server.find(request.grouping_key)] == ["MMS", "MMS"]
    assert {r.state for r in result.recipients} == {RecipientState.REQUESTED}
    assert {r.state for r in gateway.statuses(SendType.MMS, result.request_id, False)} == {
        RecipientState.SENT
    }
    found = gateway.find_sent(request)
    assert found is not None and (found.request_id, found.image_ids) == (result.request_id, result.image_ids)


def test_lms_without_images_has_no_attachment_list(server, gateway):
    request = make_request(send_type=SendType.MMS, title="안내", body="가" * 500)
    gateway.send(request)
    assert dict(server.requests) == {"POST /sender/mms": 1}
    assert "attachFileIdList" not in server.sends()[0].json
    assert {m.message_type for m in server.find(request.grouping_key)} == {"LMS"}


def test_reservation_in_korea_time_then_statuses_and_cancel(server, gateway):
    at_seoul = (datetime.now(SEOUL) + timedelta(hours=2)).replace(second=0, microsecond=0)
    request = make_request(reserve_at=at_seoul.astimezone(UTC))  # any zone in, Korea time out
    result = gateway.send(request)

    assert server.sends()[0].json["requestDate"] == at_seoul.strftime("%Y-%m-%d %H:%M")
    assert {r.state for r in result.recipients} == {RecipientState.RESERVED}
    statuses = gateway.statuses(SendType.SMS, result.request_id, reserved=True)
    assert [(r.recipient_seq, r.state) for r in statuses] == [
        (1, RecipientState.RESERVED),
        (2, RecipientState.RESERVED),
    ]
    assert server.requests["GET /reservations"] == 1

    assert gateway.cancel(result.request_id, [1, 2], "agent1") == 2
    assert server.received[-1].json == {
        "reservationList": [
            {"requestId": result.request_id, "recipientSeq": 1},
            {"requestId": result.request_id, "recipientSeq": 2},
        ],
        "updateUser": "agent1",
    }
    statuses = gateway.statuses(SendType.SMS, result.request_id, reserved=True)
    assert {r.state for r in statuses} == {RecipientState.CANCELLED}
    assert gateway.cancel(result.request_id, [1], "agent1") == 0  # only RESERVED can be cancelled
    assert gateway.cancel(result.request_id, [], "agent1") == 0


def test_reservation_is_sent_when_due_and_no_longer_cancellable(server, gateway):
    result = gateway.send(make_request(reserve_at=datetime.now(SEOUL) + timedelta(minutes=40)))
    server.advance(timedelta(hours=1))
    statuses = gateway.statuses(SendType.SMS, result.request_id, reserved=True)
    assert summary(statuses) == [
        (TWO[0], 1, RecipientState.SENT, "1000"),
        (TWO[1], 2, RecipientState.SENT, "1000"),
    ]
    assert gateway.cancel(result.request_id, [1, 2], "agent1") == 0


def test_thousand_recipients_are_one_request(server, gateway):
    numbers = tuple(f"010{i:08d}" for i in range(1000))
    result = gateway.send(make_request(recipients=numbers))
    assert server.requests["POST /sender/sms"] == 1
    assert [r.recipient_seq for r in result.recipients] == list(range(1, 1001))
    assert len(server.sends()[0].json["recipientList"]) == 1000

    statuses = gateway.statuses(SendType.SMS, result.request_id, reserved=False)
    assert len(statuses) == 1000 and {r.state for r in statuses} == {RecipientState.SENT}
    assert server.requests["GET /sender/sms"] == 1  # totalCount says there is no second page

    with pytest.raises(GatewayRefused) as refused:
        gateway.send(make_request(recipients=(*numbers, "01099999999")))
    assert refused.value.code == -2016


def test_lists_are_read_page_by_page():
    with NhnServer(page_cap=100) as server:
        gateway = NhnGateway(server.base_url, server.app_key, server.secret_key, timeout=2.0)
        numbers = tuple(f"010{i:08d}" for i in range(250))
        request = make_request(recipients=numbers)
        result = gateway.send(request)
        statuses = gateway.statuses(SendType.SMS, result.request_id, reserved=False)
        assert [r.recipient_no for r in statuses] == list(numbers)
        assert server.requests["GET /sender/sms"] == 3
        assert [r.query["pageNum"] for r in server.received if r.endpoint == "GET /sender/sms"] == [
            "1",
            "2",
            "3",
        ]
        found = gateway.find_sent(request)
        assert found is not None and len(found.recipients) == 250
        gateway.close()


def test_an_invalid_recipient_fails_alone(server, gateway):
    result = gateway.send(make_request(recipients=("01012345678", "0101234")))
    assert summary(result.recipients) == [
        ("01012345678", 1, RecipientState.REQUESTED, "0"),
        ("0101234", 2, RecipientState.FAILED, "-2019"),
    ]
    statuses = gateway.statuses(SendType.SMS, result.request_id, reserved=False)
    assert [(r.recipient_seq, r.state, r.result_code) for r in statuses] == [
        (1, RecipientState.SENT, "1000"),
        (2, RecipientState.FAILED, "-2019"),
    ]


# -- refusals, explained -------------------------------------------------------------------------------


@pytest.mark.parametrize("code", [-2312, -2019, -9999])
def test_refusals_are_explained_in_korean_and_english(server, gateway, code):
    if code == -2312:
        request = make_request(sender_no="0299990000")  # the server's own check: not registered
    else:
        server.fail_next(code, endpoint="POST /sender")
        request = make_request()
    with pytest.raises(GatewayError) as caught:
        gateway.send(request)
    error = caught.value
    assert isinstance(error, GatewayRefused)
    assert (error.key, error.code, error.maybe_sent) == ("sms.err.gateway_refused", code, False)
    assert error.message("en") == CATALOGS["en"]["sms.err.gateway_refused"].format(
        code=code, reason=CATALOGS["en"][f"sms.code.{code}"]
    )
    assert error.message("ko") == CATALOGS["ko"]["sms.err.gateway_refused"].format(
        code=code, reason=CATALOGS["ko"][f"sms.code.{code}"]
    )
    set_language("ko")
    assert str(error) == error.message("ko")
    assert server.requests["POST /sender/sms"] == 1  # never retried by the gateway
    assert server.find(request.grouping_key) == []


@pytest.mark.parametrize(
    "overrides, code",
    [
        ({"sender_no": BLOCKED}, -2313),
        ({"sender_no": UNUSED}, -2312),
        ({"reserve_at": datetime.now(SEOUL) - timedelta(minutes=5)}, -2022),
        ({"body": "감사합니다 😀"}, -2023),
        ({"body": "가" * 46}, -2015),  # 92 bytes: past the 90-byte SMS
        ({"send_type": SendType.MMS, "title": "제" * 21, "body": "본문"}, -2015),  # 42-byte title
        ({"send_type": SendType.MMS, "title": "", "body": "본문"}, -2014),
    ],
)
def test_server_refuses_what_nhn_refuses(server, gateway, overrides, code):
    request = make_request(**overrides)
    with pytest.raises(GatewayRefused) as caught:
        gateway.send(request)
    assert caught.value.code == code
    assert CATALOGS["en"][f"sms.code.{code}"] in caught.value.message("en")
    assert server.find(request.grouping_key) == []


def test_an_unknown_code_shows_the_gateways_own_words(server, gateway):
    server.fail_next(-9995)
    with pytest.raises(GatewayRefused) as caught:
        gateway.sender_numbers()
    assert caught.value.message("en").endswith("Invalid api version.")
    assert caught.value.message("ko").endswith("Invalid api version.")


@pytest.mark.parametrize("which", ["app_key", "secret_key"])
def test_wrong_keys_are_refused(server, which):
    keys = {"app_key": server.app_key, "secret_key": server.secret_key, which: "wrong-" + which}
    gateway = NhnGateway(server.base_url, keys["app_key"], keys["secret_key"], timeout=2.0)
    with pytest.raises(GatewayRefused) as caught:
        gateway.sender_numbers()
    gateway.close()
    assert (caught.value.key, caught.value.code) == ("sms.err.gateway_refused_request", -1000)
    assert CATALOGS["en"]["sms.code.-1000"] in caught.value.message("en")
    assert CATALOGS["ko"]["sms.code.-1000"] in caught.value.message("ko")


def test_a_refused_upload_refuses_the_send(server, gateway):
    server.fail_next(-2005, endpoint="POST /attachfile")
    request = make_request(
        send_type=SendType.MMS, title="t", images=(OutgoingImage("a.jpg", jpeg_like(4, 999)),)
    )
    with pytest.raises(GatewayRefused) as caught:
        gateway.send(request)
    assert (caught.value.key, caught.value.code, caught.value.maybe_sent) == (
        "sms.err.gateway_refused",
        -2005,
        False,
    )
    assert CATALOGS["ko"]["sms.code.-2005"] in caught.value.message("ko")
    assert server.sends() == []


# -- lost answers and broken gateways ---------------------------------------------------------------


def test_timeout_may_have_sent_and_find_sent_finds_it_by_grouping_key(server):
    gateway = NhnGateway(server.base_url, server.app_key, server.secret_key, timeout=0.5)
    server.fail_next("timeout", endpoint="POST /sender", delay=3)
    request = make_request()
    started = time.monotonic()
    with pytest.raises(GatewayError) as caught:
        gateway.send(request)
    assert time.monotonic() - started < 2
    assert (caught.value.key, caught.value.maybe_sent) == ("sms.err.gateway_timeout", True)
    stored = server.find(request.grouping_key)
    assert len(stored) == 2  # the send was recorded; only its answer was lost

    found = gateway.find_sent(request)
    assert found is not None
    assert found.request_id == stored[0].request_id
    assert summary(found.recipients) == [
        (TWO[0], 1, RecipientState.SENT, "1000"),
        (TWO[1], 2, RecipientState.SENT, "1000"),
    ]
    lookup = server.received[-1]
    assert lookup.endpoint == "GET /sender/sms"
    assert lookup.query["senderGroupingKey"] == request.grouping_key
    assert lookup.query["pageSize"] == "1000"
    assert datetime.strptime(lookup.query["startRequestDate"], "%Y-%m-%d %H:%M:%S") < datetime.strptime(
        lookup.query["endRequestDate"], "%Y-%m-%d %H:%M:%S"
    )

    assert gateway.find_sent(dataclasses.replace(request, grouping_key="ct-never-sent")) is None
    assert server.requests["POST /sender/sms"] == 1
    gateway.close()


def test_lost_answer_of_a_reservation_is_found_reserved(server, gateway):
    request = make_request(reserve_at=datetime.now(SEOUL) + timedelta(hours=3), requested_at=None)
    server.fail_next("disconnect", endpoint="POST /sender")
    with pytest.raises(GatewayError) as caught:
        gateway.send(request)
    assert (caught.value.key, caught.value.maybe_sent) == ("sms.err.gateway_dropped", True)
    found = gateway.find_sent(dataclasses.replace(request, recipients=(TWO[1],)))  # order follows the request
    assert found is not None
    assert [(r.recipient_no, r.state) for r in found.recipients] == [
        (TWO[1], RecipientState.RESERVED),
        (TWO[0], RecipientState.RESERVED),
    ]


def test_find_sent_reads_mtpr_as_the_recipient_sequence():
    with NhnServer(seq_field="mtPr") as server:
        gateway = NhnGateway(server.base_url, server.app_key, server.secret_key, timeout=2.0)
        request = make_request()
        gateway.send(request)
        found = gateway.find_sent(request)
        rows = httpx.get(
            server.base_url + PREFIX + "/sender/sms",
            params=server.received[-1].query,
            headers={"X-Secret-Key": "test-secret"},
        ).json()["body"]["data"]
        gateway.close()
    assert [("mtPr" in row, "recipientSeq" in row) for row in rows] == [(True, False), (True, False)]
    assert found is not None and [r.recipient_seq for r in found.recipients] == [1, 2]


def test_a_timed_out_upload_sent_nothing(server, gateway):
    server.fail_next("timeout", endpoint="POST /attachfile", delay=3)
    slow = NhnGateway(server.base_url, server.app_key, server.secret_key, timeout=0.3)
    request = make_request(
        send_type=SendType.MMS, title="t", images=(OutgoingImage("a.jpg", jpeg_like(3, 1000)),)
    )
    with pytest.raises(GatewayError) as caught:
        slow.send(request)
    slow.close()
    assert (caught.value.key, caught.value.maybe_sent) == ("sms.err.gateway_timeout", False)
    assert server.sends() == []


def test_http_500_without_an_nhn_answer(server, gateway):
    server.fail_next("http500", endpoint="POST /sender")
    with pytest.raises(GatewayError) as caught:
        gateway.send(make_request())
    assert (caught.value.key, caught.value.params["status"], caught.value.maybe_sent) == (
        "sms.err.gateway_http",
        500,
        True,
    )
    assert "500" in caught.value.message("en") and "500" in caught.value.message("ko")

    server.fail_next("http500")
    with pytest.raises(GatewayError) as caught:
        gateway.sender_numbers()
    assert (caught.value.key, caught.value.maybe_sent) == ("sms.err.gateway_http", False)


@pytest.mark.parametrize("kind", ["invalid_json", "unexpected_json"])
def test_an_answer_that_is_not_the_expected_json(server, gateway, kind):
    server.fail_next(kind, endpoint="POST /sender")
    with pytest.raises(GatewayError) as caught:
        gateway.send(make_request())
    assert (caught.value.key, caught.value.maybe_sent) == ("sms.err.gateway_invalid", True)

    server.fail_next(kind)
    with pytest.raises(GatewayError) as caught:
        gateway.statuses(SendType.SMS, "20260101000000abcdefg0001", reserved=False)
    assert (caught.value.key, caught.value.maybe_sent) == ("sms.err.gateway_invalid", False)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_connection_refused():
    gateway = NhnGateway(f"http://127.0.0.1:{_closed_port()}", "test-app", "test-secret", timeout=2.0)
    with pytest.raises(GatewayError) as caught:
        gateway.send(make_request())
    gateway.close()
    assert (caught.value.key, caught.value.maybe_sent) == ("sms.err.gateway_unreachable", False)
    assert caught.value.params["reason"]
    assert caught.value.message("ko").startswith("SMS 게이트웨이에 연결할 수 없습니다")


# -- sender numbers, secrets -----------------------------------------------------------------------------


def test_sender_numbers_are_the_usable_ones(server, gateway):
    assert gateway.sender_numbers() == [SENDER, OTHER_SENDER]
    assert server.received[-1].endpoint == "GET /sendNos"


def test_the_secret_never_shows(caplog):
    caplog.set_level(logging.DEBUG)
    secret, app_key = f"SeCrEt-{uuid.uuid4().hex}", f"AppKey-{uuid.uuid4().hex}"
    errors: list[GatewayError] = []

    def collect(call):
        with pytest.raises(GatewayError) as caught:
            call()
        errors.append(caught.value)

    with NhnServer(app_key=app_key, secret_key=secret) as server:
        good = NhnGateway(server.base_url, app_key, secret, timeout=0.3)
        wrong = NhnGateway(server.base_url, app_key, secret + "-wrong", timeout=0.3)
        collect(lambda: wrong.send(make_request()))
        for kind in ("http500", "invalid_json", "timeout", "disconnect", -2312, -9999):
            server.fail_next(kind, delay=2)
            collect(lambda: good.send(make_request()))
        collect(lambda: good.send(make_request(sender_no=BLOCKED)))
        texts = [repr(good), str(good), repr(wrong)]
        good.close()
        wrong.close()
    unreachable = NhnGateway(f"http://127.0.0.1:{_closed_port()}", app_key, secret, timeout=0.3)
    collect(unreachable.sender_numbers)
    texts.append(repr(unreachable))

    assert len({e.key for e in errors}) >= 5
    for error in errors:
        texts += [
            str(error),
            repr(error),
            error.message("en"),
            error.message("ko"),
            repr(error.params),
            repr(error.args),
        ]
    joined = "\n".join(texts) + caplog.text
    assert secret not in joined
    assert app_key not in "\n".join(texts)  # the app key is masked in the repr and scrubbed from reasons


def test_upload_names_follow_nhn_rules():
    assert upload_name("C:\\photos\\Photo.JPG", 1) == "Photo.jpg"
    assert upload_name("", 2) == "image2.jpg"
    long = upload_name("x" * 80 + ".jpeg", 1)
    assert len(long) == 45 and long.endswith(".jpeg")


# -- the server itself -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method, path, body, headers, status, code",
    [
        (
            "POST",
            "/sender/sms",
            {
                "body": "x",
                "sendNo": SENDER,
                "requestDate": "2026/11/25 15:30",
                "recipientList": [{"recipientNo": TWO[0]}],
            },
            {},
            200,
            -2000,
        ),
        (
            "POST",
            "/sender/sms",
            {
                "body": "x",
                "sendNo": SENDER,
                "requestDate": (datetime.now(SEOUL) + timedelta(days=61)).strftime("%Y-%m-%d %H:%M"),
                "recipientList": [{"recipientNo": TWO[0]}],
            },
            {},
            200,
            -1005,
        ),
        ("POST", "/sender/sms", {"body": "x", "sendNo": SENDER, "recipientList": []}, {}, 200, -2001),
        ("POST", "/sender/sms", "not json", {"Content-Type": "text/plain"}, 200, -9996),
        (
            "POST",
            "/sender/mms",
            {
                "title": "t",
                "body": "x",
                "sendNo": SENDER,
                "attachFileIdList": [424242],
                "recipientList": [{"recipientNo": TWO[0]}],
            },
            {},
            200,
            -2004,
        ),
        ("GET", "/sender/sms", None, {}, 200, -2011),
        (
            "GET",
            "/sender/sms?startRequestDate=2026-01-01%2000:00:00&endRequestDate=2026-03-01%2000:00:00",
            None,
            {},
            200,
            -4000,
        ),
        ("GET", "/sender/sms/20260101000000abcdefg0001", None, {}, 200, -2012),
        (
            "POST",
            "/attachfile/binaryUpload",
            {"fileName": "a.png", "createUser": "u", "fileBody": "AAAA"},
            {},
            200,
            -2003,
        ),
        (
            "POST",
            "/attachfile/binaryUpload",
            {
                "fileName": "a.jpg",
                "createUser": "u",
                "fileBody": base64.b64encode(bytes(301 * 1024)).decode(),
            },
            {},
            200,
            -2005,
        ),
        (
            "POST",
            "/attachfile/binaryUpload",
            {"fileName": "a.jpg", "createUser": "u", "fileBody": "*"},
            {},
            200,
            -9997,
        ),
        ("GET", "/nothing-here", None, {}, 404, -9998),
        ("GET", "/sendNos", None, {"X-Secret-Key": "nope"}, 401, -1000),
    ],
)
def test_server_validation(server, method, path, body, headers, status, code):
    all_headers = {"X-Secret-Key": "test-secret", "Content-Type": "application/json;charset=UTF-8", **headers}
    content = (
        body.encode()
        if isinstance(body, str)
        else (None if body is None else httpx.Request("POST", "http://x", json=body).content)
    )
    response = httpx.request(method, server.base_url + PREFIX + path, content=content, headers=all_headers)
    assert response.status_code == status
    assert response.json()["header"] == {
        "isSuccessful": False,
        "resultCode": code,
        "resultMessage": response.json()["header"]["resultMessage"],
    }
    assert server.messages == []


def test_server_wrong_app_key_is_refused_with_http_200(server):
    response = httpx.get(
        server.base_url + "/sms/v3.0/appKeys/other/sendNos", headers={"X-Secret-Key": "test-secret"}
    )
    assert response.status_code == 200
    assert response.json()["header"]["resultCode"] == -1000


def test_server_runs_by_hand():
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "contiple_tui.sim.nhn_server",
            "--port",
            "0",
            "--sender",
            "0215440000",
            "--secret-key",
            "sekrit-42",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        gateway = NhnGateway(url, "test-app", "sekrit-42", timeout=2.0)
        assert gateway.sender_numbers() == ["0215440000"]
        gateway.close()
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert "CONTIPLE_TUI_NHN_BASE_URL=" + url in err
    assert "sekrit-42" not in err


@pytest.mark.parametrize("where", ["illegal header", "unsupported scheme"])
def test_errors_raised_before_the_request_leaves_are_not_maybe_sent(server, where):
    """httpx errors that prove nothing was written (here: h11 refusing a header as the request is built,
    and a URL scheme httpx does not speak) are plain failures; every other error of a send is maybe_sent."""
    if where == "illegal header":
        gw = NhnGateway(server.base_url, server.app_key, "secret\nkey", timeout=2.0)
    else:
        gw = NhnGateway(
            server.base_url.replace("http://", "ftp://"), server.app_key, server.secret_key, timeout=2.0
        )
    with pytest.raises(GatewayError) as err:
        gw.send(make_request(grouping_key="ct-early"))
    gw.close()
    assert err.value.maybe_sent is False and err.value.key == "sms.err.gateway_unreachable"
    assert server.received == []
    for lang in ("en", "ko"):
        text = err.value.message(lang)
        assert "secret" not in text and "key" not in text.replace("***", "")  # not even escaped


@pytest.mark.parametrize("processed", [True, False])
def test_an_answer_that_cannot_be_decoded_may_have_sent(server, gateway, processed):
    """A send whose answer httpx cannot decode (said to be gzip, and not) went out: maybe_sent."""
    server.fail_next("bad_gzip", endpoint="POST /sender", processed=processed)
    with pytest.raises(GatewayError) as err:
        gateway.send(make_request(grouping_key="ct-gzip"))
    assert err.value.maybe_sent is True and err.value.key == "sms.err.gateway_broken"
    assert len(server.sends()) == 1 and bool(server.find("ct-gzip")) is processed
