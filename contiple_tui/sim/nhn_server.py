"""A local NHN Cloud SMS v3.0-compatible HTTP server, for tests, benchmarks and manual checks.

Nothing here is used by the console in production. It follows ``../shared/spec/NHN-SMS-API.md``: the
same paths under ``/sms/v3.0/appKeys/{appKey}``, the ``X-Secret-Key`` header, the documented request
validation and result codes, in-memory state (sends, reservations, uploaded images, sender numbers), and
failure injection (:meth:`NhnServer.fail_next`) for the cases a client must survive.

Where the docs are silent the choices are marked UNCONFIRMED; each is a constructor option or a class
constant so it can follow the real service once known.

Run by hand::

    python -m contiple_tui.sim.nhn_server [--port 8899] [--app-key K] [--secret-key S]
        [--sender 0215441234 ...]
"""

from __future__ import annotations

import argparse
import base64
import binascii
import itertools
import json
import re
import secrets
import signal
import socket
import string
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo

# -- documented limits -----------------------------------------------------------------------------
SMS_BODY_BYTES, MMS_TITLE_BYTES, MMS_BODY_BYTES = 90, 40, 2_000  # standard (what handsets show)
SMS_BODY_CHARS, MMS_TITLE_CHARS, MMS_BODY_CHARS = 255, 120, 4_000  # what the server stores
MAX_RECIPIENTS = 1_000
RECIPIENT_DIGITS = (10, 13)
SEND_NO_MAX = 13
GROUPING_KEY_MAX = 100
MAX_RESERVE_AHEAD = timedelta(days=60)
FILE_KEPT = timedelta(days=7)
FILE_NAME_MAX = 45
FILE_MAX_BYTES = 300 * 1024
FILES_MAX_TOTAL = 800 * 1024
FILES_MAX = 3
PAGE_SIZE_MAX = 1_000
PAGE_SIZE_DEFAULT = 15
SEARCH_RANGE_MAX = timedelta(days=31)  # "range ≤ 1 month"
REQUEST_DATE = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}")
SEARCH_DATE = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
PREFIX = re.compile(r"^/sms/(?P<version>v[0-9.]+)/appKeys/(?P<app_key>[^/]+)(?P<rest>/.*)?$")

RESULT_MESSAGES: dict[int, str] = {
    0: "SUCCESS",
    -1000: "Invalid appKey.",
    -1001: "Service is not exist.",
    -1002: "Service is disabled.",
    -1005: "Service parameter is invalid.",
    -2000: "Date format error.",
    -2001: "RecipientList can not be null.",
    -2002: "Invalid attach file name.",
    -2003: "Attach file required jpg or jpeg.",
    -2004: "File is expired or does not exist.",
    -2005: "The file size must be greater than 0 and less than 300KB.",
    -2011: "RequestId or start/endRequestDate or start/endCreateDate is required.",
    -2012: "Search parameter is invalid.(requestId and recipientSeq).",
    -2014: "Title or body can not be empty.",
    -2015: "Title or Body exceed maximum byte.",
    -2016: "The max recipient size is 1000.",
    -2018: "RecipientNo can not be empty.",
    -2019: "RecipientNo is invalid.",
    -2022: "requestDate is not before currentDate",
    -2023: "Unacceptable characters in title and body",
    -2024: "LMS/MMS Type is not sent to outside of Korea.",
    -2052: "Monthly sending quota exceeded.",
    -2312: "Not regist sendno.",
    -2313: "This sendno is blocked.",
    -4000: "Search is possible within one month.",
    -6001: "Recipient Number is refused.",
    -9995: "Invalid api version.",
    -9996: "Only application/json Content-type is supported.",
    -9997: "Invalid API parameters.",
    -9998: "Not exist API.",
    -9999: "System error.",
}
MSG_STATUS_NAMES = {
    "0": "실패",
    "1": "요청",
    "2": "처리 중",
    "3": "성공",
    "4": "예약 취소",
    "5": "중복 실패",
    "6": "광고 제한 실패",
    "7": "광고 제한 재발송 대기",
}
HANDSET_RESULTS = {"1000": "성공", "3001": "가입자 없음"}
FAILURE_KINDS = (
    "timeout",
    "disconnect",
    "http500",
    "invalid_json",
    "unexpected_json",
    "nested_json",
    "bad_gzip",
)
NESTED_DEPTH = 100_000  # "nested_json": deeper than any JSON parser's recursion limit
_PROCESSED_BY_DEFAULT = ("timeout", "disconnect")


