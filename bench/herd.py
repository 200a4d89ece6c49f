"""``make bench ONLY=herd``: the 08:00 herd on the local stack, dispatched by parallel worker processes.

Texts to ``HERD_PEOPLE`` people (5,000) are deferred by quiet hours to one instant, 08:00 New York time. The
stack runs on a chosen clock (GATEWAY_CLOCK_AT's offset), half a minute before it: its schedule ticks every
two seconds (ticks overlap: each enqueues every shard), and ``HERD_WORKERS`` (4) processes take the dispatch
queue, as parallel Lambda instances of ``dispatch_worker`` would. It reports how long the herd took to leave,
its p99 lag behind 08:00, and the three counters that must be 0: sent twice, sent early, missing.

One moto server answers one request at a time, so the drain here proves exactly-once, not throughput: the
figure for 1,000,000 people in AWS is modelled (``modeled_drain_s``) from the calls a dispatch makes.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import statistics
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

HERD_AT = datetime(2026, 3, 11, 12, 0, tzinfo=UTC)  # Wednesday 08:00 EDT
SEEDED_AT = HERD_AT - timedelta(hours=2)  # 06:00 EDT: every text is deferred to 08:00
TENANT = "herd"


def request_for(index: int, marker: str) -> Any:
    from chalicelib.domain.model import ContactRequest

    return ContactRequest(
        tenant=TENANT,
        debtor_id=f"{marker}-{index}",
        account_id=f"a-{index}",
        channel="sms",
        to=f"+1404{5550000 + index:07d}",
        location={"country": "US", "subdivision": "GA"},
        message={"body": f"{marker}-{index}: your payment is overdue. Reply STOP to opt out."},
    )


def seed(deps: Any, people: int, marker: str, threads: int = 4) -> list[str]:
    """``people`` texts decided at 06:00: each scheduled for 08:00. Returns the debtor ids."""
    from chalicelib.services.contacts import submit_contact

    def one(index: int) -> str:
        result = submit_contact(request_for(index, marker), deps, SEEDED_AT)
        assert result is not None and result.status == "scheduled" and result.decision.not_before == HERD_AT, result
        return f"{marker}-{index}"

    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(one, range(people)))


def worker(env: dict[str, str], until: float) -> int:
    """One dispatch worker process: its own gateway and clients, on the stack's clock, until ``until``."""
    from chalicelib.bootstrap import bootstrap
    from chalicelib.services import dispatch
    from chalicelib.settings import Settings

    os.environ.update(env)
    gateway = bootstrap(settings=Settings.from_env(env))
    sqs, handled = gateway.clients.sqs, 0
    url = sqs.get_queue_url(QueueName=gateway.settings.dispatch_queue)["QueueUrl"]
    while time.time() < until:
        try:
            messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        except Exception:  # noqa: BLE001 - a busy moto server: ask again, as Lambda's poller would
            continue
        if not messages:
            time.sleep(0.2)
            continue
        done = []
        for message in messages:
            try:  # a message that fails stays on the queue and comes back, as with Lambda's SQS trigger
                dispatch.handle_message(
                    json.loads(message["Body"]), gateway.deps, gateway.dispatch_queue, gateway.now()
                )
            except Exception:  # noqa: BLE001
                continue
            done.append((message["MessageId"], message["ReceiptHandle"]))
            handled += 1
        try:
            gateway.dispatch_queue.delete_many(done)
        except Exception:  # noqa: BLE001 - they come back and find their people sent
            pass
    return handled


def tally(gateway: Any, endpoint: str, debtors: list[str], marker: str) -> dict[str, Any]:
    """Per person: sent once, at or after 08:00, and when."""
    from chalicelib.domain.model import Result
    from tools.local.motoserver import SENT_PATH

    sent = Counter(m["body"].split(":", 1)[0] for m in requests.get(endpoint + SENT_PATH, timeout=60).json())
    lags, early, missing = [], 0, 0
    for debtor in debtors:
        records = [r for r in gateway.deps.ledgers.get(TENANT, debtor).history if r.result is Result.SENT]
        missing += not records
        early += sum(1 for r in records if r.at < HERD_AT)
        lags += [(r.at - HERD_AT).total_seconds() for r in records]
    return {
        "herd_sent_twice": sum(sent[d] - 1 for d in debtors if sent[d] > 1),
        "herd_sent_early": early,
        "herd_missing": missing,
        "lags": lags,
    }


