"""``make bench``: measurements as ratios within one run (this machine is noisy), written to results.json.

- ``engine_decisions_per_s``: pure ``evaluate`` on one core, us-federal, a 50-record voice history.
- ``engine_decisions_per_s_mix``: the same over 1,000 distinct requests, histories and instants across every
  pack (bench/engine_cases.py), cycled.
- ``local_decision_ratio_100k_vs_empty``: median latency of ``POST /v1/contacts`` on the local stack
  (chalice local + moto server) with 100,000 audit events stored, over the same with none.
- ``e2e_overhead_ratio``: that median over a bare SNS ``Publish`` to the same moto server.
- ``batch_contacts_per_s``: examples/campaign.jsonl through the batch path of the local stack.
- ``aws_calls_per_sent_contact``, ``capacity_ratio_10k_vs_10``, ``cold_init_ratio``: bench/cost.py.
- ``reply_opt_out_recall``, ``reply_false_opt_out_rate``: bench/replies.py, on the labelled replies.
- ``export_peak_memory_ratio_100k_vs_10k``: peak memory (tracemalloc) of building an export bundle of
  100,000 events over the same 1,000 chains with 10,000 events; and its events per second.
- ``window_minutes_kept_ratio`` (and ``_subdivision_only``), ``window_minutes_violating``: bench/window.py.
- ``content_recall``, ``content_false_positive_rate``: bench/content.py, on the labelled messages.
- ``replay_contacts_per_s``: policy impact replay of a generated 100,000-contact month, offline: bench/replay.py.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

from chalicelib import policy_store
from chalicelib.domain import engine
from chalicelib.domain.audit import Draft, link
from chalicelib.domain.events import EventType
from chalicelib.domain.model import ContactRecord, ContactRequest
from tools.local.stack import DEV_TENANT, LocalStack, free_port

HERE = Path(__file__).resolve().parent
SAMPLES = 150


def engine_decisions_per_s(seconds: float = 3.0) -> float:
    policies = policy_store.load_sources()
    now = datetime(2026, 3, 4, 16, 0, tzinfo=UTC)
    request = ContactRequest(
        tenant="t",
        debtor_id="d",
        account_id="a",
        channel="voice",
        to="+16175550100",
        location={"country": "US", "subdivision": "MA"},
    )
    history = [
        ContactRecord(
            contact_id=f"c{i}",
            at=now - timedelta(hours=3 * i + 1),
            channel="voice",
            account_id="a" if i % 2 else "b",
            result="unanswered",
        )
        for i in range(50)
    ]
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        engine.evaluate(request, history, policies, now)
        count += 1
    return count / (time.perf_counter() - started)


def engine_decisions_per_s_mix(seconds: float = 3.0, count: int = 1000) -> float:
    from bench import engine_cases

    policies, cases = engine_cases.every_pack_policies(), engine_cases.cases(count)
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        case = cases[done % count]
        engine.evaluate(case.request, case.history, policies, case.now, case.preferences)
        done += 1
    return done / (time.perf_counter() - started)


def engine_figures() -> dict[str, Any]:
    return {
        "engine_decisions_per_s": round(engine_decisions_per_s()),
        "engine_decisions_per_s_mix": round(engine_decisions_per_s_mix()),
    }


def _sms(debtor_id: str) -> dict[str, Any]:
    # Evaluate-and-commit with a zone where the window is open whatever the hour: the cost
    # measured is the decision path, sent or scheduled alike.
    return {
        "debtor_id": debtor_id,
        "account_id": "a-1",
        "channel": "email",
        "to": "bench@example.com",
        "location": {"country": "US", "timezone": "America/New_York"},
        "message": {"subject": "Reminder", "body": "Reply STOP to opt out."},
    }


def _median_ms(stack: LocalStack, debtor_id: str, samples: int) -> float:
    timings = []
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {stack.dev_keys['keys']['submitter']}"
        for _ in range(samples):
            started = time.perf_counter()
            response = session.post(f"{stack.url}/v1/contacts", json=_sms(debtor_id), timeout=30)
            timings.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
    return statistics.median(timings)


def _load_audit_events(stack: LocalStack, count: int) -> None:
    client = stack.clients().dynamodb
    table = stack.settings().audit_table
    now = datetime.now(UTC)
    for start in range(0, count, 25):
        person = f"history-{start // 1000}"
        drafts = [Draft(EventType.DECIDED, f"c-{start + i}", {"n": start + i}) for i in range(25)]
        events = link(drafts, tenant="local", debtor_id=person, seq=start % 1000, head="0" * 64, at=now)
        items = [
            {
                "PutRequest": {
                    "Item": {
                        "pk": {"S": f"local#{person}"},
                        "seq": {"N": str(e["seq"])},
                        "contact_key": {"S": f"local#{e['contact_id']}"},
                        "type": {"S": e["type"]},
                        "at": {"S": e["at"]},
                        "hash": {"S": e["hash"]},
                        "body": {"S": json.dumps(e)},
                    }
                }
            }
            for e in events
        ]
        client.batch_write_item(RequestItems={table: items})


def _publish_ms(stack: LocalStack, samples: int) -> float:
    """A bare SNS Publish of one text to the same moto server: the floor under one sent contact."""
    sns = stack.clients().sns
    timings = []
    for _ in range(samples):
        started = time.perf_counter()
        sns.publish(PhoneNumber="+14045550100", Message="Reply STOP to opt out.")
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def _campaign_10k(people: int = 4300) -> list[dict[str, Any]]:
    """examples/make_campaign.py's mix for ``people`` people (about 10,000 requests), ids of their own."""
    import random
    import sys as _sys

    _sys.path.insert(0, str(HERE.parent / "examples"))
    from make_campaign import requests_for

    rng = random.Random(10_000)
    # a person's repeated requests are one dict listed twice: each line gets a copy with a key of its own
    found = [dict(r) for p in range(people) for r in requests_for(rng, p)]
    for index, request in enumerate(found):
        request["debtor_id"] = f"b{request['debtor_id']}"
        request["idempotency_key"] = f"bench-10k-{index}"
    return found