class ApiError(Exception):
    """Answer ``isSuccessful: false`` with ``code``."""

    def __init__(self, code: int, http_status: int = 200, message: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.http_status = http_status
        self.message = message or RESULT_MESSAGES.get(code, "Failed.")


@dataclass
class SenderNumber:
    send_no: str
    use_yn: str = "Y"
    block_yn: str = "N"
    block_reason: str = ""


@dataclass
class StoredFile:
    file_id: int
    file_name: str
    data: bytes
    create_user: str
    created: datetime  # server wall clock (request time zone)


@dataclass
class StoredMessage:
    """One recipient of one send, as the lists show it."""

    request_id: str
    recipient_seq: int
    send_type: str  # "0" SMS, "1" LMS/MMS
    message_type: str  # SMS, LMS, MMS
    send_no: str
    recipient_no: str
    title: str
    body: str
    request_date: datetime  # when it is (or was) to be sent: the reservation time, or the request time
    create_date: datetime
    reserved: bool
    msg_status: str  # 0 failed, 1 requested, 2 processing, 3 success, 4 reservation cancelled
    result_code: str  # handset result ("1000" delivered) or the per-recipient API code ("-2019")
    result_message: str
    sender_grouping_key: str
    recipient_grouping_key: str
    user_id: str
    attach_file_ids: list[int] = field(default_factory=list)
    country_code: str = "82"
    message_status: str = ""  # reservations: RESERVED, COMPLETED, FAILED, CANCEL
    result_date: datetime | None = None
    deliver_at: datetime | None = None  # while msg_status is "2"
    update_user: str = ""
    update_date: datetime | None = None


@dataclass(frozen=True)
class ReceivedRequest:
    method: str
    endpoint: str  # e.g. "POST /sender/sms", "GET /sender/sms/{requestId}"
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any  # the parsed body, or None


@dataclass
class _Failure:
    kind: int | str
    endpoint: str | None
    delay: float | None
    processed: bool = False  # the request is carried out before the failure is answered


def _fmt(at: datetime | None, millis: bool = True) -> str:
    if at is None:
        return ""
    return at.strftime("%Y-%m-%d %H:%M:%S") + (".0" if millis else "")


class NhnServer:
    """NHN Cloud SMS v3.0 on 127.0.0.1 in a background thread.

    ``sender_numbers`` are registered and usable; ``blocked_numbers`` registered but blocked
    (``blockYn=Y``, sending answers -2313); ``unused_numbers`` registered but not in use (``useYn=N``,
    -2312). ``strict_bytes``: refuse texts past the standard byte limits with -2015 (the real service
    stores up to 255/120/4,000 characters and lets handsets cut the rest; UNCONFIRMED which one it
    refuses, so both are possible). ``delivery_delay``: seconds a message stays "processing" (msgStatus
    2) before it is delivered (3, resultCode "1000"); numbers in ``undeliverable`` fail (0, "3001").
    ``seq_field``: the list rows name the recipient sequence ``recipientSeq`` or, like older answers,
    ``mtPr``. ``page_cap``: at most this many rows per page whatever pageSize asks (to test paging).
    ``timeout_delay``: how long a "timeout" failure keeps the answer back. ``list_delay``: a send
    appears in the lists (``GET /sender/sms|mms``, ``/reservations``) only this long after it was
    accepted, by the server's clock (:meth:`advance` moves it): NHN does not promise that a send is
    listed at once. ``on_request``: called with each request as it arrives, before it is answered
    (tests use it to make something happen while a request is in flight).
    """

    def __init__(
        self,
        app_key: str = "test-app",
        secret_key: str = "test-secret",
        sender_numbers: Iterable[str] = ("0215441234",),
        *,
        blocked_numbers: Iterable[str] = (),
        unused_numbers: Iterable[str] = (),
        host: str = "127.0.0.1",
        port: int = 0,
        tz: str = "Asia/Seoul",
        strict_bytes: bool = True,
        delivery_delay: float = 0.0,
        undeliverable: Iterable[str] = (),
        monthly_quota: int | None = None,
        seq_field: str = "recipientSeq",
        page_cap: int | None = None,
        timeout_delay: float = 2.0,
        list_delay: float = 0.0,
        on_request: Callable[[ReceivedRequest], None] | None = None,
        verbose: bool = False,
    ) -> None:
        self.app_key = app_key
        self.secret_key = secret_key
        self.host = host
        self.port = port
        self.zone = ZoneInfo(tz)
        self.strict_bytes = strict_bytes
        self.delivery_delay = delivery_delay
        self.undeliverable = set(undeliverable)
        self.monthly_quota = monthly_quota
        self.seq_field = seq_field
        self.page_cap = page_cap
        self.timeout_delay = timeout_delay
        self.list_delay = list_delay
        self.on_request = on_request
        self.verbose = verbose
        self.senders: dict[str, SenderNumber] = {}
        for number in sender_numbers:
            self.add_sender(number)
        for number in blocked_numbers:
            self.add_sender(number, blocked=True)
        for number in unused_numbers:
            self.add_sender(number, use=False)
        self.requests: Counter[str] = Counter()  # endpoint -> how many requests arrived
        self.received: list[ReceivedRequest] = []
        self.messages: list[StoredMessage] = []
        self.files: dict[int, StoredFile] = {}
        self._lock = threading.RLock()
        self._failures: list[_Failure] = []
        self._offset = timedelta()
        self._file_ids = itertools.count(1001)
        self._request_ids = itertools.count(1)
        self._pending: list[StoredMessage] = []  # reserved or processing: may change with time
        self._sent_this_month = 0
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> str:
        if self._httpd is not None:
            return self.base_url
        handler = type("_BoundHandler", (_Handler,), {"nhn": self})
        httpd = ThreadingHTTPServer((self.host, self.port), handler)
        httpd.daemon_threads = True
        httpd.block_on_close = False
        self._httpd = httpd
        self.port = httpd.server_address[1]
        self._stopping.clear()
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="nhn-server", daemon=True
        )
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._stopping.set()  # wakes a held-back "timeout" answer
        httpd.shutdown()
        httpd.server_close()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:  # idle keep-alive connections: let their threads end now
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(timeout=5)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- test controls ---------------------------------------------------------------------------

    def fail_next(
        self,
        kind: int | str,
        *,
        endpoint: str | None = None,
        times: int = 1,
        delay: float | None = None,
        processed: bool | None = None,
    ) -> None:
        """Make the next request(s) fail. ``kind``:

        - an int result code: answered ``isSuccessful: false`` with that code, nothing processed;
        - ``"timeout"``: processed (a send IS recorded), then the answer is held back ``delay`` seconds
          (default ``timeout_delay``), past the client's timeout: the lost answer;
        - ``"disconnect"``: processed, then the connection is closed without an answer (the request
          was read in full first);
        - ``"http500"``: HTTP 500 with an HTML page, nothing processed;
        - ``"invalid_json"``: HTTP 200 whose body is not JSON, nothing processed;
        - ``"unexpected_json"``: HTTP 200, JSON without the NHN header, nothing processed;
        - ``"nested_json"``: HTTP 200 whose body is an array nested ``NESTED_DEPTH`` deep, nothing processed;
        - ``"bad_gzip"``: HTTP 200 said to be gzip (``Content-Encoding: gzip``) whose body is not: the
          client cannot decode the answer at all, nothing processed.

        ``processed`` overrides whether the request is carried out before the failure (a send
        recorded and listed): by default only for "timeout" and "disconnect". An int result code is
        never processed. ``endpoint`` limits it to requests whose endpoint starts with it, e.g.
        ``"POST /sender"`` (both sends), ``"POST /attachfile/binaryUpload"``, ``"GET /sendNos"``.
        """
        if not isinstance(kind, int) and kind not in FAILURE_KINDS:
            raise ValueError(f"unknown failure kind {kind!r}; one of {FAILURE_KINDS} or a result code")
        if processed is None:
            processed = kind in _PROCESSED_BY_DEFAULT
        if isinstance(kind, int):
            processed = False
        with self._lock:
            self._failures.extend(_Failure(kind, endpoint, delay, processed) for _ in range(times))

    def add_sender(self, number: str, *, use: bool = True, blocked: bool = False, reason: str = "") -> None:
        self.senders[number] = SenderNumber(number, "Y" if use else "N", "Y" if blocked else "N", reason)

    def now(self) -> datetime:
        """The server's wall clock in its time zone (naive), moved by :meth:`advance`."""
        return datetime.now(self.zone).replace(tzinfo=None) + self._offset

    def advance(self, delta: timedelta) -> None:
        """Move the server's clock (reservations fall due, processing messages get delivered)."""
        with self._lock:
            self._offset += delta

    def find(self, sender_grouping_key: str) -> list[StoredMessage]:
        with self._lock:
            return [m for m in self.messages if m.sender_grouping_key == sender_grouping_key]

    def sends(self) -> list[ReceivedRequest]:
        """The send requests received (POST /sender/sms and /sender/mms)."""
        with self._lock:
            return [r for r in self.received if r.endpoint.startswith("POST /sender/")]

    def reset_counts(self) -> None:
        with self._lock:
            self.requests.clear()
            self.received.clear()

    # -- request handling (called from handler threads) -----------------------------------------

    def _take_failure(self, endpoint: str) -> _Failure | None:
        with self._lock:
            for i, failure in enumerate(self._failures):
                if failure.endpoint is None or endpoint.startswith(failure.endpoint):
                    return self._failures.pop(i)
        return None

    def _record(self, request: ReceivedRequest) -> None:
        with self._lock:
            self.requests[request.endpoint] += 1
            self.received.append(request)

    def handle(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], raw: bytes
    ) -> tuple[int, dict[str, Any]]:
        """Route and answer one API call: (HTTP status, JSON answer)."""
        match = PREFIX.match(path)
        if match is None:
            raise ApiError(-9998, 404)
        rest = match.group("rest") or "/"
        if match.group("version") != "v3.0":
            raise ApiError(-9995, 404)
        if unquote(match.group("app_key")) != self.app_key:
            raise ApiError(-1000)  # HTTP 200 with isSuccessful false (UNCONFIRMED: could be 401)
        if headers.get("x-secret-key") != self.secret_key:
            raise ApiError(-1000, 401, "Invalid secretKey.")  # UNCONFIRMED code and status
        payload: Any = None
        if method in ("POST", "PUT"):
            if not headers.get("content-type", "").lower().startswith("application/json"):
                raise ApiError(-9996)
            try:
                payload = json.loads(raw.decode("utf-8")) if raw else None
            except (ValueError, UnicodeDecodeError):
                raise ApiError(-9997) from None
            if not isinstance(payload, dict):
                raise ApiError(-9997)
        with self._lock:
            self._advance()
            data = self._route(method, rest, query, payload)
        return 200, {"header": _header(0), "body": data}

    def _route(self, method: str, rest: str, query: dict[str, str], payload: Any) -> dict[str, Any] | None:
        parts = [p for p in rest.split("/") if p]
        if method == "POST" and parts in (["sender", "sms"], ["sender", "mms"]):
            return {"data": self._send(parts[1], payload)}
        if method == "GET" and parts in (["sender", "sms"], ["sender", "mms"]):
            return self._list(parts[1], query)
        if method == "GET" and len(parts) == 3 and parts[:2] in (["sender", "sms"], ["sender", "mms"]):
            return {"data": self._detail(parts[1], unquote(parts[2]), query)}
        if method == "POST" and parts == ["attachfile", "binaryUpload"]:
            return {"data": self._upload(payload)}
        if method == "GET" and parts == ["reservations"]:
            return self._reservations(query)
        if method == "GET" and len(parts) == 3 and parts[0] == "reservations":
            return {"data": self._reservation_detail(unquote(parts[1]), parts[2])}
        if method == "PUT" and parts == ["reservations", "cancel"]:
            return {"data": self._cancel(payload)}
        if method == "GET" and parts == ["sendNos"]:
            return self._send_nos(query)
        raise ApiError(-9998, 404)

    # -- time --------------------------------------------------------------------------------------

    def _advance(self) -> None:
        """Reservations that fell due are sent; processing messages are delivered."""
        if not self._pending:
            return
        now = self.now()
        still: list[StoredMessage] = []
        for m in self._pending:
            if m.message_status == "RESERVED":
                if m.request_date <= now:
                    self._dispatch(m, now)
            elif m.msg_status == "2" and m.deliver_at is not None and m.deliver_at <= now:
                self._deliver(m, now)
            if m.message_status == "RESERVED" or m.msg_status == "2":
                still.append(m)
        self._pending = still

    def _dispatch(self, m: StoredMessage, now: datetime) -> None:
        if m.reserved:
            m.message_status = "COMPLETED"
            m.update_date = now
        if self.delivery_delay > 0:
            m.msg_status, m.deliver_at = "2", now + timedelta(seconds=self.delivery_delay)
        else:
            self._deliver(m, now)

    def _deliver(self, m: StoredMessage, now: datetime) -> None:
        m.deliver_at = None
        m.result_date = now
        if m.recipient_no in self.undeliverable:
            m.msg_status, m.result_code, m.result_message = "0", "3001", HANDSET_RESULTS["3001"]
            if m.reserved:
                m.message_status = "FAILED"
        else:
            m.msg_status, m.result_code, m.result_message = "3", "1000", HANDSET_RESULTS["1000"]

    # -- endpoints ---------------------------------------------------------------------------------

    def _send(self, kind: str, j: dict[str, Any]) -> dict[str, Any]:
        now = self.now()
        mms = kind == "mms"
        body, title = j.get("body"), j.get("title") if mms else ""
        if not isinstance(body, str) or not body.strip():
            raise ApiError(-2014)
        if mms and (not isinstance(title, str) or not title.strip()):
            raise ApiError(-2014)
        recipients = j.get("recipientList")
        if not isinstance(recipients, list) or not recipients:
            raise ApiError(-2001)
        if len(recipients) > MAX_RECIPIENTS:
            raise ApiError(-2016)
        send_no = j.get("sendNo")
        sender = (
            self.senders.get(send_no) if isinstance(send_no, str) and len(send_no) <= SEND_NO_MAX else None
        )
        if sender is None or sender.use_yn != "Y":
            raise ApiError(-2312)
        if sender.block_yn == "Y":
            raise ApiError(-2313)
        reserve_at = self._request_date(j.get("requestDate"), now)
        for text in (title, body):
            try:
                text.encode("cp949")
            except UnicodeEncodeError:
                raise ApiError(-2023) from None
        if mms:
            too_long = len(title) > MMS_TITLE_CHARS or len(body) > MMS_BODY_CHARS
            if self.strict_bytes:
                too_long |= (
                    len(title.encode("cp949")) > MMS_TITLE_BYTES or len(body.encode("cp949")) > MMS_BODY_BYTES
                )
        else:
            too_long = len(body) > SMS_BODY_CHARS or (
                self.strict_bytes and len(body.encode("cp949")) > SMS_BODY_BYTES
            )
        if too_long:
            raise ApiError(-2015)
        grouping_key = j.get("senderGroupingKey") or ""
        user_id = j.get("userId") or ""
        if (
            not isinstance(grouping_key, str)
            or len(grouping_key) > GROUPING_KEY_MAX
            or not isinstance(user_id, str)
        ):
            raise ApiError(-1005)
        files = self._attachments(j.get("attachFileIdList"), mms, now)
        if any(isinstance(r, dict) and str(r.get("countryCode") or "82") != "82" for r in recipients) and mms:
            raise ApiError(-2024)

        results: list[tuple[str, int, str]] = []  # (recipientNo, resultCode, recipientGroupingKey)
        for r in recipients:
            r = r if isinstance(r, dict) else {}
            number = r.get("recipientNo")
            number = number if isinstance(number, str) else ("" if number is None else str(number))
            code = 0
            if not number:
                code = -2018
            elif not (
                number.isascii()
                and number.isdigit()
                and RECIPIENT_DIGITS[0] <= len(number) <= RECIPIENT_DIGITS[1]
            ):
                code = -2019
            results.append((number, code, str(r.get("recipientGroupingKey") or "")))
        accepted = sum(1 for _, code, _ in results if code == 0)
        if self.monthly_quota is not None and self._sent_this_month + accepted > self.monthly_quota:
            raise ApiError(-2052)
        self._sent_this_month += accepted

        request_id = now.strftime("%Y%m%d%H%M%S") + self._random_id()
        message_type = "SMS" if not mms else ("MMS" if files else "LMS")
        send_results = []
        for seq, (number, code, recipient_key) in enumerate(results, start=1):
            m = StoredMessage(
                request_id=request_id,
                recipient_seq=seq,
                send_type="1" if mms else "0",
                message_type=message_type,
                send_no=send_no,
                recipient_no=number,
                title=title or "",
                body=body,
                request_date=reserve_at or now,
                create_date=now,
                reserved=reserve_at is not None,
                msg_status="1",
                result_code="",
                result_message="",
                sender_grouping_key=grouping_key,
                recipient_grouping_key=recipient_key,
                user_id=user_id,
                attach_file_ids=[f.file_id for f in files],
                country_code="82",
            )
            if code != 0:
                m.msg_status, m.result_code, m.result_message = "0", str(code), RESULT_MESSAGES[code]
                if m.reserved:
                    m.message_status = "FAILED"
            elif m.reserved:
                m.message_status = "RESERVED"
                self._pending.append(m)
            else:
                self._dispatch(m, now)
                if m.msg_status == "2":
                    self._pending.append(m)
            self.messages.append(m)
            send_results.append(
                {
                    "recipientNo": number,
                    "resultCode": code,
                    "resultMessage": RESULT_MESSAGES[code],
                    "recipientSeq": seq,
                    "recipientGroupingKey": recipient_key,
                }
            )
        return {
            "requestId": request_id,
            "statusCode": "2" if accepted else "3",
            "senderGroupingKey": grouping_key,
            "sendResultList": send_results,
        }

    def _random_id(self) -> str:
        alphabet = string.ascii_letters + string.digits
        return "".join(secrets.choice(alphabet) for _ in range(7)) + f"{next(self._request_ids) % 10_000:04d}"

    def _request_date(self, value: Any, now: datetime) -> datetime | None:
        if value is None or value == "":
            return None
        if not isinstance(value, str) or not REQUEST_DATE.fullmatch(value):
            raise ApiError(-2000)
        try:
            at = datetime.strptime(value, "%Y-%m-%d %H:%M")
        except ValueError:
            raise ApiError(-2000) from None
        if at < now.replace(second=0, microsecond=0):
            raise ApiError(-2022)
        if at > now + MAX_RESERVE_AHEAD:
            raise ApiError(-1005)  # UNCONFIRMED: the docs give no code for "more than 60 days ahead"
        return at

    def _attachments(self, ids: Any, mms: bool, now: datetime) -> list[StoredFile]:
        if ids is None or ids == []:
            return []
        if not mms or not isinstance(ids, list):
            raise ApiError(-1005)
        if len(ids) > FILES_MAX:
            raise ApiError(-1005)  # UNCONFIRMED code for a fourth image
        files = []
        for raw in ids:
            file_id = raw if isinstance(raw, int) and not isinstance(raw, bool) else None
            if file_id is None and isinstance(raw, str) and raw.isdigit():
                file_id = int(raw)
            stored = self.files.get(file_id) if file_id is not None else None
            if stored is None or stored.created + FILE_KEPT < now:
                raise ApiError(-2004)
            files.append(stored)
        if sum(len(f.data) for f in files) > FILES_MAX_TOTAL:
            raise ApiError(-2005)
        return files

    def _upload(self, j: dict[str, Any]) -> dict[str, Any]:
        name = j.get("fileName")
        if not isinstance(name, str) or not name or len(name) > FILE_NAME_MAX or "/" in name:
            raise ApiError(-2002)
        if not name.endswith((".jpg", ".jpeg")):
            raise ApiError(-2003)  # lower-case .jpg/.jpeg only
        user = j.get("createUser")
        if not isinstance(user, str) or not user or len(user) > 100:
            raise ApiError(-1005)
        body = j.get("fileBody")
        try:
            if isinstance(body, str):
                data = base64.b64decode(body, validate=True)
            elif isinstance(body, list) and all(isinstance(b, int) and -128 <= b <= 255 for b in body):
                data = bytes(b & 0xFF for b in body)  # "or the byte array" (Java bytes are signed)
            else:
                raise ApiError(-9997)
        except (binascii.Error, ValueError):
            raise ApiError(-9997) from None
        if not 0 < len(data) <= FILE_MAX_BYTES:
            raise ApiError(-2005)
        now = self.now()
        file_id = next(self._file_ids)
        self.files[file_id] = StoredFile(file_id, name, data, user, now)
        return {"fileId": file_id, "fileName": name, "filePath": f"{now:%Y%m%d}/{file_id}/"}

    def _window(
        self, query: dict[str, str], *, require: bool = True
    ) -> tuple[str, datetime, datetime] | None:
        """The search window: ("request" | "create", start, end); -2011 when none is given."""
        for field_name in ("Request", "Create"):
            start, end = query.get(f"start{field_name}Date"), query.get(f"end{field_name}Date")
            if start or end:
                if not (start and end and SEARCH_DATE.fullmatch(start) and SEARCH_DATE.fullmatch(end)):
                    raise ApiError(-2000)
                try:
                    s = datetime.strptime(start, "%Y-%m-%d %H:%M:%S")
                    e = datetime.strptime(end, "%Y-%m-%d %H:%M:%S")
                except ValueError:
                    raise ApiError(-2000) from None
                if e < s:
                    raise ApiError(-2000)
                if e - s > SEARCH_RANGE_MAX:
                    raise ApiError(-4000)
                return field_name.lower(), s, e
        if require and not query.get("requestId"):
            raise ApiError(-2011)
        return None

    @staticmethod
    def _paging(query: dict[str, str]) -> tuple[int, int]:
        try:
            page = int(query.get("pageNum") or 1)
            size = int(query.get("pageSize") or PAGE_SIZE_DEFAULT)
        except ValueError:
            raise ApiError(-1005) from None
        if page < 1 or not 1 <= size <= PAGE_SIZE_MAX:
            raise ApiError(-1005)
        return page, size

    def _page(self, rows: list[Any], query: dict[str, str]) -> dict[str, Any]:
        page, size = self._paging(query)
        per_page = min(size, self.page_cap) if self.page_cap else size
        chunk = rows[(page - 1) * per_page : page * per_page]
        return {"pageNum": page, "pageSize": size, "totalCount": len(rows), "data": chunk}

    def _matches(
        self, m: StoredMessage, query: dict[str, str], window: tuple[str, datetime, datetime] | None
    ) -> bool:
        if query.get("requestId") and m.request_id != query["requestId"]:
            return False
        if window is not None:
            kind, start, end = window
            at = m.request_date if kind == "request" else m.create_date
            if not start <= at <= end:
                return False
        for param, value in (
            ("sendNo", m.send_no),
            ("recipientNo", m.recipient_no),
            ("msgStatus", m.msg_status),
            ("resultCode", m.result_code),
            ("senderGroupingKey", m.sender_grouping_key),
            ("recipientGroupingKey", m.recipient_grouping_key),
        ):
            if query.get(param) and query[param] != value:
                return False
        return True

    def _row(self, m: StoredMessage) -> dict[str, Any]:
        row: dict[str, Any] = {
            "requestId": m.request_id,
            "requestDate": _fmt(m.request_date),
            "resultDate": _fmt(m.result_date),
            "templateId": "",
            "templateName": "",
            "categoryId": 0,
            "categoryName": "",
            "body": m.body,
            "sendNo": m.send_no,
            "countryCode": m.country_code,
            "recipientNo": m.recipient_no,
            "msgStatus": m.msg_status,
            "msgStatusName": MSG_STATUS_NAMES.get(m.msg_status, ""),
            "resultCode": m.result_code,
            "resultCodeName": HANDSET_RESULTS.get(m.result_code, m.result_message),
            "telecomCode": 10001,
            "telecomCodeName": "SKT",
            self.seq_field: m.recipient_seq,
            "sendType": m.send_type,
            "messageType": m.message_type,
            "messageCount": 1,
            "userId": m.user_id,
            "adYn": "N",
            "resultMessage": m.result_message,
            "senderGroupingKey": m.sender_grouping_key,
            "recipientGroupingKey": m.recipient_grouping_key,
        }
        if m.send_type == "1":
            row["title"] = m.title
            row["attachFileList"] = [
                {
                    "fileId": f.file_id,
                    "filePath": f"{f.created:%Y%m%d}/{f.file_id}/",
                    "fileName": f.file_name,
                    "fileSize": len(f.data),
                    "fileSequence": i,
                    "createDate": _fmt(f.created, False),
                    "updateDate": _fmt(f.created, False),
                }
                for i, f in enumerate(
                    (self.files[fid] for fid in m.attach_file_ids if fid in self.files), start=1
                )
            ]
        return row

    def _listed(self, m: StoredMessage) -> bool:
        """Whether the lists show ``m`` yet (``list_delay`` after it was accepted)."""
        return self.list_delay <= 0 or m.create_date + timedelta(seconds=self.list_delay) <= self.now()

    def _list(self, kind: str, query: dict[str, str]) -> dict[str, Any]:
        window = self._window(query)
        send_type = "0" if kind == "sms" else "1"
        rows = [
            self._row(m)
            for m in self.messages
            if m.send_type == send_type and self._listed(m) and self._matches(m, query, window)
        ]
        return self._page(rows, query)

    def _detail(self, kind: str, request_id: str, query: dict[str, str]) -> dict[str, Any]:
        seq = query.get("recipientSeq") or query.get("mtPr")
        if not seq or not seq.isdigit():
            raise ApiError(-2012)
        send_type = "0" if kind == "sms" else "1"
        for m in self.messages:
            if m.request_id == request_id and m.recipient_seq == int(seq) and m.send_type == send_type:
                return self._row(m)
        raise ApiError(-2012)

    def _reservation_row(self, m: StoredMessage) -> dict[str, Any]:
        return {
            "requestId": m.request_id,
            "recipientSeq": m.recipient_seq,
            "requestDate": _fmt(m.request_date),
            "sendNo": m.send_no,
            "recipientNo": m.recipient_no,
            "countryCode": m.country_code,
            "sendType": m.send_type,
            "messageType": m.message_type,
            "adYn": "N",
            "templateId": "",
            "templateParameter": "",
            "templateName": "",
            "title": m.title,
            "body": m.body,
            "messageStatus": m.message_status,
            "createUser": m.user_id,
            "createDate": _fmt(m.create_date),
            "updateDate": _fmt(m.update_date or m.create_date),
        }

    def _reservations(self, query: dict[str, str]) -> dict[str, Any]:
        window = self._window(query)
        send_type = query.get("sendType")
        status = query.get("messageStatus")
        rows = [
            self._reservation_row(m)
            for m in self.messages
            if m.reserved
            and self._listed(m)
            and (not send_type or m.send_type == send_type)
            and (not status or m.message_status == status)
            and self._matches(
                m, {k: v for k, v in query.items() if k in ("requestId", "sendNo", "recipientNo")}, window
            )
        ]
        return self._page(rows, query)

    def _reservation_detail(self, request_id: str, seq: str) -> dict[str, Any]:
        for m in self.messages:
            if m.reserved and m.request_id == request_id and str(m.recipient_seq) == seq:
                row = self._reservation_row(m)
                row["attachFileList"] = [
                    {"fileId": fid, "filePath": f"{fid}/", "fileName": self.files[fid].file_name}
                    for fid in m.attach_file_ids
                    if fid in self.files
                ]
                return row
        raise ApiError(-2012)

    def _cancel(self, j: dict[str, Any]) -> dict[str, Any]:
        wanted = j.get("reservationList")
        user = j.get("updateUser")
        if not isinstance(wanted, list) or not wanted or not isinstance(user, str) or not user:
            raise ApiError(-1005)
        now = self.now()
        cancelled = 0
        for item in wanted:
            if not isinstance(item, dict):
                raise ApiError(-1005)
            request_id, seq = item.get("requestId"), item.get("recipientSeq")
            for m in self.messages:
                if m.reserved and m.request_id == request_id and str(m.recipient_seq) == str(seq):
                    if m.message_status == "RESERVED":  # only RESERVED can be cancelled
                        m.message_status, m.msg_status = "CANCEL", "4"
                        m.update_user, m.update_date = user, now
                        cancelled += 1
                    break
        self._pending = [m for m in self._pending if m.message_status != "CANCEL"]
        return {"requestedCount": len(wanted), "canceledCount": cancelled}

    def _send_nos(self, query: dict[str, str]) -> dict[str, Any]:
        rows = [
            {
                "serviceId": 1,
                "sendNo": s.send_no,
                "useYn": s.use_yn,
                "blockYn": s.block_yn,
                "blockReason": s.block_reason,
                "createDate": "",
                "createUser": "",
                "updateDate": "",
                "updateUser": "",
            }
            for s in self.senders.values()
            if (not query.get("sendNo") or s.send_no == query["sendNo"])
            and (not query.get("useYn") or s.use_yn == query["useYn"])
            and (not query.get("blockYn") or s.block_yn == query["blockYn"])
        ]
        return self._page(rows, query)


