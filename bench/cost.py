"""What one contact costs in AWS calls and DynamoDB capacity, and what a cold start costs.

Capacity is computed from the items' sizes with DynamoDB's own rules (writes in 1 KB units, strongly
consistent reads in 4 KB units), not taken from moto's ``ConsumedCapacity``, which ignores item size.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
AWS_ENV = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1"}
PROVIDER_CALLS = {("sns", "Publish"), ("sesv2", "SendEmail")}


def attribute_size(value: dict[str, Any]) -> int:
    """DynamoDB's size of one attribute value (strings and binaries by bytes, numbers about their digits)."""
    ((kind, raw),) = value.items()
    if kind == "S":
        return len(raw.encode())
    if kind == "N":
        return math.ceil(len(raw.lstrip("-").replace(".", "")) / 2) + 1
    if kind == "B":
        return len(raw)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind in ("SS", "NS", "BS"):
        return sum(attribute_size({kind[0]: v}) for v in raw)
    if kind == "L":
        return 3 + sum(attribute_size(v) + 1 for v in raw)
    return 3 + sum(len(k.encode()) + attribute_size(v) + 1 for k, v in raw.items())  # M


def item_size(item: dict[str, Any]) -> int:
    return sum(len(name.encode()) + attribute_size(value) for name, value in item.items())


