"""Masking of numbers, addresses and bodies in log text and structured log records."""

from __future__ import annotations

import io
import json
import logging
import time
from typing import Any

import pytest

from chalicelib import observability
from chalicelib.domain.masking import mask_address, mask_addresses, mask_fields, mask_text

NUMBER, MASKED_NUMBER = "+14045550100", "+1404•••0100"
EMAIL, MASKED_EMAIL = "jane.doe+x@example.com", "j•••x@example.com"
BODY = 'Secret-body-123 您的账单已逾期. Say "hi"'


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (NUMBER, MASKED_NUMBER),
        (f"to={NUMBER}.", f"to={MASKED_NUMBER}."),
        ("call +1 404 555 0100 today", f"call {MASKED_NUMBER} today"),
        ("call +1-404-555-0100", f"call {MASKED_NUMBER}"),
        ("PhoneNumber=%2B14045550100&Message=x", f"PhoneNumber={MASKED_NUMBER}&Message=x"),
        ("+3531234567", "+35•••67"),  # shorter than 11 digits: still 3 or more hidden
        ("您的号码+8613800138000已停用", "您的号码+8613•••8000已停用"),
        (EMAIL, MASKED_EMAIL),
        (f"<{EMAIL}>, {EMAIL}", f"<{MASKED_EMAIL}>, {MASKED_EMAIL}"),
        ("Destination=jane.doe%2Bx%40example.com", f"Destination={MASKED_EMAIL}"),
        ("张三@例子.中国", "张•••@例子.中国"),
        ("+14045550100@sms.example.com", "+•••0@sms.example.com"),
        # every local part the API accepts (api.EMAIL) is masked whole, not from its last odd character on
        ("x=jane{doe}@corp.example.com", "x•••}@corp.example.com"),
        ("from o'brien.patrick@corp.example.com.", "from o•••k@corp.example.com."),
        ("to 'jane.doe@example.com'", "to 'j•••e@example.com'"),  # a repr's quote stays outside
        ("a!b#c$d&e*f/g?h^i`j|k~l@example.com", "a•••l@example.com"),
        # written the way people write numbers
        ("call +1 (404) 555-0100 today", f"call {MASKED_NUMBER} today"),
        ("call +1.404.555.0100.", f"call {MASKED_NUMBER}."),
        ("(+1 404.555.0100)", f"({MASKED_NUMBER})"),
    ],
)
def test_numbers_and_addresses_are_masked_wherever_they_are_written(text: str, masked: str) -> None:
    assert mask_addresses(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "2026-03-02T17:00:00+00:00",
        "offset +14:00 and +05:30",
        "seq 14045550100 without a plus is an id, not a number",
        "+123456 is too short for E.164",
        "user@localhost has no domain dot",
        "ct_019caf7e0e80ab69c058c014_mqwtc",
    ],
)
def test_times_ids_and_non_numbers_are_left_alone(text: str) -> None:
    assert mask_addresses(text) == text


def test_every_address_the_api_accepts_is_masked_whole() -> None:
    from chalicelib.http.models import EMAIL as API_EMAIL

    for address in ("x=jane{doe}@corp.example.com", "o'brien.patrick@corp.example.com", "a.b-c_d@e.example"):
        assert API_EMAIL.fullmatch(address)
        local = address.split("@")[0]
        assert local[1:-1] not in mask_addresses(f"to {address} and <{address}>")


def test_mask_address_renders_reports_as_before() -> None:
    assert mask_address(NUMBER) == MASKED_NUMBER
    assert mask_address("jane.doe@example.com") == "j•••e@example.com"
    assert mask_address("ab@example.com") == "a•••@example.com"
    assert mask_address("+12345") == "••••••"
    assert mask_address(None) == mask_address("") == ""


def test_bodies_are_masked_by_key_at_any_depth_keeping_their_length() -> None:
    record: dict[str, Any] = {
        "to": NUMBER,
        "Message": {"subject": "Your statement", "body": BODY},
        "replies": [{"messageBody": "STOP 退订"}, {"Text": None}],
        "count": 3,
        "note": f"sent to {EMAIL}",
    }
    assert mask_fields(record) == {
        "to": MASKED_NUMBER,
        "Message": "•••",
        "replies": [{"messageBody": "•••(7 chars)"}, {"Text": None}],
        "count": 3,
        "note": f"sent to {MASKED_EMAIL}",
    }
    assert mask_fields({"message": {"body": BODY, "subject": ""}}, "") == {"message": "•••"}
    assert mask_fields({"body": BODY})["body"] == f"•••({len(BODY)} chars)"
    assert record["Message"]["body"] == BODY  # a copy: the caller's data is untouched


@pytest.mark.parametrize(
    "text",
    [
        json.dumps({"body": BODY, "to": NUMBER}),
        json.dumps({"body": BODY}, ensure_ascii=False),
        json.dumps(json.dumps({"message": {"body": BODY}})),  # JSON inside a JSON string
        json.dumps(json.dumps(json.dumps({"body": BODY}))),
        repr({"Message": BODY, "PhoneNumber": NUMBER}),
        repr({"messageBody": "I'll pay on Friday"}),  # repr quotes this one with "
        f"ValidationError: input_value={ {'subject': BODY}!r}",
    ],
)
def test_bodies_written_out_as_json_or_repr_inside_text_are_masked(text: str) -> None:
    masked = mask_text(text)
    assert "Secret" not in masked and "账单" not in masked and "u8d26" not in masked and "Friday" not in masked
    assert NUMBER not in masked
    assert "•••(" in masked


