"""``make soak``: the local stack under a mixed campaign with faults injected, then the invariant checker.

Several client processes post for ``SOAK_SECONDS`` (default 180): texts, emails, calls and their outcomes,
what-ifs and reads, bursts for a few hot debtors, duplicate ``Idempotency-Key``s, and STOP replies arriving
mid-flight through the inbound topic. Requests go to several ``chalice local`` processes (``SOAK_API_PROCESSES``),
each with its own AWS clients and caches, like separate Lambda instances, and each injecting faults into its
own AWS calls at the rates of ``SOAK_FAULTS`` (tools/local/faults.py). Only DynamoDB's conditions can keep a
cap here. Then the stack is given time to settle (the stream appender, the dispatcher), and
``check_invariants`` runs over everything, with moto's lists of sent messages.

It runs on a stack of its own in phases (``SOAK_SECONDS`` split across them): for each, every process of the
stack runs as if at the phase's instant (GATEWAY_CLOCK_AT's offset), chosen so that every pack's calling window
is open in at least one phase: China's morning, Europe, the US afternoon, Australia's morning. ``SOAK_AT``
runs one phase at that instant instead. So what it checks does not depend on the hour it runs. Per phase it
prints ``phase NAME at INSTANT``, ``calls permitted: N`` and ``conversations reported: N``; then error
rates by kind and p50/p99 latency, writes ``bench/soak.json``, and ends with ``requests served: N`` and
``invariant violations: N``. It exits 1 when
a violation is found, or when any answer was a 5xx other than 503.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import requests

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FAULTS = ",".join(
    (
        "throttle:dynamodb:*:0.03",
        "server-error:dynamodb:*:0.01",
        "timeout-after:dynamodb:PutItem:0.01",
        "conflict:dynamodb:PutItem:0.01",
        "throttle:sns:Publish:0.03",
        "timeout-before:sns:Publish:0.01",
        "timeout-after:sns:Publish:0.01",
        "server-error:sns:Publish:0.01",
        "throttle:sesv2:SendEmail:0.03",
        "timeout-after:sesv2:SendEmail:0.01",
    )
)
# Numbers in zones and places with their own rules (Massachusetts' 2 in 7 days, Australia's 3 a week, China's
# 3 connected calls a day), spread around the clock so that some are inside their hours whenever it runs.
PLACES = (
    ("+1404555{:04d}", {"country": "US", "subdivision": "GA"}),
    ("+1617555{:04d}", {"country": "US", "subdivision": "MA"}),
    ("+1213555{:04d}", {"country": "US", "subdivision": "CA"}),
    ("+6125550{:04d}", {"country": "AU", "subdivision": "NSW"}),
    ("+44207946{:04d}", {"country": "GB"}),
    ("+8610555{:05d}", {"country": "CN", "subdivision": "BJ"}),
)
HOT = 6  # debtors every client hits: bursts for the same person from many processes at once


@dataclass
class Tally:
    statuses: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)

    def merge(self, other: Tally) -> None:
        self.statuses.update(other.statuses)
        self.latencies += other.latencies
        self.outcomes.update(other.outcomes)


def number(debtor: int) -> str:
    pattern, _ = PLACES[debtor % len(PLACES)]
    return pattern.format(100 + debtor % 100) if "{:04d}" in pattern else pattern.format(10100 + debtor % 100)


def place(debtor: int) -> dict[str, str]:
    return PLACES[debtor % len(PLACES)][1]


def _body(rng: random.Random, debtor: int, channel: str) -> dict[str, Any]:
    body: dict[str, Any] = {"debtor_id": f"soak-{debtor}", "account_id": f"acct-{debtor % 7}", "channel": channel}
    body["location"] = place(debtor)
    if channel == "email":
        body["to"] = f"soak{debtor}@example.com"
        body["message"] = {"subject": "Your account", "body": "A reminder about your balance."}
    else:
        body["to"] = number(debtor)
        if channel == "sms":
            body["message"] = {"body": "Your payment is overdue. Reply STOP to opt out."}
    return body


def _client(  # noqa: C901 - one branch per kind of request in the campaign
    index: int, seed: int, deadline: float, urls: list[str], key: str, endpoint: str, topic: str
) -> Tally:
    """One client process: its own connections, its own random stream."""
    rng = random.Random(seed * 1000 + index)
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {key}"
    sns = boto3.client(
        "sns", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t"
    )
    tally, posted, calls = Tally(), [], []
    people = 40 + HOT

    def ask(method: str, path: str, body: Any = None, **headers: str) -> tuple[int, Any]:
        url = rng.choice(urls) + path
        started = time.perf_counter()
        try:
            answer = session.request(method, url, json=body, headers=headers, timeout=30)
        except requests.RequestException as exc:
            tally.statuses[f"connection:{type(exc).__name__}"] += 1
            return 0, None
        tally.latencies.append((time.perf_counter() - started) * 1000)
        tally.statuses[str(answer.status_code)] += 1
        try:
            return answer.status_code, answer.json()
        except ValueError:
            return answer.status_code, None

    while time.time() < deadline:
        debtor = rng.randrange(HOT) if rng.random() < 0.4 else HOT + rng.randrange(people - HOT) + 100 * index
        roll = rng.random()
        if roll < 0.40:
            body, idem = _body(rng, debtor, "sms"), str(uuid.uuid4())
            status, answer = ask("POST", "/v1/contacts", body, **{"Idempotency-Key": idem})
            posted.append((idem, body))
        elif roll < 0.50 and posted:
            idem, body = rng.choice(posted)  # a client retrying what it already sent
            status, answer = ask("POST", "/v1/contacts", body, **{"Idempotency-Key": idem})
        elif roll < 0.60:
            status, answer = ask(
                "POST", "/v1/contacts", _body(rng, debtor, "email"), **{"Idempotency-Key": str(uuid.uuid4())}
            )
        elif roll < 0.75:
            status, answer = ask(
                "POST", "/v1/contacts", _body(rng, debtor, "voice"), **{"Idempotency-Key": str(uuid.uuid4())}
            )
            if status == 200 and answer and answer.get("status") == "permitted":
                calls.append(answer["contact_id"])
                tally.outcomes["calls-permitted"] += 1
        elif roll < 0.83 and calls:
            result = rng.choice(("conversation", "unanswered", "voicemail", "not_connected"))
            status, answer = ask("POST", f"/v1/contacts/{calls.pop()}/outcome", {"result": result})
            if status == 200 and result == "conversation":
                tally.outcomes["conversations-reported"] += 1
        elif roll < 0.88:
            reply = {"originationNumber": number(debtor), "destinationNumber": "+18005550100", "messageBody": "STOP"}
            reply |= {"inboundMessageId": str(uuid.uuid4()), "messageKeyword": "STOP", "previousPublishedMessageId": ""}
            sns.publish(TopicArn=topic, Message=json.dumps(reply))
            tally.outcomes["stop-published"] += 1
            continue
        else:
            status, answer = ask("POST", "/v1/contacts/evaluate", _body(rng, debtor, "sms"))
        if 200 <= status < 300 and isinstance(answer, dict) and answer.get("status"):
            tally.outcomes[str(answer["status"])] += 1
    return tally


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1) if ordered else 0.0


def settle(gateway: Any, seconds: float) -> None:
    """Wait for the stack's appender and sweep to put every committed event in the audit table."""
    from tools import invariants

    deadline = time.time() + seconds
    while time.time() < deadline:
        pending = invariants.stuck_work(gateway.deps, datetime.now(UTC) + timedelta(days=1), timedelta(days=1))
        if not [v for v in pending if v.kind == "audit-pending"]:
            return
        time.sleep(1)


