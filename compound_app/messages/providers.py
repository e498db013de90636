"""SMS providers behind one interface: the dev SMS box and Aliyun SMS.

The worker (``delivery``) asks a provider for one of two things:

- ``deliver_dev`` exists only on the dev backend: it writes the SMS to the dev box in the
  very transaction that marks the outbox row sent, so a delivery is never half done.
- ``send(row)`` for a real provider: one HTTP request, answered by a ``Result``: sent
  (with the provider's reference), a temporary failure (retry later), a permanent one, or
  an unknown outcome. A retry later is only for what surely was not sent: no connection
  was made (refused, no such host), or the provider answered that it did not send
  (throttling, a 4xx, a 5xx carrying Aliyun's error code). Once connected, a timeout, a
  reset or a 5xx without Aliyun's answer may come after the SMS went out: such a row is
  failed with "outcome unknown" for staff, like a crash's.

A row found ``sending`` after its lease ran out, once handed to a real provider, has an
unknown outcome: the request may or may not have reached the provider before the worker
died. Aliyun cannot be asked by our out-id, so such a row is marked failed with
"outcome unknown" and shown to staff, who decide whether to send it again; it is never
sent twice on its own (``outcome``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import ssl
import time
import urllib.parse
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from flask import Flask, current_app
from sqlalchemy import select

from ..extensions import db
from .models import DevSms, Outbox


@dataclass(frozen=True)
class Result:
    ok: bool
    ref: str = ""
    error: str = ""
    permanent: bool = False  # no point in trying again (a wrong number, a wrong template)
    # The request may have reached the provider, whose answer we do not have (a timeout or
    # a reset once connected, a 5xx): failed "outcome unknown", never sent again on its own.
    unknown: bool = False


class Provider(Protocol):
    name: str

    def send(self, row: Outbox) -> Result: ...

    def outcome(self, row: Outbox) -> bool | None:
        """Whether a row handed over before a crash was delivered; None if unknown."""
        ...


class DevBackend:
    """Development and tests: "sending" writes the SMS to the dev SMS box."""

    name = "dev"

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay

    def send(self, row: Outbox) -> Result:
        raise NotImplementedError("the dev backend delivers inside the worker's transaction")

    def deliver_dev(self, row: Outbox) -> DevSms:
        """Add the dev box's row to the current session (the caller commits)."""
        from .service import sms_text

        box = DevSms(
            outbox_id=row.id,
            mobile=row.mobile,
            template=row.template,
            text=sms_text(row.template, row.params or {}),
        )
        db.session.add(box)
        return box

    def pause(self) -> None:
        """The time a real provider would take (SMS_DEV_DELAY), outside any transaction."""
        if self.delay:
            time.sleep(self.delay)

    def outcome(self, row: Outbox) -> bool | None:
        found = db.session.scalar(select(DevSms.id).where(DevSms.outbox_id == row.id))
        return found is not None


# Aliyun's answers that no retry will change: the number, the template, the signature,
# the account. Any other code Aliyun answers with (throttling, unknown codes) means it did
# not send: tried again. No answer at all is another matter (``Result.unknown``).
PERMANENT_CODES = frozenset(
    {
        "isv.MOBILE_NUMBER_ILLEGAL",
        "isv.MOBILE_COUNT_OVER_LIMIT",
        "isv.SMS_TEMPLATE_ILLEGAL",
        "isv.SMS_SIGNATURE_ILLEGAL",
        "isv.TEMPLATE_MISSING_PARAMETERS",
        "isv.INVALID_PARAMETERS",
        "isv.PARAM_LENGTH_LIMIT",
        "isv.ACCOUNT_NOT_EXISTS",
        "isv.ACCOUNT_ABNORMAL",
        "isv.AMOUNT_NOT_ENOUGH",
        "isv.BLACK_KEY_CONTROL_LIMIT",
        "isv.DENY_IP_RANGE",
        "isv.OUT_OF_SERVICE",
        "isv.PRODUCT_UN_SUBSCRIPT",
        "isv.PRODUCT_UNSUBSCRIBE",
        "isv.SMS_SIGN_ILLEGAL",
        "InvalidAccessKeyId.NotFound",
        "SignatureDoesNotMatch",
    }
)


def _percent(value: str) -> str:
    """Aliyun's POP encoding: RFC 3986, with space as %20, ``*`` as %2A, ``~`` kept."""
    return urllib.parse.quote(value, safe="~")


