"""Faults injected into the gateway's own AWS clients, through botocore's event hooks: for the tests, and
for the soak on the local stack (``GATEWAY_FAULTS``). Never in AWS: no tool is deployed, and the local
entry points hand the composition root an injector (``client_wrap``) only when ``AWS_ENDPOINT_URL`` names a
local endpoint (moto).

Each fault happens where the real one would, so botocore's own retries and the gateway's handling meet it
as they would meet the real thing:

- ``throttle``, ``server-error``, ``refuse`` (a 400 with the rule's ``code``), ``conflict``: an error
  answer in place of the service's, at ``before-send`` (each HTTP attempt). botocore parses it and
  retries it by its retry mode, as it would a real one;
- ``timeout-before``: a connect timeout; the request never reached the service;
- ``timeout-after``: the request reaches the service and is applied, then the answer is lost (a read
  timeout). botocore may retry it, and the retry meets what the first attempt did;
- ``crash-before`` / ``crash-after``: the process dies before the call is made / right after it returned
  (``Crash`` is a ``BaseException``, which no ``except Exception`` in the product catches); what the next
  process finds in the tables is what a crash between two steps leaves.

    GATEWAY_FAULTS="throttle:dynamodb:*:0.02,timeout-after:sns:Publish:0.01"   # kind:service:operation:rate
"""

from __future__ import annotations

import json
import logging
import random
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.exceptions import ConnectTimeoutError, ReadTimeoutError

from chalicelib.settings import Settings, is_local

logger = logging.getLogger(__name__)
KINDS = (
    "throttle",
    "server-error",
    "refuse",
    "conflict",
    "timeout-before",
    "timeout-after",
    "crash-before",
    "crash-after",
)


class Crash(BaseException):
    """The process dies here: nothing after this point runs."""


# The error code a service answers for each fault (botocore's standard and adaptive modes retry the
# throttling codes and 5xx answers; a conditional failure is never retried).
THROTTLE_CODES = {
    "dynamodb": "ThrottlingException",
    "sns": "Throttling",
    "sesv2": "TooManyRequestsException",
    "s3": "SlowDown",
    "sqs": "ThrottlingException",
    "kms": "ThrottlingException",
}
SERVER_CODES = {"dynamodb": "InternalServerError", "s3": "InternalError", "sns": "InternalError"}


@dataclass
class Rule:
    kind: str
    service: str = "*"  # botocore's service name: dynamodb, sns, sesv2, s3, sqs, kms
    operation: str = "*"  # PutItem, Publish, ...
    when: Callable[[dict[str, Any]], bool] | None = None  # on the call's parameters
    skip: int = 0  # matching calls let through first
    times: int | None = 1  # how many times it fires (None: every time)
    rate: float = 1.0  # the chance it fires on a matching call
    code: str | None = None  # the error code answered (refuse; overrides throttle's and server-error's)
    fired: int = 0
    seen: int = 0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault {self.kind!r}; one of {', '.join(KINDS)}")


@dataclass
class _Call:
    service: str
    operation: str
    params: dict[str, Any]
    rule: Rule | None = None


