"""Metrics of decisions, deferrals, send failures and dispatcher lag, as the EMF lines CloudWatch reads;
traces of handlers and adapters when tracing is on."""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from chalicelib import telemetry
from chalicelib.services import dispatch
from chalicelib.services.contacts import submit_contact
from tests.integration.aws import fail_calls
from tests.support import make_request, utc

NOON_ATLANTA = utc(2026, 3, 2, 17, 0)
NIGHT_ATLANTA = utc(2026, 3, 2, 7, 0)


def metrics(capsys: Any) -> list[tuple[str, float, dict[str, str]]]:
    """(name, value, dimensions) of every EMF line printed since the last call."""
    found = []
    for line in capsys.readouterr().out.splitlines():
        if '"_aws"' not in line:
            continue
        blob = json.loads(line)
        (directive,) = blob["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == "ContactGateway"
        (metric,) = directive["Metrics"]
        (dimension_set,) = directive["Dimensions"]
        value = blob[metric["Name"]]
        (value,) = value if isinstance(value, list) else [value]
        found.append((metric["Name"], value, {d: blob[d] for d in dimension_set}))
    return found


def test_each_decision_is_counted_by_outcome_and_reason(gateway, capsys) -> None:
    capsys.readouterr()
    submit_contact(make_request(debtor_id="d-1"), gateway.deps, NOON_ATLANTA)
    submit_contact(make_request(debtor_id="d-2"), gateway.deps, NIGHT_ATLANTA)
    seen = metrics(capsys)
    service = {"service": "contact-gateway"}
    assert ("Decisions", 1.0, {**service, "channel": "sms", "outcome": "sent"}) in seen
    assert ("Decisions", 1.0, {**service, "channel": "sms", "outcome": "scheduled"}) in seen
    assert ("Deferrals", 1.0, {**service, "channel": "sms"}) in seen
    reasons = [d for name, _, d in seen if name == "DecisionReasons"]
    assert reasons and all(d["outcome"] == "scheduled" and d["reason"] for d in reasons)
    assert not [s for s in seen if s[0] == "SendFailures"]
    for _, _, dimensions in seen:  # nothing personal is a dimension
        assert not {"debtor_id", "to", "tenant"} & set(dimensions)
        assert "+1404" not in json.dumps(dimensions)


def test_a_provider_refusal_is_a_send_failure_with_its_code(gateway, capsys) -> None:
    undo = fail_calls(gateway.clients.sns, "Publish", "InvalidParameter")
    try:
        result = submit_contact(make_request(debtor_id="d-3"), gateway.deps, NOON_ATLANTA)
    finally:
        undo()
    assert result is not None and result.error_code == "InvalidParameter"
    failures = [d for name, _, d in metrics(capsys) if name == "SendFailures"]
    assert failures == [
        {
            "service": "contact-gateway",
            "channel": "sms",
            "outcome": result.status.value,
            "error_code": "InvalidParameter",
        }
    ]


def test_dispatcher_lag_is_how_late_a_due_contact_went_out(gateway, capsys) -> None:
    scheduled = submit_contact(make_request(debtor_id="d-4"), gateway.deps, NIGHT_ATLANTA)
    assert scheduled is not None and scheduled.decision.not_before is not None
    late = scheduled.decision.not_before + timedelta(minutes=7)
    report = dispatch.run_dispatcher(gateway.deps, late)
    assert report.dispatched == 1 and report.lag_seconds == 420.0
    capsys.readouterr()
    gateway.metrics.record_dispatch(report.dispatched, report.lag_seconds)
    seen = {name: value for name, value, _ in metrics(capsys)}
    assert seen == {"DispatcherRuns": 1.0, "Dispatched": 1.0, "DispatcherLag": 420.0}


class FakeSubsegment:
    def __init__(self, name: str, log: list[Any]) -> None:
        self.name, self.log = name, log

    def put_annotation(self, key: str, value: Any) -> None:
        self.log.append((self.name, key, value))


class FakeTrace:
    """Stands in for an enabled Powertools Tracer: records the subsegments it is asked for."""

    disabled = False

    def __init__(self) -> None:
        self.log: list[Any] = []
        self.provider = self

    @contextmanager
    def in_subsegment(self, name: str) -> Any:
        self.log.append(("enter", name))
        yield FakeSubsegment(name, self.log)
        self.log.append(("exit", name))

    def capture_method(self, capture_response: bool, capture_error: bool) -> Any:
        assert capture_response is False and capture_error is False  # no personal data in traces

        def decorate(method: Any) -> Any:
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                with self.in_subsegment(f"## {method.__qualname__}"):
                    return method(*args, **kwargs)

            return wrapper

        return decorate


def test_adapters_and_handlers_run_in_subsegments_when_tracing_is_on() -> None:
    class Adapter:
        def get(self, key: str) -> str:
            return key.upper()

        def _private(self) -> None: ...

    trace = FakeTrace()
    traced = telemetry.traced(Adapter, trace)  # type: ignore[arg-type]
    assert telemetry.traced(traced, trace) is traced  # type: ignore[arg-type]  # once only
    assert traced().get("a") == "A"
    assert trace.log == [
        ("enter", "## test_adapters_and_handlers_run_in_subsegments_when_tracing_is_on.<locals>.Adapter.get"),
        ("exit", "## test_adapters_and_handlers_run_in_subsegments_when_tracing_is_on.<locals>.Adapter.get"),
    ]
    trace.log.clear()
    middleware = telemetry.trace_middleware(lambda: "gateway-prod-dispatcher", trace)  # type: ignore[arg-type]
    assert middleware("event", lambda event: f"handled {event}") == "handled event"
    middleware("again", lambda event: event)
    names = [entry for entry in trace.log if entry[0] == "## gateway-prod-dispatcher"]
    assert names[0] == ("## gateway-prod-dispatcher", "ColdStart", True)
    assert ("## gateway-prod-dispatcher", "ColdStart", False) in names


def test_outside_lambda_tracing_is_off_and_adapters_are_unchanged() -> None:
    from chalicelib.adapters.dynamodb import DynamoDBLedger

    assert telemetry.tracer.disabled
    assert "_traced" not in vars(DynamoDBLedger)