@dataclass(frozen=True)
class Phase:
    """The stack runs as if at ``at`` (GATEWAY_CLOCK_AT's offset) while the clients post."""

    name: str
    at: datetime


# A Wednesday and Thursday with no public holiday in any pack's country, in increasing order, so that the
# stack's clock only moves forward: each phase opens the calling window of some packs.
PHASES = (
    Phase("china-morning", datetime(2026, 3, 11, 1, 30, tzinfo=UTC)),  # 09:30 Beijing, 07:00 Delhi
    Phase("europe", datetime(2026, 3, 11, 10, 0, tzinfo=UTC)),  # 10:00 London, 18:00 Beijing
    Phase("us-afternoon", datetime(2026, 3, 11, 19, 0, tzinfo=UTC)),  # 15:00 New York, 12:00 Los Angeles
    Phase("australia-morning", datetime(2026, 3, 11, 23, 30, tzinfo=UTC)),  # 10:30 Sydney, Thursday
)


def phases_from_env() -> tuple[Phase, ...]:
    """``SOAK_AT``: one phase at that instant; otherwise every phase above."""
    at = os.environ.get("SOAK_AT")
    return (Phase("at", datetime.fromisoformat(at.replace("Z", "+00:00"))),) if at else PHASES


def _run_phase(stack: Any, phase: Phase, seconds: float, clients: int, api_processes: int, seed: int) -> Tally:
    """Point the stack's clock at the phase, start its API processes, let the clients post, stop them."""
    from chalicelib import resources
    from tools.local.stack import free_port

    stack.clock_offset = (phase.at - datetime.now(UTC)).total_seconds()
    spawned_from = len(stack.processes)
    try:
        urls = [stack.spawn_api(free_port()) for _ in range(api_processes)]
        topic = f"arn:aws:sns:us-east-1:123456789012:{resources.INBOUND_SMS_TOPIC}"
        deadline = time.time() + seconds
        key = stack.dev_keys["keys"]["submitter"]
        jobs = [(i, seed, deadline, urls, key, stack.endpoint, topic) for i in range(clients)]
        with multiprocessing.get_context("spawn").Pool(clients) as pool:
            tallies = pool.starmap(_client, jobs)
    finally:
        for process in stack.processes[spawned_from:]:
            process.terminate()
            process.wait(timeout=10)
        del stack.processes[spawned_from:]
    tally = Tally()
    for part in tallies:
        tally.merge(part)
    print(f"phase {phase.name} at {phase.at.isoformat().replace('+00:00', 'Z')}", flush=True)
    print(f"calls permitted: {tally.outcomes['calls-permitted']}", flush=True)
    print(f"conversations reported: {tally.outcomes['conversations-reported']}", flush=True)
    return tally


