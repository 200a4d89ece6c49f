"""``make bench ONLY=heat``: every write of a campaign, by table, index and partition key, in write units.

``HEAT_CONTACTS`` texts (10,000 by default) to as many people of two tenants go through ``POST /v1/contacts``
with an ``Idempotency-Key`` (the app in-process over moto), then the ledger stream's appender, as deployed.
Each write is charged by DynamoDB's sizing rules: the item's units (the larger of its size before and after,
in 1 KB units), and for every global secondary index the item enters, leaves or changes in, the index
entry's units on that index's partition key (a key change is a delete and a put). moto's own
``ConsumedCapacity`` ignores sizes, so the meter keeps its own copy of each item to know its old state.

It reports ``wru_per_sent_contact`` and ``rru_per_sent_contact``, the share of one tenant's write units that
land on its hottest partition key (person keys excluded), the same for keys not scoped to a tenant, the sent
rate at which each of those keys reaches 1,000 write units a second, and the rate the default 40,000 WRU/s
table quota allows.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections import Counter, defaultdict
from typing import Any

from bench.cost import Meter, gateway_in_process, item_size

PARTITION_WCU = 1000  # DynamoDB: write units a second one partition key takes
TABLE_QUOTA_WRU = 40_000  # the default per-table write quota of an account, on demand
TENANTS = ("heat-a", "heat-b")


class HeatMeter(Meter):
    """The units of every write, on the table and on each index's partition key."""

    def __init__(self, specs: list[dict[str, Any]]) -> None:
        super().__init__()
        self.specs = {s["TableName"]: s for s in specs}
        self.items: dict[tuple[str, str], dict[str, Any]] = {}
        self.keys: Counter[tuple[str, str, str]] = Counter()  # (table or table/index, key value, tenant) -> units
        self.sent = 0

    def _seen(self, service: str, name: str, params: dict[str, Any], parsed: dict[str, Any]) -> None:
        super()._seen(service, name, params, parsed)
        if service == "sns" and name == "Publish":
            self.sent += 1
        if service != "dynamodb" or name not in ("PutItem", "UpdateItem"):
            return
        table = params["TableName"]
        spec = self.specs[table]
        key_names = [k["AttributeName"] for k in spec["KeySchema"]]
        source = params["Item"] if name == "PutItem" else params["Key"]
        ident = (table, json.dumps([source[k] for k in key_names], sort_keys=True))
        old = self.items.get(ident)
        new = dict(params["Item"]) if name == "PutItem" else _updated(old or dict(params["Key"]), params)
        self.items[ident] = new
        units = math.ceil(max(item_size(old or {}), item_size(new)) / 1024) or 1
        self.calls[-1]["wcu"] = units
        self.keys[(table, _text(new[key_names[0]]), _tenant(new))] += units
        for index in spec.get("GlobalSecondaryIndexes", []):
            for _kind, value, cost in _index_writes(index, key_names, old, new):
                self.keys[(f"{table}/{index['IndexName']}", value, _tenant(new))] += cost
                self.calls[-1]["wcu"] += cost


def _text(value: dict[str, Any]) -> str:
    return str(next(iter(value.values())))


def _tenant(item: dict[str, Any]) -> str:
    return _text(item["tenant"]) if "tenant" in item else ""


