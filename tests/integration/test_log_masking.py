"""Every log line of a full day's work (an SMS, an email, a failed send, a STOP reply, an export), captured
from every logger at DEBUG, holds no phone number, email address or message body."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client

from chalicelib import observability
from chalicelib.services import exports
from tests.support import utc

NOON_ATLANTA = utc(2026, 3, 2, 17, 0)
NUMBER, MASKED_NUMBER = "+14045550100", "+1404•••0100"
EMAIL, MASKED_EMAIL = "jane.doe+x@example.com", "j•••x@example.com"
BODY = "Secret-body-123 您的账单已逾期. Reply STOP to opt out."
SUBJECT = "Secret-subject 账单"
REPLY = "Secret-reply-456 我下周付款"
CORRELATION_ID = "corr-log-masking-1"
# each form a body or address could take on its way through JSON, repr, form-encoding and UTF-8 bytes
LEAKS = (
    NUMBER,
    "4045550100",
    EMAIL,
    "jane.doe",
    "Secret-body",
    "Secret-subject",
    "Secret-reply",
    "我下周付款",
    "您的账单",
    "u60a8",  # 您 escaped by json.dumps
    "\\xe6\\x82\\xa8",  # 您 in a bytes repr
    "%E6%82%A8",  # 您 form-encoded
)


def contact(**fields: Any) -> dict[str, Any]:
    return {
        "debtor_id": "d-1",
        "account_id": "a-1",
        "channel": "sms",
        "to": NUMBER,
        "location": {"country": "US", "subdivision": "GA"},
        "message": {"body": BODY},
        **fields,
    }


def post(client: Client, path: str, body: dict[str, Any]) -> Any:
    headers = {"Content-Type": "application/json", "X-Correlation-Id": CORRELATION_ID}
    return client.http.post(path, headers=headers, body=json.dumps(body, ensure_ascii=False))


def inbound_sms(text: str, message_id: str) -> str:
    return json.dumps(
        {
            "originationNumber": NUMBER,
            "destinationNumber": "+18005550100",
            "messageBody": text,
            "inboundMessageId": message_id,
            "messageKeyword": "",
            "previousPublishedMessageId": "",
        }
    )


@pytest.fixture
def every_logger_at_debug(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """The root logger and every named one, the SDK's included (its cap lifted, to prove masking, not the cap)."""
    import app  # noqa: F401 - every module, and so every module logger, is loaded

    caplog.set_level(logging.DEBUG)
    for name in list(logging.root.manager.loggerDict):
        caplog.set_level(logging.DEBUG, logger=name)
    yield caplog


@pytest.fixture
def day_of_logs(
    client: Any, gateway: Any, every_logger_at_debug: pytest.LogCaptureFixture, capfd: Any, monkeypatch: Any
) -> tuple[list[str], list[dict[str, Any]]]:
    """Runs the day; answers what was captured (records as text, the Powertools handler's output, and anything
    else written to stdout or stderr) and the Powertools handler's lines as JSON.

    The Powertools handler (shared by the ``chalicelib`` loggers) holds the stdout of import time, which
    neither capsys nor capfd replaces: its stream is pointed at a buffer instead, its formatter untouched.
    """
    written = io.StringIO()
    monkeypatch.setattr(observability.logger.registered_handler, "stream", written)
    gateway.clock = lambda: NOON_ATLANTA
    sms = post(client, "/v1/contacts", contact())
    email = post(
        client,
        "/v1/contacts",
        contact(channel="email", to=EMAIL, account_id="a-2", message={"subject": SUBJECT, "body": BODY}),
    )
    assert [json.loads(r.body)["status"] for r in (sms, email)] == ["sent", "sent"], (sms.body, email.body)

    def refuse(*, to: str, body: str) -> str:
        raise RuntimeError(f"SNS refused the number {to}")

    with monkeypatch.context() as patched:
        patched.setattr(gateway.deps.sms, "send_sms", refuse)
        failed = post(client, "/v1/contacts", contact(debtor_id="d-2"))
    assert failed.status_code == 500, failed.body

    for text, message_id in ((REPLY, "m-1"), ("STOP", "m-2")):  # one for a human to read, then an opt-out
        client.lambda_.invoke("inbound_sms", client.events.generate_sns_event(message=inbound_sms(text, message_id)))
    stopped = post(client, "/v1/contacts", contact(account_id="a-3"))
    assert json.loads(stopped.body)["status"] == "blocked"

    requested = post(client, "/v1/exports", {"debtor_id": "d-1", "formats": ["jsonl", "csv", "pdf"]})
    export_id = json.loads(requested.body)["export_id"]
    assert exports.run_export("local", export_id, gateway.deps, lambda: NOON_ATLANTA)["status"] == "done"

    out, err = capfd.readouterr()
    records = [every_logger_at_debug.text, *(r.getMessage() for r in every_logger_at_debug.records)]
    lines = [json.loads(line) for line in written.getvalue().splitlines()]
    issued.extend(client.ring.issued())
    return [*records, written.getvalue(), out, err], lines


