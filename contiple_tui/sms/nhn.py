"""The NHN Cloud Notification SMS v3.0 gateway (``../shared/spec/NHN-SMS-API.md``), over a sync httpx client.

The core calls it from worker threads and from the CLI. It keeps no state of its own that matters and
never retries: when an answer is lost (``GatewayError.maybe_sent``) the core looks the send up with
:meth:`NhnGateway.find_sent` before deciding anything.

The secret key travels only in the ``X-Secret-Key`` header: it is never part of a message, a log line or
a repr; the app key (part of every URL) is masked in the repr and scrubbed from error reasons too.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any, NoReturn
from urllib.parse import quote
from zoneinfo import ZoneInfo

import httpx

from contiple_tui.domain.sms_rules import SendType
from contiple_tui.i18n import CATALOGS, t
from contiple_tui.safe_text import clean
from contiple_tui.sms.gateway import (
    Gateway,
    GatewayError,
    RecipientResult,
    RecipientState,
    SendRequest,
    SendResult,
)

API_PREFIX = "/sms/v3.0/appKeys/{app_key}"
CONTENT_TYPE = "application/json;charset=UTF-8"
REQUEST_DATE_FORMAT = "%Y-%m-%d %H:%M"  # requestDate of a reservation
SEARCH_DATE_FORMAT = "%Y-%m-%d %H:%M:%S"  # startRequestDate / endRequestDate of the lists
PAGE_SIZE = 1000  # the documented maximum
MAX_PAGES = 1000  # a guard against a server that never stops paging
FIND_WINDOW = timedelta(minutes=10)  # around the time of a send, for the look-up by grouping key
MAX_GROUPING_KEY = 100
MAX_FILE_NAME = 45  # binaryUpload fileName limit; the extension must be lower-case .jpg/.jpeg
DEFAULT_USER = "contiple-tui"

# Per-message status in the lists (msgStatus).
MSG_STATUS: dict[str, RecipientState] = {
    "0": RecipientState.FAILED,
    "1": RecipientState.REQUESTED,
    "2": RecipientState.REQUESTED,
    "3": RecipientState.SENT,
    "4": RecipientState.CANCELLED,
    "5": RecipientState.FAILED,  # duplicate
    "6": RecipientState.FAILED,  # advertising restriction
    "7": RecipientState.REQUESTED,  # waiting to resend (advertising restriction)
}
# Reservation status (messageStatus of GET /reservations).
RESERVATION_STATUS: dict[str, RecipientState] = {
    "RESERVED": RecipientState.RESERVED,
    "SENDING": RecipientState.REQUESTED,
    "COMPLETED": RecipientState.SENT,
    "FAILED": RecipientState.FAILED,
    "CANCEL": RecipientState.CANCELLED,
    "DUPLICATED": RecipientState.FAILED,
    "FAILED_AD": RecipientState.FAILED,
    "RESEND_AD": RecipientState.REQUESTED,
}
DELIVERED = "1000"  # handset result code in the lists: delivered

# The httpx errors that prove a request never left this machine (httpx 0.29, httpcore 1.0): no connection
# was made (ConnectError, ConnectTimeout; ProxyError: the proxy's CONNECT tunnel or SOCKS handshake
# failed), none was free in the pool (PoolTimeout), the URL was refused before connecting (InvalidURL,
# UnsupportedProtocol), or the request line and headers were refused by h11 as they were built
# (LocalProtocolError; httpcore raises it only there for HTTP/1.1). Every other error of a send (read or
# write errors and timeouts, the server closing the connection, an answer that cannot be decoded) comes
# after bytes were written: the send may have been taken (``maybe_sent``).
log = logging.getLogger(__name__)
NEVER_LEFT = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.ProxyError,
    httpx.InvalidURL,
    httpx.UnsupportedProtocol,
    httpx.LocalProtocolError,
)


def explain_code(code: int | str | None, gateway_message: str = "", lang: str | None = None) -> str:
    """The user's-language explanation of an NHN API result code, else the gateway's own message."""
    key = f"sms.code.{code}"
    if key in CATALOGS["en"]:
        return t(key, lang)
    if gateway_message:
        return t("sms.code.unknown", lang, message=gateway_message)
    return t("sms.code.no_message", lang)


class GatewayRefused(GatewayError):
    """NHN answered ``isSuccessful: false``. The explanation follows the language the message is read in.

    Key ``sms.err.gateway_refused`` for a send (and its image uploads), ``sms.err.gateway_refused_request``
    for the other calls (lists, cancel, sender numbers).
    """

    def __init__(self, code: int | None, gateway_message: str = "", *, sending: bool = True) -> None:
        super().__init__(
            "sms.err.gateway_refused" if sending else "sms.err.gateway_refused_request",
            code=code,
            maybe_sent=False,
            reason=explain_code(code, gateway_message),
        )
        self.gateway_message = gateway_message

    def message(self, lang: str | None = None) -> str:
        code = self.code if self.code is not None else ""
        return t(self.key, lang, code=code, reason=explain_code(self.code, self.gateway_message, lang))


def _send_path(send_type: SendType) -> str:
    return "/sender/sms" if send_type is SendType.SMS else "/sender/mms"


def _reservation_send_type(send_type: SendType) -> str:
    return "0" if send_type is SendType.SMS else "1"  # 0: SMS, 1: LMS/MMS


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def _text(value: Any) -> str:
    """A string from NHN's answer as it may be stored and shown: no controls, no lone surrogates (a JSON
    "\\ud800" escape would make the store's UTF-8 write fail after the send went out), bounded."""
    return clean(value, 1000)