def _updated(item: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """The item after an UpdateItem of SET, REMOVE and ADD clauses (what the gateway's updates use; ADD: the
    daily rollup's counters)."""
    new = dict(item)
    expression, values = params["UpdateExpression"], params.get("ExpressionAttributeValues", {})
    names = params.get("ExpressionAttributeNames", {})
    for clause, body in re.findall(r"(SET|REMOVE|ADD)\s+(.*?)(?=\s+(?:SET|REMOVE|ADD)\s|$)", expression):
        for part in (p.strip() for p in body.split(",")):
            if clause == "ADD":  # a number added to; a set (its new members) is kept as the value given
                target, value = part.split()
                name, added = names.get(target, target), values[value]
                before = new.get(name, {"N": "0"})
                total = int(before["N"]) + int(added["N"]) if "N" in added and "N" in before else None
                new[name] = {"N": str(total)} if total is not None else added
            elif clause == "SET":
                target, value = (s.strip() for s in part.split("=", 1))
                if value in values:
                    new[names.get(target, target)] = values[value]
            else:
                new.pop(names.get(part, part), None)
    return new


def _entry(index: dict[str, Any], table_keys: list[str], item: dict[str, Any]) -> tuple[str, int] | None:
    """The index's partition key value and entry size for ``item``, or None when it is not in the index."""
    index_keys = [k["AttributeName"] for k in index["KeySchema"]]
    if not all(k in item for k in index_keys):
        return None
    projection = index["Projection"]
    if projection["ProjectionType"] == "ALL":
        projected = item
    else:
        wanted = {*table_keys, *index_keys, *projection.get("NonKeyAttributes", [])}
        projected = {k: v for k, v in item.items() if k in wanted}
    return _text(item[index_keys[0]]), item_size(projected) + 100  # DynamoDB adds 100 bytes an index entry


def _index_writes(
    index: dict[str, Any], table_keys: list[str], old: dict[str, Any] | None, new: dict[str, Any]
) -> list[tuple[str, str, int]]:
    before = _entry(index, table_keys, old) if old else None
    after = _entry(index, table_keys, new)
    if before == after and old is not None and _same_projection(index, table_keys, old, new):
        return []  # nothing the index holds changed: no index write
    writes = []
    if before and (not after or before[0] != after[0]):
        writes.append(("delete", before[0], 1))
    if after:
        writes.append(("put", after[0], math.ceil(after[1] / 1024)))
    return writes


def _same_projection(index: dict[str, Any], table_keys: list[str], old: dict[str, Any], new: dict[str, Any]) -> bool:
    if index["Projection"]["ProjectionType"] == "ALL":
        return old == new
    wanted = {*table_keys, *(k["AttributeName"] for k in index["KeySchema"])}
    wanted |= set(index["Projection"].get("NonKeyAttributes", []))
    return {k: old.get(k) for k in wanted} == {k: new.get(k) for k in wanted}


# Ids as a lender's systems write them: a UUID for the person, a loan number for the debt. They appear in
# keys, index attributes and the contact id (which carries the debtor id), so they move items' sizes.
LONG_IDS = ("3f2b8c1e-9d4a-4e6b-b7a1-{i:012d}", "LN-2026-{i:010d}")


def run_long_ids(contacts: int = int(os.environ.get("HEAT_CONTACTS", "2000"))) -> dict[str, Any]:
    """``run`` with long ids (``LONG_IDS``): its write units per sent text as ``wru_per_sent_contact_long_ids``."""
    figures = run(contacts, ids=LONG_IDS)
    return {"wru_per_sent_contact_long_ids": figures["wru_per_sent_contact"]}


def run(
    contacts: int = int(os.environ.get("HEAT_CONTACTS", "10000")), ids: tuple[str, str] = ("p-{i}", "a-{i}")
) -> dict[str, Any]:
    """``ids``: the patterns of the debtor and account ids (``{i}``: the contact's number)."""
    from chalice.test import Client

    import app as gateway_app
    from bench.support import KeyRing, utc
    from chalicelib.domain.access import Role
    from tools.local import provision
    from tools.local.ledger_stream import LedgerStream

    with gateway_in_process("stream") as (gateway, _meter), gateway_app.using(gateway):
        meter = HeatMeter(provision.table_specs(gateway.settings))
        meter.attach(gateway.clients.dynamodb)
        meter.attach(gateway.clients.sns)
        gateway.clock = lambda: utc(2026, 3, 2, 17, 0)  # noon in Atlanta: every text goes
        keys = {tenant: KeyRing(gateway, tenant).key(Role.SUBMITTER) for tenant in TENANTS}
        stream = LedgerStream(gateway)
        stream.drain()
        meter.keys.clear()
        meter.clear()
        meter.sent = 0
        per_tenant: Counter[str] = Counter()
        with Client(gateway_app.app) as client:
            for i in range(contacts):
                tenant = TENANTS[i % len(TENANTS)]
                body = {
                    "debtor_id": ids[0].format(i=i),
                    "account_id": ids[1].format(i=i),
                    "channel": "sms",
                    "to": f"+1404{5550000 + i:07d}",
                    "location": {"country": "US", "subdivision": "GA"},
                    "message": {"body": "Your payment is overdue. Reply STOP to opt out."},
                }
                headers = {
                    "Content-Type": "application/json",
                    "Authorization": f"Bearer {keys[tenant]}",
                    "Idempotency-Key": f"heat-{i}",
                }
                answer = json.loads(client.http.post("/v1/contacts", headers=headers, body=json.dumps(body)).body)
                assert answer["status"] == "sent", answer
                per_tenant[tenant] += 1
                if i % 100 == 99:
                    stream.drain()  # the appender, with its batching
        stream.drain()
        return _figures(meter, per_tenant, gateway.settings)


def _figures(meter: HeatMeter, per_tenant: Counter[str], settings: Any) -> dict[str, Any]:
    reads, writes = meter.units()
    sent = meter.sent
    people = {settings.ledger_table, settings.audit_table}  # their partition keys are one person each
    tenant_keys: dict[str, Counter[tuple[str, str]]] = defaultdict(Counter)
    shared: Counter[tuple[str, str]] = Counter()
    for (where, value, tenant), units in meter.keys.items():
        if where in people:
            continue
        if tenant and value.startswith(f"{tenant}#"):
            tenant_keys[tenant][(where, value)] += units
        elif where != settings.idempotency_table and where != settings.keys_table:
            shared[(where, value)] += units
    tenant = max(per_tenant, key=lambda t: per_tenant[t])
    tenant_total = sum(u for (w, v, t), u in meter.keys.items() if t == tenant)
    (hot_tenant_key, hot_tenant_units) = tenant_keys[tenant].most_common(1)[0]
    (hot_shared_key, hot_shared_units) = shared.most_common(1)[0] if shared else (("", ""), 0)
    by_table: Counter[str] = Counter()
    for (where, _value, _tenant), units in meter.keys.items():
        by_table[where.split("/")[0]] += units
    return {
        "heat_sent_contacts": sent,
        "wru_per_sent_contact": round(writes / sent, 2),
        "rru_per_sent_contact": round(reads / sent, 2),
        "wru_per_sent_contact_by_table": {t: round(u / sent, 2) for t, u in sorted(by_table.items())},
        "wru_per_sent_contact_by_index": {
            w: round(sum(u for (w2, _v, _t), u in meter.keys.items() if w2 == w) / sent, 2)
            for w in sorted({w for w, _v, _t in meter.keys if "/" in w})
        },
        "hottest_key_tenant": "/".join(hot_tenant_key),
        "hottest_key_share_tenant": round(hot_tenant_units / tenant_total, 5),
        "hottest_key_deployment": "/".join(hot_shared_key),
        "hottest_key_share_deployment": round(hot_shared_units / writes, 5),
        "partition_bound_sent_per_s_tenant": round(PARTITION_WCU * per_tenant[tenant] / hot_tenant_units),
        "partition_bound_sent_per_s_deployment": round(PARTITION_WCU * sent / hot_shared_units)
        if hot_shared_units
        else None,
        "quota_bound_sent_per_s": round(TABLE_QUOTA_WRU / (max(by_table.values()) / sent)),
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