@dataclass
class FaultInjector:
    seed: int = 0
    rules: list[Rule] = field(default_factory=list)
    injected: Counter[str] = field(default_factory=Counter)  # "kind service.Operation" -> times
    calls: list[str] = field(default_factory=list)  # "service.Operation" of every call made, in order

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)
        self._local = threading.local()
        self._lock = threading.Lock()

    def add(self, kind: str, service: str = "*", operation: str = "*", **options: Any) -> Rule:
        rule = Rule(kind, service, operation, **options)
        self.rules.append(rule)
        return rule

    def clear(self) -> None:
        self.rules.clear()

    def attach(self, client: Any) -> Any:
        """Install the hooks on ``client`` (returned, for chaining)."""
        service = client.meta.service_model.service_name
        protocol = client.meta.service_model.protocol
        events = client.meta.events
        events.register_first("provide-client-params", self._begin(service))
        events.register_first("before-call", self._before_call)
        events.register_first("before-send", self._before_send(client, service, protocol))
        events.register_first("after-call", self._after_call)
        return client

    # -- the hooks ---------------------------------------------------------------------------------

    def _begin(self, service: str) -> Callable[..., None]:
        def hook(params: dict[str, Any], model: Any, **_: Any) -> None:
            call = _Call(service, model.name, dict(params))
            self._local.call = call
            with self._lock:
                self.calls.append(f"{service}.{model.name}")
                call.rule = self._pick(call, ("crash-before", "crash-after", "conflict"))

        return hook

    def _before_call(self, **_: Any) -> None:
        call = getattr(self._local, "call", None)
        if call is not None and call.rule is not None and call.rule.kind == "crash-before":
            self._count(call, call.rule)
            raise Crash(f"before {call.service}.{call.operation}")

    def _after_call(self, **_: Any) -> None:
        call = getattr(self._local, "call", None)
        if call is not None and call.rule is not None and call.rule.kind == "crash-after":
            self._count(call, call.rule)
            raise Crash(f"after {call.service}.{call.operation}")

    def _before_send(self, client: Any, service: str, protocol: str) -> Callable[..., Any]:
        def hook(request: Any, event_name: str = "", **_: Any) -> Any:
            if getattr(self._local, "bypass", False):
                return None
            call = getattr(self._local, "call", None)
            if call is None:
                return None
            rule = call.rule if call.rule is not None and call.rule.kind == "conflict" else None
            if rule is None:
                with self._lock:  # each HTTP attempt may meet its own fault
                    rule = self._pick(call, ("throttle", "server-error", "refuse", "timeout-before", "timeout-after"))
            if rule is None:
                return None
            self._count(call, rule)
            if rule.kind.startswith("timeout"):
                self._time_out(rule.kind, client, event_name, request)
            answered = request.url
            # This answer stands for the service's: no later hook may deliver the request (moto's
            # in-process one runs after this one and would apply it; it ignores an address not AWS's).
            request.url = "http://injected-fault.invalid/"
            if rule.kind == "conflict":
                return _error(answered, protocol, 400, "ConditionalCheckFailedException")
            if rule.kind == "refuse":
                return _error(answered, protocol, 400, rule.code or "ValidationException")
            if rule.kind == "throttle":
                return _error(answered, protocol, 400, rule.code or THROTTLE_CODES.get(service, "Throttling"))
            return _error(answered, protocol, 500, rule.code or SERVER_CODES.get(service, "InternalFailure"))

        return hook

    def _time_out(self, kind: str, client: Any, event_name: str, request: Any) -> None:
        if kind == "timeout-before":
            raise ConnectTimeoutError(endpoint_url=request.url)
        self._deliver(client, event_name, request)
        raise ReadTimeoutError(endpoint_url=request.url)

    def _deliver(self, client: Any, event_name: str, request: Any) -> None:
        """The request reaches the service: moto's in-process hook, or the real HTTP send to moto server."""
        self._local.bypass = True
        try:
            responses = client.meta.events.emit(event_name, request=request)
            if not any(r for _h, r in responses if r is not None):
                client._endpoint.http_session.send(request)
        finally:
            self._local.bypass = False

    # -- choosing ----------------------------------------------------------------------------------

    def _pick(self, call: _Call, kinds: tuple[str, ...]) -> Rule | None:
        for rule in self.rules:
            if rule.kind not in kinds or not _matches(rule, call):
                continue
            rule.seen += 1
            if rule.seen <= rule.skip or (rule.times is not None and rule.fired >= rule.times):
                continue
            if rule.rate < 1.0 and self._random.random() >= rule.rate:
                continue
            rule.fired += 1
            return rule
        return None

    def _count(self, call: _Call, rule: Rule) -> None:
        key = f"{rule.kind} {call.service}.{call.operation}"
        with self._lock:
            self.injected[key] += 1
        logger.warning("fault injected: %s", key)


def _matches(rule: Rule, call: _Call) -> bool:
    return (
        rule.service in ("*", call.service)
        and rule.operation in ("*", call.operation)
        and (rule.when is None or rule.when(call.params))
    )


def _error(url: str, protocol: str, status: int, code: str) -> AWSResponse:
    """An error answer as ``protocol`` writes one."""
    headers = {"x-amzn-RequestId": "injected-fault", "x-amzn-ErrorType": code}
    if protocol in ("json", "rest-json"):
        headers["Content-Type"] = "application/x-amz-json-1.0"
        body = json.dumps({"__type": code, "message": "injected fault"}).encode()
    elif protocol == "query":
        headers["Content-Type"] = "text/xml"
        body = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>injected fault</Message>"
            "</Error><RequestId>injected-fault</RequestId></ErrorResponse>"
        ).encode()
    else:  # rest-xml (S3)
        headers["Content-Type"] = "application/xml"
        body = f"<Error><Code>{code}</Code><Message>injected fault</Message></Error>".encode()
    return AWSResponse(url, status, headers, _Raw(body))


class _Raw:
    """The raw stream an ``AWSResponse`` reads its body from."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body

    def read(self, *_: Any) -> bytes:
        body, self._body = self._body, b""
        return body


def from_spec(spec: str, seed: int = 0) -> FaultInjector:
    """``kind:service:operation:rate`` rules, comma-separated (``GATEWAY_FAULTS``)."""
    injector = FaultInjector(seed=seed)
    for part in filter(None, (p.strip() for p in spec.split(","))):
        kind, service, operation, rate = (part.split(":") + ["*", "*", "1"])[:4]
        if kind.startswith("crash"):
            raise ValueError("crashes are for in-process tests, not for a running server")
        injector.add(kind, service or "*", operation or "*", rate=float(rate), times=None)
    return injector


def client_wrap(settings: Settings) -> Callable[[Any], Any] | None:
    """GATEWAY_FAULTS as what each of the composition root's clients passes through (``Clients.wrap``): one
    injector, seeded with GATEWAY_FAULTS_SEED. Only against a local endpoint (AWS_ENDPOINT_URL on 127.0.0.1)."""
    if not settings.faults:
        return None
    if not is_local(settings.endpoint_url):
        raise ValueError("GATEWAY_FAULTS is for the local stack only (AWS_ENDPOINT_URL on 127.0.0.1)")
    return from_spec(settings.faults, settings.faults_seed).attach