def sign_v1(params: dict[str, str], secret: str, method: str = "POST") -> str:
    """HMAC-SHA1 signature (RPC, SignatureVersion 1.0) of the sorted, encoded parameters."""
    canonical = "&".join(f"{_percent(k)}={_percent(params[k])}" for k in sorted(params))
    to_sign = f"{method}&{_percent('/')}&{_percent(canonical)}"
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class AliyunSms:
    """Aliyun SMS (dysmsapi 2017-05-25, ``SendSms``), RPC style over HTTPS POST."""

    name = "aliyun"

    def __init__(
        self,
        *,
        endpoint: str,
        access_key_id: str,
        access_key_secret: str,
        sign_name: str,
        templates: dict[str, str],
        timeout: float = 10.0,
    ) -> None:
        self.endpoint = endpoint
        self.access_key_id = access_key_id
        self.access_key_secret = access_key_secret
        self.sign_name = sign_name
        self.templates = templates
        self.timeout = timeout

    def request_params(
        self, row: Outbox, *, now: datetime | None = None, nonce: str | None = None
    ) -> dict[str, str]:
        """Every parameter of the request, the signature included."""
        moment = (now or datetime.now(UTC)).astimezone(UTC)
        params = {
            "AccessKeyId": self.access_key_id,
            "Action": "SendSms",
            "Format": "JSON",
            "OutId": str(row.id),
            "PhoneNumbers": row.mobile,
            "RegionId": "cn-hangzhou",
            "SignName": self.sign_name,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": nonce or uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "TemplateCode": self.templates.get(row.template, ""),
            "TemplateParam": json.dumps(row.params or {}, ensure_ascii=False, sort_keys=True),
            "Timestamp": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": "2017-05-25",
        }
        params["Signature"] = sign_v1(params, self.access_key_secret)
        return params

    def send(self, row: Outbox) -> Result:
        if not self.templates.get(row.template):
            return Result(False, error=f"no template code for {row.template!r}", permanent=True)
        body = urllib.parse.urlencode(self.request_params(row), quote_via=urllib.parse.quote)
        connection = self._connection()
        try:
            # Not connected (refused, no such host, no answer to the handshake): nothing was
            # sent, so trying again later cannot send it twice.
            try:
                connection.connect()
            except OSError as err:
                return Result(False, error=f"not connected: {err}"[:300])
            # Connected: from here on the request may have reached Aliyun. A timeout, a
            # reset, a 5xx or an answer we cannot read leave the outcome unknown.
            try:
                connection.request(
                    "POST",
                    self._path(),
                    body=body.encode(),
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                )
                response = connection.getresponse()
                status, data = response.status, response.read(65536)
            except TimeoutError:
                return Result(False, error="timeout", unknown=True)
            except (OSError, http.client.HTTPException) as err:
                return Result(False, error=f"network: {err}"[:300], unknown=True)
        finally:
            connection.close()
        return self._response(status, data)

    def _connection(self) -> http.client.HTTPConnection:
        url = urllib.parse.urlsplit(self.endpoint)
        if url.scheme == "https":
            return http.client.HTTPSConnection(
                url.hostname or "",
                url.port,
                timeout=self.timeout,
                context=ssl.create_default_context(),
            )
        return http.client.HTTPConnection(url.hostname or "", url.port, timeout=self.timeout)

    def _path(self) -> str:
        url = urllib.parse.urlsplit(self.endpoint)
        return (url.path or "/") + (f"?{url.query}" if url.query else "")

    def _response(self, status: int, data: bytes) -> Result:
        try:
            answer = json.loads(data or b"{}")
        except ValueError:
            answer = None
        if 400 <= status < 500:
            # Refused before any sending: Aliyun's code says whether a retry can help.
            if isinstance(answer, dict) and answer.get("Code"):
                return self._answer(answer)
            return Result(False, error=f"HTTP {status}")
        if status >= 500 and isinstance(answer, dict) and answer.get("Code"):
            # Aliyun's own error answer (InternalError, ServiceUnavailable): its servers
            # failed the request rather than sending it, so it is tried again, and failed
            # after the last try.
            return Result(False, error=f"HTTP {status} {answer['Code']}"[:300])
        if status != 200:
            return Result(False, error=f"HTTP {status}", unknown=True)
        if not isinstance(answer, dict):
            return Result(False, error="not JSON", unknown=True)
        return self._answer(answer)

    def _answer(self, answer: dict[str, Any]) -> Result:
        code = str(answer.get("Code", ""))
        if code == "OK":
            return Result(True, ref=str(answer.get("BizId", ""))[:100])
        text = f"{code}: {answer.get('Message', '')}"[:300]
        return Result(False, error=text, permanent=code in PERMANENT_CODES)

    def outcome(self, row: Outbox) -> bool | None:
        return None  # QuerySendDetails needs the BizId, which a crashed worker never saw


def provider_for(app: Flask | None = None) -> DevBackend | AliyunSms:
    """The provider the settings name (``SMS_BACKEND``)."""
    config = (app or current_app).config
    backend = config.get("SMS_BACKEND", "dev")
    if backend == "dev":
        return DevBackend(delay=float(config.get("SMS_DEV_DELAY") or 0))
    if backend == "aliyun":
        return AliyunSms(
            endpoint=config["SMS_ALIYUN_ENDPOINT"],
            access_key_id=config["SMS_ALIYUN_ACCESS_KEY_ID"],
            access_key_secret=config["SMS_ALIYUN_ACCESS_KEY_SECRET"],
            sign_name=config["SMS_ALIYUN_SIGN_NAME"],
            templates=dict(config.get("SMS_ALIYUN_TEMPLATES") or {}),
            timeout=float(config.get("SMS_TIMEOUT") or 10),
        )
    raise ValueError(f"unknown SMS_BACKEND {backend!r}")