def appended(gateway: Any, timeout: float) -> None:
    """Wait until the stack's stream appender has put every committed event in the audit table."""
    deadline = time.time() + timeout
    while time.time() < deadline and gateway.deps.ledgers.with_outbox(datetime.now(UTC) + timedelta(days=365), 1):
        time.sleep(1)


def sent_count(endpoint: str, marker: str) -> int:
    from tools.local.motoserver import SENT_PATH

    return sum(1 for m in requests.get(endpoint + SENT_PATH, timeout=60).json() if m["body"].startswith(marker))


def drain(stack: Any, debtors: list[str], marker: str, workers: int, timeout: float) -> dict[str, Any]:
    """Start the workers (the stack's own schedule ticks), wait until every person was sent or ``timeout``."""
    gateway, env = stack.gateway(), stack.env()
    until = time.time() + timeout
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        jobs = pool.starmap_async(worker, [(env, until)] * workers)
        while time.time() < until and sent_count(stack.endpoint, marker) < len(debtors):
            time.sleep(2)  # one request for moto's list: reading every ledger here would slow the workers
        stack.stop_schedule()
        pool.terminate()  # the tally reads every ledger: alone on the moto server, not beside idle pollers
        del jobs
    return tally(gateway, stack.endpoint, debtors, marker)


# The model of 1,000,000 people due at one instant in AWS (bench/README.md gives the reasoning). Per-call
# latencies are DynamoDB's and SQS's typical single-digit milliseconds inside a region.
MODEL = {
    "people": 1_000_000,
    "dispatch_concurrency": 1000,  # ScalingConfig.MaximumConcurrency of the dispatch worker's event source
    "shards": 768,
    # read the ledgers, commit, note the recipient on the number's ledger, take a pacing slot, record the
    # outcome: five DynamoDB calls of ~8 ms (the tenant's settings are cached a minute), an SNS Publish ~25 ms
    "ms_per_person": 5 * 8 + 25,
    "ms_per_shard_page": 20,  # a Query page of up to 1 MB (~6,000 keys) of one shard
    "ms_per_enqueue_call": 15,  # SendMessageBatch of ten messages of ten people
}


def modeled_drain_s(model: dict[str, int] = MODEL) -> float:
    per_shard = model["people"] / model["shards"]
    enqueue_s = (per_shard / 6000 * model["ms_per_shard_page"] + per_shard / 100 * model["ms_per_enqueue_call"]) / 1000
    # shard messages run in parallel (512 < concurrency); people messages then fill the workers
    send_s = model["people"] * model["ms_per_person"] / 1000 / model["dispatch_concurrency"]
    return round(enqueue_s + send_s, 1)


def run(
    people: int = int(os.environ.get("HERD_PEOPLE", "5000")), workers: int = int(os.environ.get("HERD_WORKERS", "4"))
) -> dict[str, Any]:
    from tools.local.stack import LocalStack, free_port

    marker = f"herd{int(time.time())}"
    offset = (HERD_AT - timedelta(seconds=30) - datetime.now(UTC)).total_seconds()
    logs = Path(tempfile.mkdtemp(prefix="herd-"))
    stack = LocalStack(moto_port=free_port(), port=free_port(), dispatch_interval=0, log_dir=logs, clock_offset=offset)
    stack.dispatch_workers = 0
    with stack:
        debtors = seed(stack.gateway().deps, people, marker)
        appended(stack.gateway(), 600)  # else the workers' sweep repairs the seed's events beside the appender
        stack.clock_offset = (HERD_AT - timedelta(seconds=10) - datetime.now(UTC)).total_seconds()
        stack.dispatch_interval = 2.0
        stack.start_schedule()
        done = drain(stack, debtors, marker, workers, timeout=max(300.0, people / 5))
    lags = sorted(done.pop("lags"))
    return {
        "herd_people": people,
        "herd_workers": workers,
        "herd_drain_s": round(max(lags), 1) if lags else None,  # from 08:00 to the last text of the herd
        "herd_p99_lag_s": round(lags[min(len(lags) - 1, int(0.99 * len(lags)))], 1) if lags else None,
        "herd_median_lag_s": round(statistics.median(lags), 1) if lags else None,
        **done,
        "herd_modeled_drain_s_1m": modeled_drain_s(),
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