def _batch_campaign(stack: LocalStack) -> dict[str, Any]:
    """A 10,000-contact campaign through the batch path of the running stack (opt-outs of every 17th person
    first, as ``make demo`` does), then the over-contact check over every person it reached."""
    from tools import invariants
    from tools.cli import campaign
    from tools.cli.client import GatewayClient

    submitter = GatewayClient(stack.url, stack.dev_keys["keys"]["submitter"])
    officer = GatewayClient(stack.url, stack.dev_keys["keys"]["compliance"])
    requests_ = _campaign_10k()
    people = sorted({r["debtor_id"] for r in requests_})
    for debtor in people[::17]:
        body = {"opt_outs": [{"channel": "sms"}], "reason": "bench: asked not to be texted", "actor": "bench"}
        officer._call("PUT", f"/v1/debtors/{debtor}/preferences", json=body)
    started, started_at = time.perf_counter(), datetime.now(UTC)
    batch_ids = campaign.submit(submitter, requests_, accept_valid=False)
    results = campaign.wait(submitter, batch_ids, len(requests_))
    seconds = time.perf_counter() - started
    statuses: dict[str, int] = {}
    for result in results:
        statuses[result["status"]] = statuses.get(result["status"], 0) + 1
    gateway = stack.gateway()
    while gateway.deps.ledgers.with_outbox(datetime.now(UTC), 1):  # the appender has every event
        time.sleep(0.5)
    window = (started_at - timedelta(minutes=1), datetime.now(UTC) + timedelta(minutes=1))
    checked = invariants.check_range(DEV_TENANT, *window, gateway.deps, gateway.audit)
    return {
        "batch_contacts": len(requests_),
        "batch_contacts_per_s": round(len(requests_) / seconds, 1),
        "batch_statuses": statuses,
        "batch_people_checked": checked.people,
        "batch_contacts_checked": checked.contacts,
        "batch_cap_violations": len(checked.violations),
    }


def batch_figures() -> dict[str, Any]:
    """The campaign through the batch path on a local stack of its own (``make bench ONLY=batch``)."""
    with LocalStack(moto_port=free_port(), port=free_port(), dispatch_interval=0) as stack:
        _median_ms(stack, "warm-up", 5)
        return _batch_campaign(stack)


def local_stack_figures(stored: int = 100_000) -> dict[str, Any]:
    with LocalStack(moto_port=free_port(), port=free_port(), dispatch_interval=0) as stack:
        _median_ms(stack, "warm-up", 20)
        empty = _median_ms(stack, f"bench-{uuid.uuid4().hex[:8]}", SAMPLES)
        publish = _publish_ms(stack, SAMPLES)
        _load_audit_events(stack, stored)
        full = _median_ms(stack, f"bench-{uuid.uuid4().hex[:8]}", SAMPLES)
    return {
        "median_ms_empty": round(empty, 2),
        f"median_ms_{stored}": round(full, 2),
        "local_decision_ratio_100k_vs_empty": round(full / empty, 3),
        "median_ms_bare_publish": round(publish, 2),
        "e2e_overhead_ratio": round(empty / publish, 1),
    }