def test_masking_a_long_line_without_matches_takes_linear_time() -> None:
    line = ("a" * 50_000 + "." + "1" * 50_000 + '"body": ' + "\\" * 50_000) * 2
    started = time.perf_counter()
    assert mask_text(line) == line
    assert time.perf_counter() - started < 0.5


@pytest.fixture
def written(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    """What the Powertools handler writes (it holds the stdout of import time, which capsys does not replace)."""
    buffer = io.StringIO()
    monkeypatch.setattr(observability.logger.registered_handler, "stream", buffer)
    return buffer


def powertools_lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines()]


def test_powertools_lines_mask_extras_dict_messages_and_tracebacks(written: io.StringIO) -> None:
    log = observability.logger
    log.info("sent", extra={"to": NUMBER, "sms": {"body": BODY}, "Subject": "Overdue"})
    log.info({"event": "reply", "messageBody": BODY, "from": EMAIL})
    try:
        raise RuntimeError(f"provider refused {NUMBER} for {EMAIL}")
    except RuntimeError:
        log.exception("send failed for %s", NUMBER)
    out = written.getvalue()
    assert NUMBER not in out and EMAIL not in out and "Secret" not in out and "Overdue" not in out
    sent, reply, failed = powertools_lines(out)
    assert (sent["message"], sent["to"], sent["Subject"]) == ("sent", MASKED_NUMBER, "•••(7 chars)")
    assert sent["sms"] == {"body": f"•••({len(BODY)} chars)"}
    assert reply["message"] == {"event": "reply", "messageBody": f"•••({len(BODY)} chars)", "from": MASKED_EMAIL}
    assert failed["message"] == f"send failed for {MASKED_NUMBER}"
    assert f"RuntimeError: provider refused {MASKED_NUMBER} for {MASKED_EMAIL}" in failed["exception"]
    assert failed["stack_trace"]["value"] == f"RuntimeError: provider refused {MASKED_NUMBER} for {MASKED_EMAIL}"


def test_module_loggers_under_chalicelib_write_the_same_masked_json_lines(written: io.StringIO) -> None:
    observability.logger.set_correlation_id("corr-unit")
    try:
        logging.getLogger("chalicelib.services.example").error("incident not stored: %s", {"to": NUMBER, "body": BODY})
    finally:
        observability.logger.set_correlation_id(None)
    [line] = powertools_lines(written.getvalue())
    assert line["name"] == "chalicelib.services.example" and line["correlation_id"] == "corr-unit"
    assert line["message"] == f"incident not stored: {{'to': '{MASKED_NUMBER}', 'body': '•••({len(BODY)} chars)'}}"


def test_records_of_any_other_logger_are_masked_before_any_handler_sees_them(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="some.library")
    other = logging.getLogger("some.library")
    other.debug("params: %s", {"PhoneNumber": NUMBER, "Message": BODY})
    try:
        raise ValueError(f"bad address {EMAIL}")
    except ValueError:
        other.exception("failed")
    other.info("%s %s", "too few arguments")  # a malformed call is kept, masked, and does not raise
    assert caplog.messages[0] == f"params: {{'PhoneNumber': '{MASKED_NUMBER}', 'Message': '•••({len(BODY)} chars)'}}"
    assert f"ValueError: bad address {MASKED_EMAIL}" in caplog.text
    assert EMAIL not in caplog.text and NUMBER not in caplog.text and "Secret" not in caplog.text
    assert caplog.messages[2] == "%s %s ('too few arguments',)"


def test_the_sdk_wire_loggers_never_follow_the_root_logger_down_to_debug() -> None:
    observability.install_log_masking()  # again: idempotent
    for name in observability.WIRE_LOGGERS:
        assert logging.getLogger(name).level >= logging.INFO
    factory = logging.getLogRecordFactory()
    assert getattr(factory, "masks_personal_data", False)


@pytest.mark.parametrize(
    "text",
    [
        f"{NUMBER} {EMAIL} ab@example.com +3531234567",
        json.dumps({"body": BODY, "to": EMAIL}),
        repr({"Message": BODY}),
    ],
)
def test_masking_twice_reads_the_same_as_masking_once(text: str) -> None:
    once = mask_text(text)
    assert mask_text(once) == once


def provider_error(text: str) -> Exception:
    from botocore.exceptions import ClientError

    response: Any = {"Error": {"Code": "InvalidParameterValue", "Message": text}}
    return ClientError(response, "Publish")


def test_a_providers_error_text_is_never_logged_only_its_code_and_operation(written: io.StringIO) -> None:
    text = "Invalid parameter: PhoneNumber Reason: account acme-prod-7 blocked by carrier rule 42"
    try:
        try:
            raise provider_error(text)
        except Exception as exc:
            raise RuntimeError("delivery outcome unknown") from exc
    except RuntimeError:
        observability.logger.exception("send failed")
    observability.logger.error("provider said: %s", provider_error(text))
    out = written.getvalue()
    assert "carrier rule" not in out and "acme-prod-7" not in out
    failed, said = powertools_lines(out)
    assert "InvalidParameterValue" in failed["exception"] and "Publish" in failed["exception"]
    assert "RuntimeError: delivery outcome unknown" in failed["exception"]
    assert "InvalidParameterValue" in said["message"]


def test_other_loggers_never_write_a_providers_error_text(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="some.library")
    error = provider_error("Throttled for tenant " + "acme-prod-7")  # not in the traceback's source line
    try:
        raise error
    except Exception:
        logging.getLogger("some.library").exception("failed")
    assert "acme-prod-7" not in caplog.text and "InvalidParameterValue" in caplog.text