def _header(code: int, message: str | None = None) -> dict[str, Any]:
    return {
        "isSuccessful": code == 0,
        "resultCode": code,
        "resultMessage": message or RESULT_MESSAGES.get(code, ""),
    }


def _endpoint(method: str, path: str) -> str:
    """The endpoint name a request is counted under, e.g. "GET /sender/sms/{requestId}"."""
    match = PREFIX.match(path)
    if match is None:
        return f"{method} {path}"
    parts = [p for p in (match.group("rest") or "/").split("/") if p]
    if len(parts) == 3 and parts[0] == "sender":
        parts[2] = "{requestId}"
    elif len(parts) == 3 and parts[0] == "reservations":
        parts[1:] = ["{requestId}", "{recipientSeq}"]
    return f"{method} /" + "/".join(parts)


class _Handler(BaseHTTPRequestHandler):
    nhn: NhnServer  # set on the bound subclass
    protocol_version = "HTTP/1.1"
    server_version = "NhnCompatible/3.0"
    timeout = 30  # idle keep-alive connections end after this

    def setup(self) -> None:
        super().setup()
        with self.nhn._lock:
            self.nhn._connections.add(self.connection)

    def finish(self) -> None:
        with self.nhn._lock:
            self.nhn._connections.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet; --verbose prints one line per call instead

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        nhn = self.nhn
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        headers = {k.lower(): v for k, v in self.headers.items()}
        endpoint = _endpoint(method, parts.path)
        try:
            parsed = json.loads(raw.decode("utf-8")) if raw else None
        except (ValueError, UnicodeDecodeError):
            parsed = None
        received = ReceivedRequest(method, endpoint, parts.path, query, headers, parsed)
        nhn._record(received)
        if nhn.on_request is not None:
            nhn.on_request(received)

        failure = nhn._take_failure(endpoint)
        if failure is not None and not failure.processed:
            self._answer_failure(failure.kind, endpoint)
            return
        try:
            status, answer = nhn.handle(method, parts.path, query, headers, raw)
        except ApiError as exc:
            status, answer = exc.http_status, {"header": _header(exc.code, exc.message)}
        except Exception as exc:  # noqa: BLE001 - a test server answers every request
            status, answer = 500, {"header": _header(-9999, f"System error. ({type(exc).__name__})")}
        if nhn.verbose:
            print(f"{endpoint} -> {answer['header']['resultCode']}", file=sys.stderr, flush=True)
        if failure is not None and failure.kind == "disconnect":
            self.close_connection = True
            return
        if failure is not None and failure.kind == "timeout":
            nhn._stopping.wait(failure.delay if failure.delay is not None else nhn.timeout_delay)
            self.close_connection = True
        elif failure is not None:  # processed, then answered with the failure
            self._answer_failure(failure.kind, endpoint)
            return
        try:
            payload = json.dumps(answer, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate (a test's hostile answer): sent as a JSON \ud800 escape
            payload = json.dumps(answer).encode("ascii")
        self._write(status, payload, "application/json;charset=UTF-8")

    def _answer_failure(self, kind: int | str, endpoint: str) -> None:
        if self.nhn.verbose:
            print(f"{endpoint} -> injected {kind}", file=sys.stderr, flush=True)
        if isinstance(kind, int):
            body = json.dumps({"header": _header(kind)}, ensure_ascii=False).encode("utf-8")
            self._write(200, body, "application/json;charset=UTF-8")
        elif kind == "http500":
            page = (
                b"<html><head><title>500 Internal Server Error</title></head>"
                b"<body>Internal Server Error</body></html>"
            )
            self._write(500, page, "text/html;charset=UTF-8")
        elif kind == "invalid_json":
            self._write(200, b'{"header": {"isSuccessful": tru', "application/json;charset=UTF-8")
        elif kind == "nested_json":
            self._write(200, b"[" * NESTED_DEPTH + b"]" * NESTED_DEPTH, "application/json;charset=UTF-8")
        elif kind == "timeout":  # held back long enough, then the answer is that the server gave up
            self.nhn._stopping.wait(self.nhn.timeout_delay)
            self.close_connection = True
            self._write(504, b"", "text/plain")
        elif kind == "disconnect":
            self.close_connection = True
        elif kind == "bad_gzip":
            body = json.dumps({"header": _header(0)}).encode("utf-8")  # plain JSON, though said to be gzip
            self._write(200, body, "application/json;charset=UTF-8", {"Content-Encoding": "gzip"})
        else:  # unexpected_json
            self._write(200, b'{"result": "ok"}', "application/json;charset=UTF-8")

    def _write(
        self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
        except OSError:  # the client gave up (timeout) or went away
            self.close_connection = True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m contiple_tui.sim.nhn_server",
        description="A local NHN Cloud SMS v3.0-compatible server (sends nothing anywhere).",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8899, help="0 picks a free port (default 8899)")
    parser.add_argument("--app-key", default="test-app")
    parser.add_argument("--secret-key", default="test-secret")
    parser.add_argument(
        "--sender", action="append", metavar="NUMBER", help="a registered sender number (repeatable)"
    )
    parser.add_argument(
        "--blocked", action="append", default=[], metavar="NUMBER", help="a registered but blocked number"
    )
    parser.add_argument("--tz", default="Asia/Seoul", help="time zone of requestDate (default Asia/Seoul)")
    parser.add_argument("--delivery-delay", type=float, default=0.0, metavar="SECONDS")
    parser.add_argument(
        "--lenient-bytes", action="store_true", help="accept texts past the standard byte limits"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="print one line per API call")
    args = parser.parse_args(argv)
    server = NhnServer(
        args.app_key,
        args.secret_key,
        args.sender or ["0215441234"],
        blocked_numbers=args.blocked,
        host=args.host,
        port=args.port,
        tz=args.tz,
        delivery_delay=args.delivery_delay,
        strict_bytes=not args.lenient_bytes,
        verbose=args.verbose,
    )
    try:
        url = server.start()
    except OSError as exc:
        print(f"cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    print(url, flush=True)
    print(
        f"NHN-compatible SMS server; app key {args.app_key}; sender numbers "
        f"{', '.join(args.sender or ['0215441234'])}. Point the console at it with:\n"
        f"  CONTIPLE_TUI_SMS_GATEWAY=nhn CONTIPLE_TUI_NHN_BASE_URL={url} "
        f"CONTIPLE_TUI_NHN_APP_KEY={args.app_key} CONTIPLE_TUI_NHN_SECRET_KEY=<the --secret-key>\n"
        "Ctrl+C stops.",
        file=sys.stderr,
        flush=True,
    )
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    # Ctrl+C stops it even when it was started with SIGINT ignored (a background job of a script).
    signal.signal(signal.SIGINT, lambda *_: done.set())
    try:
        while not done.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
