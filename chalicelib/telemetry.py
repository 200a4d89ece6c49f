"""Metrics and traces: Powertools Metrics (CloudWatch embedded metric format) and Powertools Tracer (X-Ray).

Metrics, namespace ``POWERTOOLS_METRICS_NAMESPACE`` (``ContactGateway``; read by Settings, built into ``Metrics``
by the composition root), dimension ``service`` on each:

- ``Decisions`` by ``channel`` and ``outcome`` (sent, scheduled, blocked, permitted, refused, failed, unknown);
- ``DecisionReasons`` by ``outcome`` and ``reason`` (the rule id), one per reason a decision gave;
- ``Deferrals`` by ``channel``: contacts scheduled for a later instant (time rules, or a retry);
- ``SendFailures`` by ``channel``, ``outcome`` and ``error_code`` (the provider's);
- ``DispatcherLag`` (seconds): how long after its ``not_before`` the latest deferred contact a dispatcher run
  handled went out; ``DispatcherRuns`` and ``Dispatched`` count the runs and what they handled.

Each is its own EMF line (``single_metric``): the dimension sets differ, and a line per decision is written
when it is made, whatever the handler. Nothing personal is a dimension: no debtor, address or tenant.

Traces: in Lambda with active tracing, each handler runs in a ``## <function>`` subsegment and each public
method of the adapters in its own (``traced``); boto3 calls are patched by Powertools. Responses and
errors are not captured as metadata, as they may hold personal data. Outside Lambda (tests, ``chalice
local``) Powertools disables the tracer, and ``traced`` leaves classes as they are.

The tracer is built on first use, and only where tracing is on: building one imports the X-Ray SDK (and
botocore with it), the largest single import of a cold start, which a function with tracing off never needs.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from chalicelib.domain.events import Status
from chalicelib.domain.model import ContactRequest

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

    from chalicelib.services.delivery import ContactResult

SERVICE = "contact-gateway"
T = TypeVar("T")


@cache
def get_tracer() -> Tracer:
    """The process's Powertools Tracer (``telemetry.tracer``), built on first use."""
    from aws_lambda_powertools import Tracer

    return Tracer(service=SERVICE)


@cache
def tracing_off() -> bool:
    """Powertools' own rule (off outside Lambda, under ``chalice local`` and SAM, or POWERTOOLS_TRACE_DISABLED),
    read without building a tracer."""
    from aws_lambda_powertools.tracing.tracer import Tracer

    return bool(Tracer._is_tracer_disabled())


def __getattr__(name: str) -> Any:
    if name == "tracer":
        return get_tracer()
    raise AttributeError(name)


@dataclass(frozen=True)
class Metrics:
    """The metrics above, in ``namespace`` (Settings.metrics_namespace: POWERTOOLS_METRICS_NAMESPACE)."""

    namespace: str

    def emit(self, name: str, value: float, unit: MetricUnit = MetricUnit.Count, **dimensions: str) -> None:
        with single_metric(
            name=name,
            unit=unit,
            value=value,
            namespace=self.namespace,
            default_dimensions={"service": SERVICE, **dimensions},
        ):
            pass

    def record_decision(self, result: ContactResult, request: ContactRequest, trigger: str) -> None:
        """The metrics of one decision (``UnitOfWork.observe``)."""
        channel, outcome = request.channel.value, result.status.value
        self.emit("Decisions", 1, channel=channel, outcome=outcome)
        for reason in result.decision.reasons:
            self.emit("DecisionReasons", 1, outcome=outcome, reason=reason.rule)
        if result.status is Status.SCHEDULED:
            self.emit("Deferrals", 1, channel=channel)
        if result.status in (Status.FAILED, Status.UNKNOWN) or result.error_code:
            error_code = result.error_code or "none"
            self.emit("SendFailures", 1, channel=channel, outcome=outcome, error_code=error_code)

    def record_dispatch(self, dispatched: int, lag_seconds: float) -> None:
        self.emit("DispatcherRuns", 1)
        self.emit("Dispatched", dispatched)
        if dispatched:
            self.emit("DispatcherLag", lag_seconds, MetricUnit.Seconds)


def traced(cls: type[T], trace: Tracer | None = None) -> type[T]:
    """``cls`` with each public method in a subsegment of its own, when tracing is on."""
    if trace is None and tracing_off():
        return cls
    trace = trace or get_tracer()
    if trace.disabled or vars(cls).get("_traced"):
        return cls
    cls._traced = True  # type: ignore[attr-defined]
    for name, method in list(vars(cls).items()):
        if name.startswith("_") or not inspect.isfunction(method):
            continue
        wrapped = trace.capture_method(capture_response=False, capture_error=False)(method)
        setattr(cls, name, wrapped)
    return cls


def trace_middleware(function_name: Callable[[], str], trace: Tracer | None = None) -> Callable[..., Any]:
    """A Chalice middleware (every event type): the handler's work in ``## <function>``."""
    cold = [True]

    def middleware(event: Any, get_response: Callable[[Any], Any]) -> Any:
        if trace is None and tracing_off():
            return get_response(event)
        active = trace or get_tracer()
        if active.disabled:
            return get_response(event)
        with active.provider.in_subsegment(name=f"## {function_name()}") as subsegment:
            subsegment.put_annotation(key="ColdStart", value=cold[0])
            subsegment.put_annotation(key="Service", value=SERVICE)
            cold[0] = False
            return get_response(event)

    return middleware
