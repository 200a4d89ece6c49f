"""One side of ``export_ratio``, in a fresh process against a running moto server, so its peak RSS is its own.

    python -m bench.export_probe load URL EVENTS CHAINS   # the events of CHAINS debtors, one UTC day, full items
    python -m bench.export_probe export URL        # the gateway's export of that day (jsonl), as its worker runs it
    python -m bench.export_probe query URL         # a raw paginated Query of the same events' bodies (by_day)

Each prints one JSON line: events, seconds of the work itself (not imports and setup), peak RSS in MiB.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

TENANT = "bench"
DAY = datetime(2026, 3, 2, tzinfo=UTC)


def _gateway(url: str) -> Any:
    import boto3

    from chalicelib import policy_store
    from chalicelib.bootstrap import Clients, bootstrap
    from chalicelib.settings import Settings

    settings = Settings(endpoint_url=url)
    session = lambda: boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing")  # noqa: E731
    return bootstrap(settings, Clients(settings, session_factory=session), policy_store.load_sources())


def load(url: str, events: int, chains: int) -> dict[str, Any]:
    from boto3.dynamodb.types import TypeSerializer

    from chalicelib.adapters.dynamodb import audit_item
    from chalicelib.domain.audit import Draft, link
    from chalicelib.domain.events import EventType
    from tools.local import provision

    gateway, ser = _gateway(url), TypeSerializer()
    provision.ensure_all(gateway.clients, gateway.settings)
    table, per_chain = gateway.settings.audit_table, events // chains
    for index in range(chains):
        drafts = [
            Draft(
                EventType.DECIDED if n % 2 else EventType.REQUESTED,
                f"ct_{index}_{n // 2}",
                {"n": n},
                "sms",
                f"acct-{index % 3}",
            )
            for n in range(per_chain)
        ]
        chain = link(drafts, tenant=TENANT, debtor_id=f"d-{index:06d}", seq=0, head="0" * 64, at=DAY.replace(hour=9))
        for start in range(0, len(chain), 25):
            puts = [
                {"PutRequest": {"Item": {k: ser.serialize(v) for k, v in audit_item(e).items()}}}
                for e in chain[start : start + 25]
            ]
            request = {table: puts}
            while request:
                request = gateway.clients.dynamodb.batch_write_item(RequestItems=request).get("UnprocessedItems")
    return {"events": per_chain * chains, "seconds": 0}


def export(url: str) -> dict[str, Any]:
    from chalicelib.services import exports

    deps = _gateway(url).deps
    started = time.perf_counter()
    spec = exports.ExportSpec(start=DAY, end=DAY + timedelta(days=1) - timedelta(microseconds=1))
    export_id = exports.request_export(TENANT, spec, deps, DAY + timedelta(days=2))["export_id"]
    done = exports.run_export(TENANT, export_id, deps, lambda: datetime.now(UTC))
    assert done["status"] == "done", done
    return {"events": done["progress"]["events"], "seconds": round(time.perf_counter() - started, 2)}


def query(url: str) -> dict[str, Any]:
    """The same bodies by a raw paginated Query of every shard of the day, each page's bodies then read by key
    as the day index holds none (docs/decisions/0016): what the export cannot beat."""
    from chalicelib.adapters.dynamodb import day_key

    gateway = _gateway(url)
    client, count, started = gateway.clients.dynamodb, 0, time.perf_counter()
    for shard in range(gateway.audit.shards.day):
        kwargs: dict[str, Any] = {
            "TableName": gateway.settings.audit_table,
            "IndexName": "by_day",
            "KeyConditionExpression": "day_key = :d",
            "ExpressionAttributeValues": {":d": {"S": day_key(TENANT, DAY.date(), shard)}},
            "ProjectionExpression": "debtor_id, seq",  # what the export needs of each event, no more
        }
        while True:
            page = client.query(**kwargs)
            keys = [(item["debtor_id"]["S"], int(item["seq"]["N"])) for item in page["Items"]]
            count += len(gateway.audit.by_keys(TENANT, keys))
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return {"events": count, "seconds": round(time.perf_counter() - started, 2)}


def main() -> None:
    mode, url = sys.argv[1], sys.argv[2]
    if mode == "load":
        result = load(url, int(sys.argv[3]), int(sys.argv[4]))
    else:
        result = export(url) if mode == "export" else query(url)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({**result, "peak_rss_mib": round(peak_mib, 1)}))


if __name__ == "__main__":
    main()