def export_memory() -> dict[str, float]:
    # The exporter over stand-ins of its ports (bench/export_memory.py), so tracemalloc sees it alone.
    import tempfile

    from bench.export_memory import export

    with tempfile.TemporaryDirectory() as root:
        _, small = export(1000, Path(root) / "small", per_chain=10)
        started = time.perf_counter()
        _, large = export(1000, Path(root) / "large", per_chain=100)
        seconds = time.perf_counter() - started
    return {
        "export_peak_mib_10k": round(small / 2**20, 2),
        "export_peak_mib_100k": round(large / 2**20, 2),
        "export_peak_memory_ratio_100k_vs_10k": round(large / small, 3),
        "export_events_per_s_traced": round(100_000 / seconds),
    }


def _probe(*args: str) -> dict[str, Any]:
    import subprocess
    import sys as _sys

    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    env["AWS_DEFAULT_REGION"] = "us-east-1"
    out = subprocess.run(
        [_sys.executable, "-m", "bench.export_probe", *args],
        cwd=HERE.parent,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def export_figures(events: int = 100_000, chains: int = 10_000) -> dict[str, Any]:
    """The gateway's export of one day (``events`` of ``chains`` debtors) over a raw paginated Query of the
    same events' bodies, each in a fresh process against one moto server (bench/export_probe.py): time and
    peak RSS."""
    import subprocess
    import sys as _sys

    port = free_port()
    server = subprocess.Popen(
        [_sys.executable, "-m", "tools.local.motoserver", "-H", "127.0.0.1", "-p", str(port)],
        cwd=HERE.parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                requests.get(f"{url}/moto-api/", timeout=1)
                break
            except requests.RequestException:
                time.sleep(0.2)
        _probe("load", url, str(events), str(chains))
        first, export, second = _probe("query", url), _probe("export", url), _probe("query", url)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:  # a server holding 100,000 items can be slow to go
            server.kill()
    raw = (first["seconds"] + second["seconds"]) / 2
    return {
        "export_events": export["events"],
        "export_chains": chains,
        "export_s": export["seconds"],
        "export_raw_query_s": round(raw, 2),
        "export_ratio": round(export["seconds"] / raw, 2),
        "export_peak_rss_mb": export["peak_rss_mib"],
        "export_raw_query_peak_rss_mb": max(first["peak_rss_mib"], second["peak_rss_mib"]),
    }


def _parts() -> dict[str, Any]:
    """Each part of the bench by name, in the order a full run takes them (``make bench ONLY=name,...``)."""
    from bench import content, cost, heat, herd, replay, replies, window

    return {
        "engine": engine_figures,
        "calls": cost.calls_per_sent_contact,
        "capacity": cost.capacity_ratio,
        "cold": cost.cold_init_ratio,
        "cold_packaged": cost.cold_packaged,
        "zip": cost.deployment_zip,
        "local": local_stack_figures,
        "batch": batch_figures,
        "export_memory": export_memory,
        "export": export_figures,
        "replies": replies.reply_figures,
        "heat": heat.run,
        "heat_long_ids": heat.run_long_ids,
        "herd": herd.run,
        "window": window.run,
        "content": content.content_figures,
        "replay": replay.run,
    }


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="bench.run")
    parser.add_argument("--only", default="", help="comma-separated parts: " + ", ".join(_parts()))
    only = [p for p in parser.parse_args(argv).only.split(",") if p]
    parts = _parts()
    unknown = sorted(set(only) - set(parts))
    if unknown:
        parser.error(f"unknown part(s): {', '.join(unknown)}")
    path = HERE / "results.json"
    # A partial run updates the figures it measures and keeps the others.
    results: dict[str, Any] = json.loads(path.read_text()) if only and path.exists() else {}
    results["machine"] = f"{platform.machine()} {platform.processor() or ''} python {platform.python_version()}".strip()
    for name in only or list(parts):  # each figure is kept as soon as it is measured
        results.update(parts[name]())
        results["measured_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
        print(json.dumps(results, indent=2, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