class Meter:
    """Every call a client makes, with the read and write units its items cost."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def attach(self, client: Any) -> None:
        service = client.meta.service_model.service_name

        def keep(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
            context["bench_params"] = dict(params)  # the call's own parameters, for after-call

        def seen(model: Any, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
            self._seen(service, model.name, context.get("bench_params", {}), parsed)

        client.meta.events.register("provide-client-params.*.*", keep)
        client.meta.events.register("after-call.*.*", seen)

    def _seen(self, service: str, name: str, params: dict[str, Any], parsed: dict[str, Any]) -> None:
        entry: dict[str, Any] = {
            "service": service,
            "call": name,
            "table": params.get("TableName") or next(iter(params.get("RequestItems") or {}), None),
            "rcu": 0.0,
            "wcu": 0.0,
        }
        if name in ("PutItem",):
            entry["wcu"] = math.ceil(item_size(params["Item"]) / 1024)
        elif name in ("UpdateItem", "DeleteItem"):
            entry["wcu"] = max(1, math.ceil(item_size(parsed.get("Attributes") or params.get("Key", {})) / 1024))
        elif name == "GetItem":
            size = item_size(parsed.get("Item") or {})
            units = max(1, math.ceil(size / 4096))
            entry["rcu"] = units if params.get("ConsistentRead") else units / 2
        elif name == "BatchGetItem":  # strongly consistent here; each item read is rounded up on its own
            items = [i for found in (parsed.get("Responses") or {}).values() for i in found]
            entry["rcu"] = sum(max(1, math.ceil(item_size(i) / 4096)) for i in items) or 1
        elif name == "Query":
            size = sum(item_size(i) for i in parsed.get("Items", []))
            units = max(1, math.ceil(size / 4096))
            entry["rcu"] = units if params.get("ConsistentRead") else units / 2
        self.calls.append(entry)

    def clear(self) -> None:
        self.calls.clear()

    def units(self) -> tuple[float, float]:
        return sum(c["rcu"] for c in self.calls), sum(c["wcu"] for c in self.calls)


@contextmanager
def gateway_in_process(audit_append: str = "stream") -> Iterator[Any]:
    """The composition root over moto in-process, with a meter on every client it builds."""
    os.environ.update(AWS_ENV)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    from moto import mock_aws

    from chalicelib import policy_store
    from chalicelib.bootstrap import Clients, bootstrap
    from chalicelib.settings import Settings
    from tools.local import provision

    with mock_aws():
        settings = Settings(
            unsubscribe_secret="bench-only", address_index_secret="bench-only", audit_append=audit_append
        )
        clients = Clients(settings)
        provision.ensure_all(clients, settings)
        gateway = bootstrap(settings=settings, clients=clients, policies=policy_store.load_sources())
        meter = Meter()
        for client in (clients.dynamodb, clients.sns, clients.sesv2, clients.sqs):
            meter.attach(client)
        yield gateway, meter


def _one_sent_sms(audit_append: str) -> dict[str, Any]:
    from chalice.test import Client

    import app as gateway_app
    from bench.support import KeyRing, utc
    from chalicelib.domain.access import Role
    from tools.local.ledger_stream import LedgerStream

    with gateway_in_process(audit_append) as (gateway, meter), gateway_app.using(gateway):
        gateway.clock = lambda: utc(2026, 3, 2, 17, 0)
        key = KeyRing(gateway, "bench").key(Role.SUBMITTER)
        stream = LedgerStream(gateway)
        stream.records()  # the key's own audit events are not the contact's
        body = {
            "debtor_id": "d-1",
            "account_id": "a-1",
            "channel": "sms",
            "to": "+14045550100",
            "location": {"country": "US", "subdivision": "GA"},
            "message": {"body": "Your payment is overdue. Reply STOP to opt out."},
        }
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}", "Idempotency-Key": "b-1"}
        meter.clear()
        with Client(gateway_app.app) as client:
            answer = json.loads(client.http.post("/v1/contacts", headers=headers, body=json.dumps(body)).body)
        assert answer["status"] == "sent", answer
        names = {v: k for k, v in gateway.settings.model_dump().items() if isinstance(v, str)}

        def listed(calls: list[dict[str, Any]], before: bool = True) -> list[str]:
            out = []
            for call in calls:
                if (call["service"], call["call"]) in PROVIDER_CALLS:
                    before = False
                table = names.get(call["table"] or "", "").removesuffix("_table")
                out.append(
                    f"{call['service']}.{call['call']}" + (f" ({table})" if table else "") + (" *" if before else "")
                )
            return out

        request_calls = [c for c in meter.calls if c["table"] != gateway.settings.keys_table]
        authorizer = len(meter.calls) - len(request_calls)
        meter.clear()
        if audit_append == "stream":
            stream.drain()
        return {
            "request": listed(request_calls),
            "authorizer": authorizer,
            "appender": listed(meter.calls, before=False),
        }


def calls_per_sent_contact() -> dict[str, Any]:
    """Every AWS call one sent SMS costs through ``POST /v1/contacts`` with an ``Idempotency-Key``: in the
    contact function (those before the provider's call marked), in the authorizer when API Gateway's cache
    misses, and in the audit appender off the request path; with AUDIT_APPEND=stream and =inline."""
    stream, inline = _one_sent_sms("stream"), _one_sent_sms("inline")
    return {
        "aws_calls_per_sent_contact": len(stream["request"]),
        "aws_calls_listed": stream["request"],
        "aws_calls_authorizer_uncached": stream["authorizer"],
        "aws_calls_appender_per_sent_contact": len(stream["appender"]),
        "aws_calls_appender_listed": stream["appender"],
        "aws_calls_per_sent_contact_inline": len(inline["request"]),
    }


def capacity_ratio(long_events: int = 10_000, short_events: int = 10) -> dict[str, Any]:
    """Read and write units of one decision for a person with ``long_events`` past audit events over one
    with ``short_events``, both with the same recent activity (the last ``short_events`` events, inside the
    longest policy window); the older history lies before it. Built through the use case itself."""
    from bench.support import make_request, utc
    from chalicelib.services.contacts import submit_contact
    from tools.local.ledger_stream import LedgerStream

    now = utc(2026, 3, 2, 17, 0)
    recent = [now - timedelta(hours=2 * i + 1) for i in range(math.ceil(short_events / 3))][::-1]
    with gateway_in_process() as (gateway, meter):
        stream = LedgerStream(gateway)  # the appender, the audit table's one writer (docs/decisions/0029)
        window = timedelta(days=gateway.policies.longest_window_days + 3)
        old = (long_events - short_events) // 3
        first_day = now - window - timedelta(days=old // 3 + 1)
        for i in range(old):  # three texts a day, at 13:00, 16:00 and 19:00 UTC (day time in Atlanta)
            at = first_day.replace(hour=13) + timedelta(days=i // 3, hours=3 * (i % 3))
            submit_contact(make_request(debtor_id="long"), gateway.deps, at)
            if i % 3 == 2:  # a day's worth: the stream's appender (seconds in AWS) trims the outbox
                stream.drain()
        for debtor in ("long", "short"):
            for at in recent:
                submit_contact(make_request(debtor_id=debtor), gateway.deps, at)
        stream.drain()
        stored = {d: len(gateway.deps.audit.for_person("local", d)) for d in ("long", "short")}
        figures = {}
        for debtor in ("long", "short"):
            meter.clear()
            submit_contact(make_request(debtor_id=debtor), gateway.deps, now)
            figures[debtor] = (len(meter.calls), *meter.units())
    (long_calls, long_r, long_w), (short_calls, short_r, short_w) = figures["long"], figures["short"]
    return {
        "audit_events_stored": stored,
        "capacity_units_per_decision_long": long_r + long_w,
        "capacity_units_per_decision_short": short_r + short_w,
        "capacity_ratio_10k_vs_10": round((long_r + long_w) / (short_r + short_w), 3),
        "aws_calls_per_decision_long_vs_short": [long_calls, short_calls],
    }


COLD_APP = """
import time; t = time.perf_counter()
import app
from datetime import datetime, UTC
from chalicelib.domain import engine
from chalicelib.domain.model import ContactRequest
g = app.runtime()
request = ContactRequest(tenant="t", debtor_id="d", account_id="a", channel="sms", to="+14045550100",
                         location={"country": "US", "subdivision": "GA", "postal_code": "30303"},
                         message={"body": "Reply STOP to opt out."})
engine.evaluate(request, [], g.policies, datetime(2026, 3, 2, 17, tzinfo=UTC))
print(time.perf_counter() - t)
"""
COLD_BOTO = """
import time; t = time.perf_counter()
import boto3; boto3.client("dynamodb", region_name="us-east-1")
print(time.perf_counter() - t)
"""


# Each function's handler as Lambda loads it: ``app`` (every function's handler is ``app.<name>``), the runtime,
# and what the handler imports on its first event; then the same handler's own module alone, without ``app``
# (what a package per function would load). A PDF export is the export worker's heaviest first event.
COLD_FUNCTION = """
import time; t = time.perf_counter()
{imports}
print(time.perf_counter() - t)
"""
FUNCTIONS: dict[str, tuple[str, str]] = {
    "api": ("import app; app.runtime()", "import chalicelib.http, chalicelib.bootstrap"),
    "authorizer": ("import app; app.runtime()", "import chalicelib.services.keys, chalicelib.bootstrap"),
    "dispatch_worker": ("import app; app.runtime()", "import chalicelib.entrypoints.queues, chalicelib.bootstrap"),
    "export_worker": (
        "import app; app.runtime(); import chalicelib.services.report_pdf",
        "import chalicelib.entrypoints.queues, chalicelib.bootstrap, chalicelib.services.report_pdf",
    ),
    "batch_worker": (
        "import app; app.runtime(); import chalicelib.entrypoints.batch_worker",
        "import chalicelib.entrypoints.batch_worker, chalicelib.bootstrap",
    ),
    "audit_stream": ("import app; app.runtime()", "import chalicelib.entrypoints.audit_appender, chalicelib.bootstrap"),
    "inbound_sms": ("import app; app.runtime()", "import chalicelib.entrypoints.topics, chalicelib.bootstrap"),
}


def _fresh_in(code: str, root: Path) -> float:
    """``code`` in a fresh process importing the gateway from ``root``, which nothing may write to."""
    env = {**os.environ, **AWS_ENV, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": str(root)}
    out = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def _fresh(code: str) -> float:
    return _fresh_in(code, ROOT)


def _median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def cold_init_ratio(runs: int = 5) -> dict[str, Any]:
    """Median fresh-process time of importing ``app`` and making its first decision, over importing boto3
    and building one client; alternated in the same run. Then each function's handler, through ``app`` and
    alone, over the same boto3 figure (``cold_init_ratio_<function>``, ``cold_init_ratio_<function>_alone``)."""
    apps, botos = [], []
    for _ in range(runs):
        apps.append(_fresh(COLD_APP))
        botos.append(_fresh(COLD_BOTO))
    app_s, boto_s = _median(apps), _median(botos)
    figures: dict[str, Any] = {
        "cold_init_s_app": round(app_s, 3),
        "cold_init_s_boto3": round(boto_s, 3),
        "cold_init_ratio": round(app_s / boto_s, 2),
    }
    for name, (through_app, alone) in FUNCTIONS.items():
        via, own = [], []
        for _ in range(max(3, runs // 2)):
            via.append(_fresh(COLD_FUNCTION.format(imports=through_app)))
            own.append(_fresh(COLD_FUNCTION.format(imports=alone)))
        figures[f"cold_init_ratio_{name}"] = round(_median(via) / boto_s, 2)
        figures[f"cold_init_ratio_{name}_alone"] = round(_median(own) / boto_s, 2)
    return figures


def cold_packaged(runs: int = 7) -> dict[str, Any]:
    """A cold start as Lambda runs it: ``COLD_APP`` from the unpacked deployment zip (the template-only
    package: app.py and chalicelib; third-party packages from the virtualenv, compiled), with the zip's
    bytecode and with its ``__pycache__`` removed (what a zip without bytecode costs: /var/task is
    read-only, so every instance compiles). CPU seconds of the process, median, alternated."""
    import shutil
    import tempfile
    import zipfile

    from tools.infra.package import template_only

    code = COLD_APP.replace("time.perf_counter", "time.process_time")
    with tempfile.TemporaryDirectory() as scratch:
        template_only(Path(scratch) / "out")
        with_bytecode, source_only = Path(scratch) / "bytecode", Path(scratch) / "source"
        for root in (with_bytecode, source_only):
            with zipfile.ZipFile(Path(scratch) / "out" / "deployment.zip") as bundle:
                bundle.extractall(root)
        for cache in list(source_only.rglob("__pycache__")):
            shutil.rmtree(cache)
        compiled, source = [], []
        for _ in range(runs):
            compiled.append(_fresh_in(code, with_bytecode))
            source.append(_fresh_in(code, source_only))
    return {
        "cold_init_cpu_s_packaged_bytecode": round(_median(compiled), 3),
        "cold_init_cpu_s_packaged_source": round(_median(source), 3),
    }


def deployment_zip() -> dict[str, Any]:
    """The deployment zip's own code (the template-only package: app.py, chalicelib, no third-party wheels),
    in bytes and files: what every function instance unpacks, tools excluded (docs/decisions/0019)."""
    import tempfile
    import zipfile

    from tools.infra.package import template_only

    with tempfile.TemporaryDirectory() as out:
        template_only(Path(out))
        path = Path(out) / "deployment.zip"
        with zipfile.ZipFile(path) as bundle:
            names = [i.filename for i in bundle.infolist() if not i.is_dir()]
        return {"deployment_zip_bytes": path.stat().st_size, "deployment_zip_files": len(names)}


def main() -> None:
    started = time.perf_counter()
    print(json.dumps({**calls_per_sent_contact(), **cold_init_ratio(), **capacity_ratio(1000, 10)}, indent=2))
    print(f"{time.perf_counter() - started:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
