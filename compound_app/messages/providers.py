"""SMS providers behind one interface: the dev SMS box and Aliyun SMS.

The worker (``delivery``) asks a provider for one of two things:

- ``deliver_dev`` exists only on the dev backend: it writes the SMS to the dev box in the
  very transaction that marks the outbox row sent, so a delivery is never half done.
- ``send(row)`` for a real provider: one HTTP request, answered by a ``Result``: sent
  (with the provider's reference), a temporary failure (retry later) or a permanent one.

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
import json
import time
import urllib.error
import urllib.parse
import urllib.request
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
# the account. Anything else (throttling, 5xx, timeouts, unknown codes) is tried again.
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
        request = urllib.request.Request(  # noqa: S310 — the configured https endpoint
            self.endpoint,
            data=body.encode(),
            method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                answer = json.loads(response.read(65536) or b"{}")
        except urllib.error.HTTPError as err:
            return self._http_error(err)
        except TimeoutError:
            return Result(False, error="timeout")
        except (urllib.error.URLError, OSError) as err:
            return Result(False, error=f"network: {err}"[:300])
        except ValueError:
            return Result(False, error="not JSON")
        return self._answer(answer)

    def _http_error(self, err: urllib.error.HTTPError) -> Result:
        try:
            answer = json.loads(err.read(65536) or b"{}")
        except (ValueError, OSError):
            answer = {}
        if err.code < 500 and isinstance(answer, dict) and answer.get("Code"):
            return self._answer(answer)
        return Result(False, error=f"HTTP {err.code}")

    def _answer(self, answer: Any) -> Result:
        if not isinstance(answer, dict):
            return Result(False, error="unexpected answer")
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