def run(
    seconds: float = 180,
    clients: int = 4,
    api_processes: int = 3,
    seed: int = 7,
    faults: str = DEFAULT_FAULTS,
    out: Path | None = ROOT / "bench" / "soak.json",
    phases: tuple[Phase, ...] = PHASES,
) -> dict[str, Any]:
    """The soak on a stack of its own: every process of it (API, workers, dispatcher) runs on the phase's
    clock, so what it checks does not depend on the hour it runs."""
    from chalicelib.services import maintenance
    from tools import invariants
    from tools.local.motoserver import SENT_PATH
    from tools.local.stack import LocalStack, free_port

    logs = Path(tempfile.mkdtemp(prefix="soak-"))
    first = (phases[0].at - datetime.now(UTC)).total_seconds()
    stack = LocalStack(moto_port=free_port(), port=free_port(), dispatch_interval=2, log_dir=logs, clock_offset=first)
    stack.start()
    stack.api_env = {"GATEWAY_FAULTS": faults, "GATEWAY_FAULTS_SEED": str(seed)}
    started, tally, per_phase = stack.now(), Tally(), {}
    try:
        for phase in phases:
            part = _run_phase(stack, phase, seconds / len(phases), clients, api_processes, seed)
            tally.merge(part)
            per_phase[phase.name] = {"at": phase.at.isoformat(), **{k: part.outcomes[k] for k in PHASE_COUNTS}}
        gateway = stack.gateway()
        time.sleep(2 * max(stack.dispatch_interval, 1) + 1)  # one more tick and its workers for what came due
        stack.stop_schedule()  # then nothing leaves while the checker compares the provider's list with the trail
        settle(gateway, 90)
        sent = [invariants.SentMessage(**m) for m in requests.get(stack.endpoint + SENT_PATH, timeout=60).json()]
        now = stack.now()
        report = invariants.check_invariants(
            maintenance.every_scope(gateway.keys),
            started - timedelta(days=1),
            now + timedelta(seconds=1),
            now,
            gateway.deps,
            sent,
            grace=timedelta(seconds=60),
            every_message=True,  # a stack of its own: every message the provider sent is the soak's
        )
    finally:
        stack.stop()
    return _result(_head(seconds, clients, api_processes, seed, faults, per_phase), tally, stack, report, sent, out)


