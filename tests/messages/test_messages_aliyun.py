"""The Aliyun SMS adapter against a local server that answers as the provider does."""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from compound_app.extensions import db
from compound_app.messages import delivery
from compound_app.messages.models import Outbox, OutboxStatus
from compound_app.messages.providers import AliyunSms, provider_for, sign_v1
from compound_app.messages.service import enqueue_sms


class Provider(BaseHTTPRequestHandler):
    """Answers by the mobile number: each one a behaviour of the real service."""

    seen: list[dict[str, str]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        params = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
        Provider.seen.append(params)
        phone = params.get("PhoneNumbers", "")
        if phone.endswith("0001"):
            self._json(200, {"Code": "OK", "Message": "OK", "BizId": "900619746936498440^0"})
        elif phone.endswith("0002"):
            self._json(200, {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "非法手机号"})
        elif phone.endswith("0003"):
            self._json(200, {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "业务限流"})
        elif phone.endswith("0004"):
            self._json(
                500, {"Code": "InternalError", "Message": "The request processing has failed"}
            )
        elif phone.endswith("0005"):
            time.sleep(1.5)  # longer than the client's timeout
            self._json(200, {"Code": "OK", "BizId": "late"})
        elif phone.endswith("0006"):
            self._json(400, {"Code": "SignatureDoesNotMatch", "Message": "bad signature"})
        elif phone.endswith("0007"):
            self.close_connection = True  # read the request, then hang up without answering
        elif phone.endswith("0008"):
            self._json(429, {})
        elif phone.endswith("0009"):
            self._raw(200, b"<html>gateway</html>")
        else:
            self._json(503, {})

    def _json(self, status: int, body: dict[str, str]) -> None:
        self._raw(status, json.dumps(body, ensure_ascii=False).encode())

    def _raw(self, status: int, data: bytes) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (the timeout case)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def endpoint() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Provider)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Provider.seen = []
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def _adapter(endpoint: str) -> AliyunSms:
    return AliyunSms(
        endpoint=endpoint,
        access_key_id="testId",
        access_key_secret="testSecret",
        sign_name="新义街道",
        templates={"repair": "SMS_100000001", "urgent": "SMS_100000002"},
        timeout=0.5,
    )


def _row(mobile: str, template: str = "repair") -> Outbox:
    return Outbox(id=42, mobile=mobile, template=template, params={"title": "维修已完成"})


def test_the_signature_matches_aliyuns_published_example():
    # From Aliyun's documentation of the RPC signature (method GET, secret testSecret).
    params = {
        "AccessKeyId": "testId",
        "Action": "SendSms",
        "Format": "XML",
        "OutId": "123",
        "PhoneNumbers": "15300000001",
        "RegionId": "cn-hangzhou",
        "SignName": "阿里云短信测试专用",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
        "SignatureVersion": "1.0",
        "TemplateCode": "SMS_71390007",
        "TemplateParam": '{"customer":"test"}',
        "Timestamp": "2017-07-12T02:42:19Z",
        "Version": "2017-05-25",
    }
    assert sign_v1(params, "testSecret", "GET") == "zJDF+Lrzhj/ThnlvIToysFRq6t4="


def test_the_request_carries_the_send_sms_parameters_signed(endpoint):
    adapter = _adapter(endpoint)
    result = adapter.send(_row("13900000001"))
    assert result.ok and result.ref == "900619746936498440^0"
    sent = Provider.seen[0]
    assert sent["Action"] == "SendSms" and sent["PhoneNumbers"] == "13900000001"
    assert sent["SignName"] == "新义街道" and sent["TemplateCode"] == "SMS_100000001"
    assert json.loads(sent["TemplateParam"]) == {"title": "维修已完成"}
    assert sent["OutId"] == "42" and sent["SignatureVersion"] == "1.0"
    signature = sent.pop("Signature")
    assert sign_v1(sent, "testSecret", "POST") == signature


def test_request_params_are_reproducible(app):
    adapter = _adapter("https://dysmsapi.aliyuncs.com/")
    moment = datetime(2026, 6, 15, 2, 0, tzinfo=UTC)
    one = adapter.request_params(_row("13900000001"), now=moment, nonce="n1")
    two = adapter.request_params(_row("13900000001"), now=moment, nonce="n1")
    assert one == two and one["Timestamp"] == "2026-06-15T02:00:00Z"


def test_a_wrong_number_is_permanent(endpoint):
    result = _adapter(endpoint).send(_row("13900000002"))
    assert not result.ok and result.permanent and "MOBILE_NUMBER_ILLEGAL" in result.error