issued: list[str] = []  # the API keys the day used, filled by day_of_logs


def test_no_log_line_holds_an_api_key_or_its_hash(day_of_logs: tuple[list[str], list[dict[str, Any]]]) -> None:
    from chalicelib.domain.access import key_hash

    texts, lines = day_of_logs
    assert issued
    for text in texts:  # every logger at DEBUG, the SDK's wire dump included
        assert not [key for key in issued if key in text], text[:2000]
    # The hash is the key table's key, so the SDK's DEBUG dump (lifted here, held at INFO in the product)
    # shows it; it opens nothing (the authorizer hashes what it is given). The product's own lines never do.
    product = json.dumps(lines)
    assert not [key_hash(k) for k in issued if key_hash(k) in product]
    requests = [line for line in lines if line["message"] == "request"]
    assert {line["tenant"] for line in requests} == {"local"}  # who asked is logged by key id, never by key
    assert all(line["key_id"].startswith("k_") and line["role"] in ("submitter", "compliance") for line in requests)


def test_no_log_line_holds_a_number_an_address_or_a_body(day_of_logs: tuple[list[str], list[dict[str, Any]]]) -> None:
    texts, _ = day_of_logs
    for text in texts:
        found = [leak for leak in LEAKS if leak in text]
        assert not found, f"{found} in a log line: {text[:2000]}"


def test_the_logs_were_captured_and_show_the_masked_forms(day_of_logs: tuple[list[str], list[dict[str, Any]]]) -> None:
    texts, lines = day_of_logs
    everything = "\n".join(texts)
    assert MASKED_NUMBER in everything and MASKED_EMAIL in everything
    # a body, recognised by its key and replaced: the SNS request's form body (audit and ledger items carry
    # theirs compressed, so the SDK's dump of a DynamoDB write shows no text to mask)
    assert "'body': '•••'" in everything
    assert "Making request for OperationModel(name=Publish)" in everything  # the SDK's DEBUG dump was captured
    requests = [line for line in lines if line["message"] == "request"]
    assert len(requests) == 5 and {line["correlation_id"] for line in requests} == {CORRELATION_ID}


def test_the_failed_send_is_logged_as_json_with_its_correlation_id_and_a_masked_traceback(
    day_of_logs: tuple[list[str], list[dict[str, Any]]],
) -> None:
    _, lines = day_of_logs
    [error] = [line for line in lines if line["message"] == "unhandled error"]
    assert (error["level"], error["name"], error["correlation_id"]) == ("ERROR", "chalicelib.http", CORRELATION_ID)
    assert f"RuntimeError: SNS refused the number {MASKED_NUMBER}" in error["exception"]
    assert error["stack_trace"]["value"] == f"RuntimeError: SNS refused the number {MASKED_NUMBER}"