PHASE_COUNTS = ("calls-permitted", "conversations-reported")


def _head(
    seconds: float, clients: int, api_processes: int, seed: int, faults: str, phases: dict[str, Any]
) -> dict[str, Any]:
    return {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": seconds,
        "client_processes": clients,
        "api_processes": api_processes,
        "seed": seed,
        "faults": faults,
        "phases": phases,
    }


def _result(
    head: dict[str, Any], tally: Tally, stack: Any, report: Any, sent: list[Any], out: Path | None
) -> dict[str, Any]:
    injected: Counter[str] = Counter()
    for log in stack.log_dir.glob("chalice-*.log"):
        for line in log.read_text(errors="replace").splitlines():
            if "fault injected: " in line:
                injected[line.split("fault injected: ", 1)[1].split('"')[0].strip()] += 1
    served = sum(n for status, n in tally.statuses.items() if not status.startswith("connection"))
    total = sum(tally.statuses.values())
    kinds = Counter(v.kind for v in report.violations)
    result = {
        **head,
        "requests_served": served,
        "error_rates": {k: round(n / total, 4) for k, n in sorted(tally.statuses.items())} if total else {},
        "answers": dict(sorted(tally.statuses.items())),
        "outcomes": dict(sorted(tally.outcomes.items())),
        "latency_ms": {"p50": _percentile(tally.latencies, 0.5), "p99": _percentile(tally.latencies, 0.99)},
        "faults_injected": dict(sorted(injected.items())),
        "people_checked": report.people,
        "contacts_checked": report.contacts,
        "messages_sent": len(sent),
        "calls_without_reported_outcome": len(report.unreported_calls),
        "violations": dict(kinds),
        "violation_details": [v.to_json() for v in report.violations[:20]],
        "invariant_violations": len(report.violations),
    }
    if out is not None:
        out.write_text(json.dumps(result, indent=2, default=str) + "\n")
    return result


def print_result(result: dict[str, Any]) -> None:
    print(
        f"soak: {result['seconds']:.0f} s, {result['client_processes']} client processes, "
        f"{result['api_processes']} API processes, seed {result['seed']}"
    )
    print(f"faults: {result['faults']}")
    print("answers by kind (share of requests):")
    for kind, n in result["answers"].items():
        print(f"  {kind:>24}: {n:7d}  {result['error_rates'][kind]:.2%}")
    print(f"faults injected: {sum(result['faults_injected'].values())} {result['faults_injected']}")
    print(f"outcomes: {result['outcomes']}")
    print(f"latency: p50 {result['latency_ms']['p50']} ms, p99 {result['latency_ms']['p99']} ms")
    print(
        f"checked: {result['people_checked']} people, {result['contacts_checked']} contacts, "
        f"{result['messages_sent']} messages the provider sent"
    )
    for violation in result["violation_details"]:
        print(f"  violation: {violation}")
    print(f"requests served: {result['requests_served']}")
    print(f"invariant violations: {result['invariant_violations']}")


def main() -> int:
    result = run(
        seconds=float(os.environ.get("SOAK_SECONDS", "180")),
        clients=int(os.environ.get("SOAK_CLIENTS", "4")),
        api_processes=int(os.environ.get("SOAK_API_PROCESSES", "3")),
        seed=int(os.environ.get("SOAK_SEED", "7")),
        faults=os.environ.get("SOAK_FAULTS", DEFAULT_FAULTS),
        phases=phases_from_env(),
    )
    print_result(result)
    broken = [k for k in result["answers"] if k.startswith("5") and k != "503"]
    return 1 if result["invariant_violations"] or broken else 0


if __name__ == "__main__":
    sys.exit(main())
