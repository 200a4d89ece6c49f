"""Retry semantics under injected AWS faults (docs/decisions/0003): what botocore retries and how often, what
becomes ``failed`` with the provider's code, and why a timeout after SNS may have taken the message is
``unknown`` and never sent again. Each test states the end state and reads it from the tables and from
moto's lists of sent messages."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.domain.errors import StorageUnavailableError
from chalicelib.domain.events import Status
from chalicelib.domain.model import Result
from chalicelib.services import dispatch
from chalicelib.services.contacts import submit_contact
from chalicelib.settings import Settings, is_local
from tests.integration.aws import sent_email, sent_sms
from tests.support import TENANT, make_request, utc
from tools.local.faults import Crash, FaultInjector, client_wrap, from_spec

NOON_ATLANTA = utc(2026, 3, 2, 17, 0)


def on_ledger(gateway):
    table = gateway.settings.ledger_table
    return lambda params: params.get("TableName") == table or table in params.get("RequestItems", {})


def result_of(gateway, debtor: str):
    ledger = gateway.deps.ledgers.get(TENANT, debtor)
    return ledger, {r.contact_id: r.result for r in ledger.history}


def test_a_throttled_commit_is_retried_by_botocore_and_sent_once(gateway, faults) -> None:
    faults.add("throttle", "dynamodb", "PutItem", when=on_ledger(gateway), times=2)
    result = submit_contact(make_request(debtor_id="d-1"), gateway.deps, NOON_ATLANTA)
    assert result is not None and result.status is Status.SENT
    assert faults.injected == {"throttle dynamodb.PutItem": 2}  # two attempts failed, the third went through
    assert len(sent_sms()) == 1
    ledger, results = result_of(gateway, "d-1")
    assert results == {result.contact_id: Result.SENT} and ledger.version == 2  # commit + outcome, once each


def test_storage_throttled_past_its_three_attempts_sends_nothing_and_keeps_an_incident(gateway, faults) -> None:
    faults.add("throttle", "dynamodb", "BatchGetItem", when=on_ledger(gateway), times=None)
    with pytest.raises(StorageUnavailableError):
        submit_contact(make_request(debtor_id="d-2"), gateway.deps, NOON_ATLANTA)
    assert faults.injected == {"throttle dynamodb.BatchGetItem": 3}  # standard mode, 3 attempts in all
    assert sent_sms() == []
    faults.clear()
    (incident,) = [e for e in gateway.audit.for_person(TENANT, "d-2") if e["type"] == "incident"]
    assert incident["data"]["reason"]


def test_a_failure_while_recording_the_incident_still_answers_unavailable(gateway, faults) -> None:
    # The incident's own writes meet a lost race on every put (ledger and audit table): the caller is still
    # told "unavailable", nothing is sent, and nothing but StorageUnavailableError escapes.
    gateway.deps.sleep = lambda _seconds: None
    faults.add("throttle", "dynamodb", "BatchGetItem", when=on_ledger(gateway), times=None)
    faults.add("conflict", "dynamodb", "PutItem", times=None)
    with pytest.raises(StorageUnavailableError):
        submit_contact(make_request(debtor_id="d-9"), gateway.deps, NOON_ATLANTA)
    assert sent_sms() == []


def test_a_5xx_from_dynamodb_is_retried(gateway, faults) -> None:
    faults.add("server-error", "dynamodb", "BatchGetItem", times=1)
    result = submit_contact(make_request(debtor_id="d-3"), gateway.deps, NOON_ATLANTA)
    assert result is not None and result.status is Status.SENT and len(sent_sms()) == 1
    assert faults.injected == {"server-error dynamodb.BatchGetItem": 1}


def test_a_commit_applied_whose_answer_was_lost_counts_once(gateway, faults) -> None:
    # The first attempt reaches DynamoDB and is applied; botocore retries it, the retry fails its
    # condition, and the commit id in the stored ledger shows the write was this one's.
    faults.add("timeout-after", "dynamodb", "PutItem", when=on_ledger(gateway), times=1)
    result = submit_contact(make_request(debtor_id="d-4"), gateway.deps, NOON_ATLANTA)
    assert result is not None and result.status is Status.SENT and len(sent_sms()) == 1
    ledger, results = result_of(gateway, "d-4")
    assert results == {result.contact_id: Result.SENT} and ledger.version == 2


def test_a_lost_race_is_decided_again(gateway, faults) -> None:
    faults.add("conflict", "dynamodb", "PutItem", when=on_ledger(gateway), times=1)
    result = submit_contact(make_request(debtor_id="d-5"), gateway.deps, NOON_ATLANTA)
    assert result is not None and result.status is Status.SENT and len(sent_sms()) == 1
    assert faults.injected == {"conflict dynamodb.PutItem": 1}


def test_sns_throttled_is_not_retried_by_botocore_but_rescheduled_and_sent_once_later(gateway, faults) -> None:
    faults.add("throttle", "sns", "Publish", times=1)
    result = submit_contact(make_request(debtor_id="d-6"), gateway.deps, NOON_ATLANTA)
    assert result is not None and result.status is Status.SCHEDULED and result.error_code == "Throttling"
    assert faults.injected == {"throttle sns.Publish": 1} and sent_sms() == []  # one attempt only
    events = [e["type"] for e in gateway.audit.for_person(TENANT, "d-6")]
    assert "failed" in events and events[-1] == "scheduled"
    report = dispatch.run_dispatcher(gateway.deps, NOON_ATLANTA + timedelta(minutes=6))
    assert report.dispatched == 1 and len(sent_sms()) == 1
    assert result_of(gateway, "d-6")[1] == {result.contact_id: Result.SENT}


def test_sns_connect_timeout_never_reached_sns_and_is_retried_later(gateway, faults) -> None:
    faults.add("timeout-before", "sns", "Publish", times=1)
    result = submit_contact(make_request(debtor_id="d-7"), gateway.deps, NOON_ATLANTA)
    assert result is not None and result.status is Status.SCHEDULED and sent_sms() == []


def test_sns_timeout_after_the_request_reached_it_is_unknown_and_never_resent(gateway, faults) -> None:
    faults.add("timeout-after", "sns", "Publish", times=1)
    result = submit_contact(make_request(debtor_id="d-8"), gateway.deps, NOON_ATLANTA)
    assert result is not None and result.status is Status.UNKNOWN
    assert len(sent_sms()) == 1  # it did leave
    for minutes in (6, 12, 60):
        dispatch.run_dispatcher(gateway.deps, NOON_ATLANTA + timedelta(minutes=minutes))
    assert len(sent_sms()) == 1  # and nothing sends it again
    assert result_of(gateway, "d-8")[1] == {result.contact_id: Result.UNKNOWN}  # it counts toward caps
    (unknown,) = [e for e in gateway.audit.for_person(TENANT, "d-8") if e["type"] == "unknown"]
    assert unknown["data"]["retryable"] is False


def test_sns_5xx_may_have_sent_so_it_is_unknown(gateway, faults) -> None:
    faults.add("server-error", "sns", "Publish", times=1)
    result = submit_contact(make_request(debtor_id="d-9"), gateway.deps, NOON_ATLANTA)
    assert result is not None and result.status is Status.UNKNOWN and result.error_code == "InternalError"


def test_ses_rejecting_an_address_is_failed_with_its_code_and_never_retried(gateway, faults) -> None:
    faults.add("refuse", "sesv2", "SendEmail", code="MessageRejected", times=None)
    request = make_request(debtor_id="d-10", channel="email", to="debtor@example.com")
    result = submit_contact(request, gateway.deps, NOON_ATLANTA)
    assert result is not None and result.status is Status.FAILED and result.error_code == "MessageRejected"
    dispatch.run_dispatcher(gateway.deps, NOON_ATLANTA + timedelta(minutes=30))
    assert faults.injected == {"refuse sesv2.SendEmail": 1} and sent_email() == []
    (failed,) = [e for e in gateway.audit.for_person(TENANT, "d-10") if e["type"] == "failed"]
    assert failed["data"] == {"error_code": "MessageRejected", "retryable": False, "delivery_attempt": 1}


def test_a_crash_is_not_caught_by_the_product() -> None:
    assert not issubclass(Crash, Exception)


def test_faults_from_the_environment_only_against_a_local_endpoint() -> None:
    injector = from_spec("throttle:dynamodb:*:0.5,timeout-after:sns:Publish:0.01", seed=3)
    assert [(r.kind, r.service, r.operation, r.rate, r.times) for r in injector.rules] == [
        ("throttle", "dynamodb", "*", 0.5, None),
        ("timeout-after", "sns", "Publish", 0.01, None),
    ]
    with pytest.raises(ValueError):
        from_spec("crash-after:dynamodb:PutItem:1")
    with pytest.raises(ValueError):
        from_spec("explode:dynamodb")
    assert is_local("http://127.0.0.1:5000") and is_local("http://localhost:5000")
    assert not is_local(None) and not is_local("https://dynamodb.aws")
    assert not is_local("https://localhost.example.com") and not is_local("https://x.com/?//127.0.0.1")


def test_a_deployment_asking_for_faults_does_not_start(policies) -> None:
    from chalicelib.bootstrap import bootstrap

    with pytest.raises(ValueError, match="GATEWAY_FAULTS"):
        bootstrap(Settings(faults="throttle:dynamodb"), policies=policies)
    with pytest.raises(ValueError, match="GATEWAY_FAULTS"):
        client_wrap(Settings(faults="throttle:dynamodb", endpoint_url="https://dynamodb.us-east-1.amazonaws.com"))


def test_the_local_server_injects_its_faults_into_the_apps_clients(policies, monkeypatch) -> None:
    """tools/local/chalicelocal.py hands GATEWAY_FAULTS to the composition root before it serves the app."""
    from chalicelib import bootstrap as root
    from tools.local import chalicelocal

    monkeypatch.setattr(root, "client_wrap", None)  # restored after: the hook is this process's
    local = Settings(faults="throttle:dynamodb:*:0.5", faults_seed=7, endpoint_url="http://127.0.0.1:5000")
    chalicelocal.inject_faults(local)
    wrap = root.bootstrap(local, policies=policies).clients.wrap
    injector = getattr(wrap, "__self__", None)
    assert isinstance(injector, FaultInjector) and injector.seed == 7
    assert [(r.kind, r.service, r.rate) for r in injector.rules] == [("throttle", "dynamodb", 0.5)]
    chalicelocal.inject_faults(Settings(endpoint_url="http://127.0.0.1:5000"))  # no GATEWAY_FAULTS: none
    assert root.bootstrap(local, policies=policies).clients.wrap is None