def test_throttling_is_retried(endpoint):
    result = _adapter(endpoint).send(_row("13900000003"))
    assert not result.ok and not result.permanent and "BUSINESS_LIMIT_CONTROL" in result.error


# Aliyun answering with its own error code (a 500 InternalError) did not send: retried.
# Once connected, no answer, or a server failure without Aliyun's answer, leaves the
# outcome unknown (never resent on its own).


def test_a_server_error_is_retried_unless_the_outcome_is_unknown(endpoint):
    result = _adapter(endpoint).send(_row("13900000004"))
    assert not result.ok and not result.permanent and not result.unknown
    assert result.error == "HTTP 500 InternalError"
    blank = _adapter(endpoint).send(_row("13900000099"))  # 503 with no answer of Aliyun's
    assert not blank.ok and blank.unknown and blank.error == "HTTP 503"


def test_a_timeout_leaves_the_outcome_unknown(endpoint):
    started = time.monotonic()
    result = _adapter(endpoint).send(_row("13900000005"))
    assert time.monotonic() - started < 1.4
    assert not result.ok and result.unknown and result.error == "timeout"


def test_a_hang_up_after_the_request_leaves_the_outcome_unknown(endpoint):
    result = _adapter(endpoint).send(_row("13900000007"))
    assert not result.ok and result.unknown
    assert Provider.seen and Provider.seen[0]["PhoneNumbers"] == "13900000007"


def test_an_answer_that_is_not_json_leaves_the_outcome_unknown(endpoint):
    result = _adapter(endpoint).send(_row("13900000009"))
    assert not result.ok and result.unknown


def test_a_refused_signature_is_permanent(endpoint):
    result = _adapter(endpoint).send(_row("13900000006"))
    assert not result.ok and result.permanent and not result.unknown


def test_a_client_error_without_a_code_is_retried(endpoint):
    result = _adapter(endpoint).send(_row("13900000008"))
    assert not result.ok and not result.permanent and not result.unknown
    assert result.error == "HTTP 429"


# Never connected: nothing was sent, so a later try cannot send it twice.


def test_nobody_listening_is_retried():
    result = _adapter("http://127.0.0.1:9/").send(_row("13900000001"))
    assert not result.ok and not result.permanent and not result.unknown
    assert result.error.startswith("not connected")


def test_a_host_that_does_not_exist_is_retried():
    result = _adapter("http://sms.invalid/").send(_row("13900000001"))
    assert not result.ok and not result.permanent and not result.unknown


def _due(mobile: str, held_clock) -> int:  # type: ignore[no-untyped-def]
    row = enqueue_sms(mobile, "repair", {"title": "维修已完成"})
    row.next_try_at = held_clock.now - timedelta(minutes=1)
    db.session.commit()
    return row.id


def test_the_worker_fails_a_timed_out_sms_as_unknown_and_never_resends_it(
    app, held_clock, endpoint
):
    held_clock.now = datetime(2026, 6, 15, 2, 0, tzinfo=UTC)  # 10:00 in China
    row_id = _due("13900000005", held_clock)
    report = delivery.run_batch("w", _adapter(endpoint))
    assert (report.unknown, report.retrying) == (1, 0)
    db.session.expire_all()
    row = db.session.get(Outbox, row_id)
    assert row.status == OutboxStatus.FAILED and row.last_error.startswith("outcome unknown")
    held_clock.now += timedelta(hours=2)
    assert delivery.run_batch("w", _adapter(endpoint)).claimed == 0
    assert len(Provider.seen) == 1  # handed over once; staff decide about the rest


def test_the_worker_retries_an_sms_it_could_not_connect_for(app, held_clock):
    held_clock.now = datetime(2026, 6, 15, 2, 0, tzinfo=UTC)
    row_id = _due("13900000001", held_clock)
    report = delivery.run_batch("w", _adapter("http://127.0.0.1:9/"))
    assert (report.retrying, report.unknown, report.failed) == (1, 0, 0)
    db.session.expire_all()
    row = db.session.get(Outbox, row_id)
    assert row.status == OutboxStatus.PENDING and row.handed_at is None


def test_a_template_without_a_code_is_not_sent(endpoint):
    result = _adapter(endpoint).send(_row("13900000001", template="bill"))
    assert result.permanent and Provider.seen == []


def test_settings_choose_the_provider(app):
    assert provider_for(app).name == "dev"
    app.config.update(SMS_BACKEND="aliyun", SMS_ALIYUN_TEMPLATES={"urgent": "SMS_1"})
    chosen = provider_for(app)
    assert isinstance(chosen, AliyunSms) and chosen.templates == {"urgent": "SMS_1"}
    app.config["SMS_BACKEND"] = "carrier-pigeon"
    with pytest.raises(ValueError):
        provider_for(app)