def _row_seq(row: dict[str, Any]) -> int | None:
    """``recipientSeq``, or ``mtPr`` as older answers name it."""
    seq = _as_int(row.get("recipientSeq"))
    return seq if seq is not None else _as_int(row.get("mtPr"))


def upload_name(name: str, index: int) -> str:
    """A file name NHN accepts: at most 45 characters, lower-case .jpg/.jpeg extension."""
    base = os.path.basename(name.replace("\\", "/"))
    stem, ext = os.path.splitext(base)
    ext = ext.lower() if ext.lower() in (".jpg", ".jpeg") else ".jpg"
    stem = stem.strip()[: MAX_FILE_NAME - len(ext)] or f"image{index}"
    return stem + ext


def recipient_key(grouping_key: str, index: int) -> str:
    """``recipientGroupingKey`` of the ``index``-th recipient (1-based), at most 100 characters."""
    key = f"{grouping_key}:{index}"
    if len(key) <= MAX_GROUPING_KEY:
        return key
    return f"{hashlib.sha1(grouping_key.encode()).hexdigest()[:20]}:{index}"


class NhnGateway(Gateway):
    """NHN Cloud SMS v3.0. ``request_tz`` is the time zone of ``requestDate`` and the list filters
    (the docs do not state it; Korea time is the working assumption)."""

    name = "nhn"

    def __init__(
        self,
        base_url: str,
        app_key: str,
        secret_key: str,
        *,
        timeout: float = 10.0,
        request_tz: str = "Asia/Seoul",
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._app_key = app_key
        self._secret_key = secret_key
        self._timeout = timeout
        self._zone = ZoneInfo(request_tz)
        self._prefix = API_PREFIX.format(app_key=quote(app_key, safe=""))
        self._client = httpx.Client(
            base_url=self._base_url,
            timeout=httpx.Timeout(timeout),
            transport=transport,
            headers={"X-Secret-Key": secret_key, "Content-Type": CONTENT_TYPE, "Accept": "application/json"},
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        masked = (self._app_key[:4] + "…") if len(self._app_key) > 4 else "…"
        return f"NhnGateway(base_url={self._base_url!r}, app_key={masked!r}, timeout={self._timeout})"

    # -- the Gateway interface -------------------------------------------------------------------

    def send(self, request: SendRequest) -> SendResult:
        file_ids = [
            self._upload(image.file_name, image.data, request.user_login, i)
            for i, image in enumerate(request.images, start=1)
        ]
        payload: dict[str, Any] = {
            "body": request.body,
            "sendNo": request.sender_no,
            "senderGroupingKey": request.grouping_key,
            "userId": request.user_login or DEFAULT_USER,
            "recipientList": [
                {"recipientNo": number, "recipientGroupingKey": recipient_key(request.grouping_key, i)}
                for i, number in enumerate(request.recipients, start=1)
            ],
        }
        if request.send_type is SendType.MMS:
            payload["title"] = request.title
            if file_ids:
                # NHN's file ids are integers; keep any other id as the server gave it.
                payload["attachFileIdList"] = [int(f) if _as_int(f) is not None else f for f in file_ids]
        if request.reserve_at is not None:
            payload["requestDate"] = self._local(request.reserve_at).strftime(REQUEST_DATE_FORMAT)
        body = self._call("POST", _send_path(request.send_type), json_body=payload, sending=True)
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict) or not data.get("requestId"):
            raise GatewayError("sms.err.gateway_invalid", maybe_sent=True)
        rows = data.get("sendResultList")
        if not isinstance(rows, list):
            raise GatewayError("sms.err.gateway_invalid", maybe_sent=True)
        ok_state = RecipientState.RESERVED if request.reserve_at is not None else RecipientState.REQUESTED
        by_number: dict[str, RecipientResult] = {}
        for row in rows:
            if not isinstance(row, dict):
                raise GatewayError("sms.err.gateway_invalid", maybe_sent=True)
            number = _text(row.get("recipientNo"))
            code = _as_int(row.get("resultCode"))
            state = ok_state if code == 0 else RecipientState.FAILED
            by_number.setdefault(
                number,
                RecipientResult(
                    number,
                    _row_seq(row),
                    state,
                    _text(row.get("resultCode")) or None,
                    _text(row.get("resultMessage")),
                ),
            )
        results = tuple(
            by_number.get(number) or RecipientResult(number, None, RecipientState.PENDING)
            for number in request.recipients
        )
        return SendResult(_text(data["requestId"]), results, tuple(str(f) for f in file_ids))

    def find_sent(self, request: SendRequest) -> SendResult | None:
        now = datetime.now(self._zone)
        asked = self._local(request.requested_at) if request.requested_at else now
        start, end = asked - FIND_WINDOW, asked + FIND_WINDOW
        if request.reserve_at is not None:
            # A reservation may be listed under its send time (requestDate) rather than when it was made.
            reserved = self._local(request.reserve_at)
            start, end = min(start, reserved - FIND_WINDOW), max(end, reserved + FIND_WINDOW)
        params = {
            "startRequestDate": start.strftime(SEARCH_DATE_FORMAT),
            "endRequestDate": end.strftime(SEARCH_DATE_FORMAT),
            "senderGroupingKey": request.grouping_key,
        }
        request_id: str | None = None
        found: dict[str, RecipientResult] = {}
        image_ids: list[str] = []
        for row in self._pages(_send_path(request.send_type), params):
            key = row.get("senderGroupingKey")
            if key is not None and key != request.grouping_key:
                continue  # the server should have filtered: trust only exact matches
            rid = _text(row.get("requestId"))
            if not rid:
                continue
            if request_id is None:
                request_id = rid
                files = row.get("attachFileList")  # MMS rows name their images
                if isinstance(files, list):
                    image_ids = [
                        str(f["fileId"]) for f in files if isinstance(f, dict) and f.get("fileId") is not None
                    ]
            if rid != request_id:
                continue
            result = self._row_result(row)
            found.setdefault(result.recipient_no, result)
        if request_id is None:
            return None
        if request.reserve_at is not None:
            for result in self._reservation_rows(request.send_type, request_id):
                current = found.get(result.recipient_no)
                if current is None or result.state in (RecipientState.RESERVED, RecipientState.CANCELLED):
                    found[result.recipient_no] = result
        ordered = [found.pop(number) for number in request.recipients if number in found]
        ordered += sorted(found.values(), key=lambda r: (r.recipient_seq is None, r.recipient_seq or 0))
        return SendResult(request_id, tuple(ordered), tuple(image_ids))

    def statuses(self, send_type: SendType, request_id: str, reserved: bool) -> list[RecipientResult]:
        by_seq: dict[Any, RecipientResult] = {}
        for row in self._pages(_send_path(send_type), {"requestId": request_id}):
            if _text(row.get("requestId")) not in ("", request_id):
                continue
            result = self._row_result(row)
            by_seq.setdefault(
                result.recipient_seq if result.recipient_seq is not None else result.recipient_no, result
            )
        if reserved:
            for result in self._reservation_rows(send_type, request_id):
                key = result.recipient_seq if result.recipient_seq is not None else result.recipient_no
                current = by_seq.get(key)
                # Not yet dispatched (or cancelled): the reservation says so. Once dispatched, the send
                # list knows better (sent or failed, with the handset's result code).
                if current is None or result.state in (RecipientState.RESERVED, RecipientState.CANCELLED):
                    by_seq[key] = result
        return sorted(
            by_seq.values(), key=lambda r: (r.recipient_seq is None, r.recipient_seq or 0, r.recipient_no)
        )

    def cancel(self, request_id: str, recipient_seqs: list[int], user_login: str) -> int:
        if not recipient_seqs:
            return 0
        payload = {
            "reservationList": [{"requestId": request_id, "recipientSeq": seq} for seq in recipient_seqs],
            "updateUser": user_login or DEFAULT_USER,
        }
        body = self._call("PUT", "/reservations/cancel", json_body=payload)
        data = body.get("data") if isinstance(body, dict) else None
        count = _as_int(data.get("canceledCount")) if isinstance(data, dict) else None
        if count is None:
            raise GatewayError("sms.err.gateway_invalid")
        return count

    def sender_numbers(self) -> list[str]:
        numbers: list[str] = []
        for row in self._pages("/sendNos", {}):
            number = _text(row.get("sendNo"))
            if number and row.get("useYn") == "Y" and row.get("blockYn") == "N" and number not in numbers:
                numbers.append(number)
        return numbers

    def close(self) -> None:
        self._client.close()

    # -- helpers ---------------------------------------------------------------------------------

    def _local(self, at: datetime) -> datetime:
        """``at`` as a wall-clock time in the request time zone (a naive time is taken as already local)."""
        if at.tzinfo is None:
            return at.replace(tzinfo=self._zone)
        return at.astimezone(self._zone)

    def _row_result(self, row: dict[str, Any]) -> RecipientResult:
        status = _text(row.get("msgStatus"))
        state = MSG_STATUS.get(status, RecipientState.REQUESTED)
        code = _text(row.get("resultCode")) or None
        message = (
            _text(row.get("resultMessage"))
            or _text(row.get("resultCodeName"))
            or _text(row.get("msgStatusName"))
        )
        return RecipientResult(_text(row.get("recipientNo")), _row_seq(row), state, code, message)

    def _reservation_rows(self, send_type: SendType, request_id: str) -> Iterator[RecipientResult]:
        params = {"sendType": _reservation_send_type(send_type), "requestId": request_id}
        for row in self._pages("/reservations", params):
            if _text(row.get("requestId")) not in ("", request_id):
                continue
            status = _text(row.get("messageStatus")).upper()
            state = RESERVATION_STATUS.get(status, RecipientState.RESERVED)
            yield RecipientResult(_text(row.get("recipientNo")), _row_seq(row), state)

    def _upload(self, file_name: str, data: bytes, user_login: str, index: int) -> str:
        payload = {
            "fileName": upload_name(file_name, index),
            "createUser": user_login or DEFAULT_USER,
            "fileBody": base64.b64encode(data).decode("ascii"),
        }
        body = self._call("POST", "/attachfile/binaryUpload", json_body=payload, part_of_send=True)
        data_ = body.get("data") if isinstance(body, dict) else None
        file_id = data_.get("fileId") if isinstance(data_, dict) else None
        if file_id is None or isinstance(file_id, bool) or str(file_id) == "":
            raise GatewayError("sms.err.gateway_invalid")
        return str(file_id)

    def _pages(self, path: str, params: dict[str, str]) -> Iterator[dict[str, Any]]:
        """Every row of a paged list. Stops at ``totalCount`` when the server gives it, else at a
        short page."""
        seen = 0
        for page in range(1, MAX_PAGES + 1):
            body = self._call(
                "GET", path, params={**params, "pageNum": str(page), "pageSize": str(PAGE_SIZE)}
            )
            rows = body.get("data") if isinstance(body, dict) else None
            if rows is None:
                return
            if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
                raise GatewayError("sms.err.gateway_invalid")
            yield from rows
            seen += len(rows)
            total = _as_int(body.get("totalCount"))
            if not rows or (total is not None and seen >= total) or (total is None and len(rows) < PAGE_SIZE):
                return

    def _reason(self, exc: Exception) -> str:
        return self._scrub(str(exc) or type(exc).__name__)

    def _scrub(self, text: str) -> str:
        """``text`` without the keys, also as they read quoted in a URL or escaped in a repr (h11 names
        an illegal header value as ``b'...'``)."""
        forms: set[str] = set()
        for secret in (self._secret_key, self._app_key):
            if secret:
                forms.update(
                    (secret, quote(secret, safe=""), repr(secret)[1:-1], repr(secret.encode("utf-8"))[2:-1])
                )
        for form in sorted(forms, key=len, reverse=True):
            text = text.replace(form, "***")
        return text

    def _call(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: dict[str, str] | None = None,
        sending: bool = False,
        part_of_send: bool | None = None,
    ) -> dict[str, Any]:
        """One API call; the answer's ``body`` when ``header.isSuccessful`` is true, else GatewayError.

        ``sending``: this is the send itself, so an answer lost after the request left the machine
        means it may have been accepted (``maybe_sent``). ``part_of_send`` (default: ``sending``): a
        refusal reads "refused the send" (an image upload is part of the send too).
        """
        part_of_send = sending if part_of_send is None else part_of_send
        content = None if json_body is None else json.dumps(json_body, ensure_ascii=False).encode("utf-8")
        try:
            response = self._client.request(method, self._prefix + path, content=content, params=params)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:  # logged by the call, never the keys (the prefix)
            log.warning("NHN %s %s: no answer (%s)", method, path, type(exc).__name__)
            self._raise_for(exc, sending)
        try:
            answer = response.json()
        except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: JSON nested too deep
            answer = None
        header = answer.get("header") if isinstance(answer, dict) else None
        code = header.get("resultCode") if isinstance(header, dict) else None
        log.info("NHN %s %s: HTTP %d, resultCode %s", method, path, response.status_code, _text(code) or "-")
        return self._answer(response, answer, header, sending, part_of_send)

    def _raise_for(self, exc: Exception, sending: bool) -> NoReturn:
        """The GatewayError of a call that got no answer: ``maybe_sent`` unless nothing left the machine."""
        if isinstance(exc, NEVER_LEFT):  # raised before a byte of the request was written: nothing sent
            timeout = isinstance(exc, httpx.TimeoutException)
            key = "sms.err.gateway_timeout" if timeout else "sms.err.gateway_unreachable"
            raise GatewayError(key, reason=self._reason(exc)) from None
        if isinstance(exc, httpx.TimeoutException):  # a read or write timeout: the request may have arrived
            raise GatewayError("sms.err.gateway_timeout", maybe_sent=sending) from None
        if isinstance(exc, (httpx.NetworkError, httpx.RemoteProtocolError)):
            # Read/write errors, or the server closed the connection: the request may have arrived.
            raise GatewayError(
                "sms.err.gateway_dropped", maybe_sent=sending, reason=self._reason(exc)
            ) from None
        # Anything else happened after the request was written (an answer that cannot be decoded, e.g. a
        # broken gzip body; redirects): the gateway may have taken it.
        raise GatewayError("sms.err.gateway_broken", maybe_sent=sending, reason=self._reason(exc)) from None

    def _answer(self, response: httpx.Response, answer, header, sending: bool, part_of_send: bool) -> dict:
        if not isinstance(header, dict) or not isinstance(header.get("isSuccessful"), bool):
            if response.status_code >= 400:
                raise GatewayError(
                    "sms.err.gateway_http",
                    status=response.status_code,
                    maybe_sent=sending and response.status_code >= 500,
                )
            raise GatewayError("sms.err.gateway_invalid", maybe_sent=sending)
        if not header["isSuccessful"]:
            raise GatewayRefused(
                _as_int(header.get("resultCode")),
                self._scrub(_text(header.get("resultMessage"))),
                sending=part_of_send,
            )
        body = answer.get("body")
        return body if isinstance(body, dict) else {}
