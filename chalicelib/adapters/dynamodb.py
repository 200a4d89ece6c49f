"""DynamoDB: the person ledger (commit point) and the append-only audit table."""

from __future__ import annotations

import base64
import heapq
import json
import random
import secrets
import time
import zlib
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import reduce
from operator import and_
from typing import Any, cast

from boto3.dynamodb.conditions import Attr, ConditionExpressionBuilder, Key
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from chalicelib.adapters.errors import storage_errors
from chalicelib.domain import address_index
from chalicelib.domain.audit import DEFAULT_RETENTION_DAYS, event_outcome
from chalicelib.domain.errors import ConflictError, SecretUnavailableError, StorageUnavailableError
from chalicelib.domain.events import AuditEvent
from chalicelib.domain.ledger import DAY_SHARDS, INDEX_SHARDS, Deferred, Ledger, index_shard
from chalicelib.domain.model import ContactRecord, ContactRequest
from chalicelib.domain.policy import canonical_json
from chalicelib.domain.ports import AddressKeys, ReadBudget
from chalicelib.domain.preferences import Preferences
from chalicelib.domain.recipients import SentTo

_SER, _DES = TypeSerializer(), TypeDeserializer()
# Before the indexes were sharded, every ledger sat on these two keys. Readers still query them, so a deployed
# table moves by itself: each ledger takes its shard at its next commit (docs/decisions/0014).
LEGACY_SHARD = {"due": "due", "pending": "pending"}


def utc_key(at: datetime) -> str:
    """Sortable UTC text, so a string range condition is a time range."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def person_key(tenant: str, debtor_id: str) -> str:
    return f"{tenant}#{debtor_id}"


def shard_key(index: str, shard: int) -> str:
    return f"{index}#{shard}"


_NO_RECEIPT = {"delivery", "delivery_at", "delivery_code"}


def _record_json(record: ContactRecord) -> dict[str, Any]:
    """A history record as stored; a message without a receipt stores no receipt fields (every byte of the
    ledger is paid for on each of its writes)."""
    return record.model_dump(mode="json", exclude=_NO_RECEIPT if record.delivery is None else None)


def _ledger_item(ledger: Ledger, shards: int = INDEX_SHARDS, handoff: bool = False) -> dict[str, Any]:
    item: dict[str, Any] = {
        "pk": person_key(ledger.tenant, ledger.debtor_id),
        "tenant": ledger.tenant,
        "debtor_id": ledger.debtor_id,
        "version": ledger.version + 1,
        "seq": ledger.seq,
        "head": ledger.head,
        "history": json.dumps([_record_json(r) for r in ledger.history]),
        "deferred": json.dumps([_deferred_json(d) for d in ledger.deferred]),
        "outbox": pack_outbox(ledger.outbox),
        "preferences": ledger.preferences.model_dump_json(),
        "commit_id": ledger.commit_id,
        "retention_days": ledger.retention_days,
        "appended_seq": ledger.appended_seq,
    }
    if ledger.recent_contacts:  # address ledgers only
        item["recent_contacts"] = json.dumps([s.to_json() for s in ledger.recent_contacts])
    if ledger.replies_seen:
        item["replies_seen"] = json.dumps(list(ledger.replies_seen))
    if ledger.last_event_at is not None:
        item["last_event_at"] = ledger.last_event_at.isoformat()
    shard = index_shard(ledger.tenant, ledger.debtor_id, shards)
    if ledger.next_due is not None and (not handoff or _due_at_commit(ledger, ledger.next_due)):  # sparse: work due
        item.update(due_shard=shard_key("due", shard), due_at=utc_key(ledger.next_due))
    if ledger.outbox:  # sparse index: only ledgers whose events may be missing from the audit table
        item.update(
            pending_shard=shard_key("pending", shard),
            pending_since=utc_key(min(datetime.fromisoformat(e["at"]) for e in ledger.outbox)),
        )
    return item


# The appender marks a commit within seconds, the sweep within a minute or two (dispatch.SWEEP_GRACE and its tick).
HANDOFF = timedelta(minutes=5)


def _due_at_commit(ledger: Ledger, due: datetime) -> bool:
    """Whether the commit itself puts the ledger on ``due``. A send's reservation (settled 15 minutes on, or
    by the outcome a moment later) is due only if the send dies; while the outbox is unappended the ledger is
    on ``pending`` anyway, and the appender's mark moves it to ``due`` (``mark_appended``). That spares a
    sent text a put and a delete on ``due`` (docs/decisions/0016). Deferrals, and anything due before the
    mark is sure to come, are put on ``due`` at once, as before."""
    if ledger.deferred or not ledger.outbox or ledger.last_event_at is None:
        return True
    return due <= ledger.last_event_at + HANDOFF


def pack_outbox(outbox: Sequence[AuditEvent]) -> str | bytes:
    """The outbox as stored: compressed JSON. Its events are the ledger's bulk (~2 KB for a sent text's three,
    ~0.8 KB compressed), and every ledger write pays for the whole item, so this is a write unit on each of a
    sent text's three ledger writes (docs/decisions/0016). An empty outbox stays the text ``[]``."""
    text = json.dumps(list(outbox), separators=(",", ":"))
    return zlib.compress(text.encode(), 9) if outbox else text


def unpack_outbox(stored: Any) -> tuple[AuditEvent, ...]:
    """Either form: compressed bytes, or the JSON text every ledger held before (and an empty one holds)."""
    return tuple(_inflated(stored))


def _inflated(stored: Any) -> Any:
    """JSON stored as text, or compressed (bytes, or boto3's ``Binary``)."""
    if isinstance(stored, str):
        return json.loads(stored)
    raw = stored.value if hasattr(stored, "value") else stored
    return json.loads(zlib.decompress(bytes(raw)))


def _deferred_json(item: Deferred) -> dict[str, Any]:
    return {
        "contact_id": item.contact_id,
        "request": item.request.model_dump(mode="json"),
        "not_before": item.not_before.isoformat(),
        "attempts": item.deliveries_failed,  # the stored name
        **({"paced": True} if item.paced else {}),  # a provider slot it holds (docs/decisions/0017)
    }


def _ledger_from(item: dict[str, Any]) -> Ledger:
    return Ledger(
        tenant=item["tenant"],
        debtor_id=item["debtor_id"],
        version=int(item["version"]),
        seq=int(item["seq"]),
        head=item["head"],
        history=tuple(ContactRecord.model_validate(r) for r in json.loads(item["history"])),
        deferred=tuple(
            Deferred(
                contact_id=d["contact_id"],
                request=ContactRequest.model_validate(d["request"]),
                not_before=datetime.fromisoformat(d["not_before"]),
                deliveries_failed=d["attempts"],
                paced=d.get("paced", False),
            )
            for d in json.loads(item["deferred"])
        ),
        outbox=unpack_outbox(item["outbox"]),
        preferences=Preferences.model_validate_json(item.get("preferences", "{}")),
        commit_id=item.get("commit_id", ""),
        retention_days=int(item.get("retention_days", DEFAULT_RETENTION_DAYS)),
        last_event_at=datetime.fromisoformat(item["last_event_at"]) if item.get("last_event_at") else None,
        appended_seq=int(item.get("appended_seq", 0)),
        recent_contacts=tuple(SentTo.from_json(s) for s in json.loads(item.get("recent_contacts", "[]"))),
        replies_seen=tuple(json.loads(item.get("replies_seen", "[]"))),
    )


def ledger_from_image(image: dict[str, Any]) -> Ledger:
    """A ledger from a DynamoDB stream record's ``NewImage`` (typed attributes, as the stream sends them).
    Lambda's event carries binary attributes as base64 text; boto3's stream client hands them decoded."""
    decoded = {k: {"B": base64.b64decode(v["B"])} if isinstance(v.get("B"), str) else v for k, v in image.items()}
    return DynamoDBLedger._parse(decoded)


BATCH_GET_TRIES = 5
KEY_READERS = 8  # GetItems in flight at once when the audit trail is read by key
BODY_BATCH = 4 * KEY_READERS  # bodies read at a time after an index's keys: at most this many read and not taken


def _batch_get(client: Any, request: dict[str, Any], table: str) -> list[dict[str, Any]]:
    """BatchGetItem with its unprocessed keys asked again after a jittered backoff; still unprocessed after
    a few tries (throttled), it fails: a decision never goes ahead on part of what it must read."""
    items: list[dict[str, Any]] = []
    for try_no in range(BATCH_GET_TRIES):
        with storage_errors():
            response = client.batch_get_item(RequestItems=request)
        items += response.get("Responses", {}).get(table, [])
        request = response.get("UnprocessedKeys") or {}
        if not request:
            return items
        time.sleep(random.uniform(0, 0.05 * 2**try_no))
    raise StorageUnavailableError("BatchGetItem left keys unprocessed")


def plain_item(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _DES.deserialize(v) for k, v in item.items()}


class DynamoDBLedger:
    """One item per tenant x person; every write is conditioned on the version read."""

    def __init__(self, client: Any, table: str, shards: int = INDEX_SHARDS, handoff: bool = False) -> None:
        """``handoff``: the stream appender marks every commit within seconds (``AUDIT_APPEND=stream``), so a
        send's reservation may wait for its mark to reach ``due`` (``_due_at_commit``). Inline appends leave
        the marking to the sweep: there every reservation goes on ``due`` at its commit, as before."""
        self._client = client
        self._table = table
        self.shards = shards
        self.handoff = handoff

    def get(self, tenant: str, debtor_id: str) -> Ledger:
        with storage_errors():
            response = self._client.get_item(
                TableName=self._table,
                Key={"pk": {"S": person_key(tenant, debtor_id)}},
                ConsistentRead=True,
            )
        item = response.get("Item")
        return self._parse(item) if item else Ledger(tenant=tenant, debtor_id=debtor_id)

    def get_many(self, keys: Sequence[tuple[str, str]]) -> list[Ledger]:
        """Several ledgers in one strongly consistent BatchGetItem, in the order asked (a missing one is new)."""
        wanted = {person_key(t, d): (t, d) for t, d in keys}
        request = {self._table: {"Keys": [{"pk": {"S": pk}} for pk in wanted], "ConsistentRead": True}}
        found: dict[str, Ledger] = {}
        for item in _batch_get(self._client, request, self._table):
            found[item["pk"]["S"]] = self._parse(item)
        return [found.get(pk) or Ledger(tenant=t, debtor_id=d) for pk, (t, d) in wanted.items()]

    @staticmethod
    def _parse(item: dict[str, Any]) -> Ledger:
        try:
            return _ledger_from(plain_item(item))
        except (KeyError, TypeError, ValueError) as exc:  # pydantic's ValidationError is a ValueError
            # A ledger that cannot be read cannot be counted against: fail closed.
            raise StorageUnavailableError(f"ledger item unreadable: {type(exc).__name__}") from exc

    def commit(self, ledger: Ledger, expected_version: int) -> None:
        item = {k: _SER.serialize(v) for k, v in _ledger_item(ledger, self.shards, self.handoff).items()}
        item["version"] = {"N": str(expected_version + 1)}
        # The version condition is what makes caps hold across concurrent Lambdas: a writer that
        # read an older ledger loses, re-reads and re-evaluates.
        if expected_version == 0:
            condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(pk)"}
        else:
            condition = {
                "ConditionExpression": "version = :v",
                "ExpressionAttributeValues": {":v": {"N": str(expected_version)}},
            }
        with storage_errors():
            self._client.put_item(TableName=self._table, Item=item, **condition)

    def mark_appended(self, image: Ledger, seq: int) -> None:
        """Note that the events up to ``seq`` are in the audit table, without a new version.

        If the ledger has no newer event, its outbox is emptied and it leaves the ``pending`` index; otherwise
        only the mark moves, and the next commit drops those events. Neither write touches ``version``, so
        no decision loses its race to the appender. A commit that read an older mark may write it back: the
        appender then meets those events again, and its conditional puts are no-ops.

        A send's reservation waited in ``pending``, not ``due`` (``_due_at_commit``): leaving ``pending``, the
        ledger enters ``due`` at ``image``'s next due instant, on the condition that ``image`` is still the
        stored version, so the dispatcher always has the person on one index or the other.
        """
        key = {"pk": {"S": person_key(image.tenant, image.debtor_id)}}
        values = {":s": {"N": str(seq)}, ":empty": {"S": "[]"}}
        update, condition = "SET appended_seq = :s, outbox = :empty", "attribute_exists(pk) AND seq = :s"
        due = image.next_due if image.seq == seq else None
        if due is not None:
            shard = shard_key("due", index_shard(image.tenant, image.debtor_id, self.shards))
            values.update({":ds": {"S": shard}, ":da": {"S": utc_key(due)}, ":v": {"N": str(image.version)}})
            update, condition = f"{update}, due_shard = :ds, due_at = :da", f"{condition} AND version = :v"
        emptied = self._update_if(key, f"{update} REMOVE pending_shard, pending_since", condition, values)
        if not emptied:  # newer events were committed since: move the mark only, unless a later one is there
            self._update_if(
                key,
                "SET appended_seq = :s",
                "attribute_exists(pk) AND (attribute_not_exists(appended_seq) OR appended_seq < :s)",
                {":s": values[":s"]},
            )

    def redeliver(self, image: Ledger) -> None:
        """A new stream record of the ledger, for the appender: a token no reader reads, changed while the
        ledger is still at ``image``'s seq (past it, the newer commit's record carries the outbox anyway)."""
        key = {"pk": {"S": person_key(image.tenant, image.debtor_id)}}
        values = {":r": {"S": secrets.token_hex(8)}, ":s": {"N": str(image.seq)}}
        self._update_if(key, "SET redelivery = :r", "attribute_exists(pk) AND seq = :s", values)

    def record_incident(self, tenant: str, debtor_id: str, at: datetime, data: dict[str, Any]) -> None:
        """An incident beside the person's ledger (its own item: a contended or unreadable ledger does not stop
        it), for the stream appender to copy into the audit table; a new key, put only where none is."""
        body = {"tenant": tenant, "debtor_id": debtor_id, "at": at.isoformat(), "data": data}
        item = {
            "pk": {"S": f"{person_key(tenant, debtor_id)}#incident#{utc_key(at)}#{secrets.token_hex(4)}"},
            "tenant": {"S": tenant},
            "debtor_id": {"S": debtor_id},
            "incident": {"S": canonical_json(body)},
        }
        with storage_errors():
            self._client.put_item(TableName=self._table, Item=item, ConditionExpression="attribute_not_exists(pk)")

    def _update_if(self, key: dict[str, Any], update: str, condition: str, values: dict[str, Any]) -> bool:
        """An UpdateItem under ``condition``; False when the condition does not hold."""
        try:
            with storage_errors():
                self._client.update_item(
                    TableName=self._table,
                    Key=key,
                    UpdateExpression=update,
                    ConditionExpression=condition,
                    ExpressionAttributeValues=values,
                )
        except ConflictError:
            return False
        return True

    def _keys(self, index: str, shard: str, until: datetime, limit: int) -> list[tuple[str, str, datetime]]:
        """(tenant, debtor, instant) of one shard of a sparse index, up to ``until``, oldest first."""
        sort = {"due": "due_at", "pending": "pending_since"}[index]
        found: list[tuple[str, str, datetime]] = []
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": index,
            "KeyConditionExpression": "#s = :s AND #t <= :t",
            "ExpressionAttributeNames": {"#s": f"{index}_shard", "#t": sort},
            "ExpressionAttributeValues": {":s": {"S": shard}, ":t": {"S": utc_key(until)}},
        }
        while len(found) < limit:
            with storage_errors():
                response = self._client.query(**kwargs, Limit=limit - len(found))
            found += [(i["tenant"]["S"], i["debtor_id"]["S"], _from_key(i[sort]["S"])) for i in response["Items"]]
            if "LastEvaluatedKey" not in response:
                break
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return found

    def _merged(self, index: str, until: datetime, limit: int) -> list[tuple[str, str]]:
        """Every shard (and the legacy key), merged oldest first: the dispatcher's and the checker's reads."""
        shards = [LEGACY_SHARD[index], *(shard_key(index, k) for k in range(self.shards))]
        found = sorted((f for shard in shards for f in self._keys(index, shard, until, limit)), key=lambda f: f[2])
        return [(tenant, debtor_id) for tenant, debtor_id, _at in found[:limit]]

    def due(self, now: datetime, limit: int) -> list[tuple[str, str]]:
        return self._merged("due", now, limit)

    def with_outbox(self, before: datetime, limit: int) -> list[tuple[str, str]]:
        return self._merged("pending", before, limit)

    def shard_due(self, shard: int | None, until: datetime, limit: int) -> list[tuple[str, str, datetime]]:
        """One shard's people due by ``until``, with the instant each is due (None: the legacy key)."""
        return self._keys("due", LEGACY_SHARD["due"] if shard is None else shard_key("due", shard), until, limit)

    def shard_with_outbox(self, shard: int | None, before: datetime, limit: int) -> list[tuple[str, str]]:
        key = LEGACY_SHARD["pending"] if shard is None else shard_key("pending", shard)
        return [(tenant, debtor_id) for tenant, debtor_id, _at in self._keys("pending", key, before, limit)]


def _thin(item: dict[str, Any]) -> dict[str, Any]:
    thin_event = {"debtor_id": item["debtor_id"], "seq": int(item["seq"])}
    return {**thin_event, "at_key": item["at_key"]} if "at_key" in item else thin_event


def _from_key(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


@dataclass(frozen=True)
class AuditShards:
    """How the audit table's shared index keys spread: ``by_day`` (tenant x day) over ``day`` shards, so one
    tenant's busy day is not one partition; ``by_expiry`` (a day of the whole deployment) over ``expiry``.
    A person's events all take one shard (a hash of the person). Keys of before the sharding (no ``#k``
    suffix) are still read, so stored events stay found (docs/decisions/0015)."""

    day: int = DAY_SHARDS
    expiry: int = INDEX_SHARDS


def day_key(tenant: str, day: date, shard: int | None = None) -> str:
    return f"{tenant}#{day.isoformat()}" + ("" if shard is None else f"#{shard}")


def _expiry(at: datetime, retention_days: int, shard: int | None = None) -> dict[str, Any]:
    """DynamoDB TTL: ``expires_at`` in epoch seconds; ``expiry_day`` indexes it for the retention pass."""
    expires = at.astimezone(UTC) + timedelta(days=retention_days)
    suffix = "" if shard is None else f"#{shard}"
    return {"expires_at": int(expires.timestamp()), "expiry_day": expires.date().isoformat() + suffix}


def pack_body(text: str) -> bytes:
    """An event's canonical JSON as stored: compressed. A sent text's events are 0.8-1.2 KB stored whole;
    compressed, each fits one write unit (docs/decisions/0016). The hash is over the text, not these bytes."""
    return zlib.compress(text.encode(), 9)


def read_body(value: Mapping[str, Any]) -> dict[str, Any]:
    """A stored ``body`` attribute (typed, as the client returns it): compressed bytes, or the JSON text
    every event held before."""
    return _parse_body(value["S"] if "S" in value else value["B"])


def as_event(body: dict[str, Any]) -> AuditEvent:
    """A stored body, read back: the event the chain appended (its hash is checked by the readers)."""
    return cast(AuditEvent, body)


def body_text(value: Mapping[str, Any]) -> str:
    """The canonical JSON a stored ``body`` attribute holds, in either form."""
    return str(value["S"]) if "S" in value else zlib.decompress(bytes(value["B"])).decode()


def _parse_body(stored: Any) -> dict[str, Any]:
    return dict(_inflated(stored))


def _contact_run(events: Sequence[AuditEvent]) -> list[AuditEvent]:
    """The leading events of one contact: one person's, in consecutive sequence numbers."""
    run = [events[0]]
    for event in events[1:]:
        last = run[-1]
        same = all(event[k] == last[k] for k in ("tenant", "debtor_id", "contact_id"))
        if not same or event["seq"] != last["seq"] + 1:
            break
        run.append(event)
    return run


def audit_item(
    event: AuditEvent, shards: AuditShards = AuditShards(), run: int = 1, address_key: str | None = None
) -> dict[str, Any]:
    """The stored form of an event: its canonical body, plus the attributes its indexes and filters read.

    Only ``body`` is hashed; the other attributes are derived from it, so an edit to one of them
    cannot hide a change (queries return the body, and verification recomputes its hash).
    """
    tenant, debtor_id, seq = event["tenant"], event["debtor_id"], event["seq"]
    at = datetime.fromisoformat(event["at"])
    item: dict[str, Any] = {
        "pk": person_key(tenant, debtor_id),
        "seq": seq,
        "tenant": tenant,
        "debtor_id": debtor_id,
        "type": event["type"],
        "at": event["at"],
        "hash": event["hash"],
        "day_key": day_key(tenant, at.astimezone(UTC).date(), index_shard(tenant, debtor_id, shards.day)),
        "at_key": f"{utc_key(at)}#{debtor_id}#{seq:012d}",
        "body": pack_body(canonical_json(event)),
        **_expiry(
            at,
            int(event.get("retention_days", DEFAULT_RETENTION_DAYS)),
            index_shard(tenant, debtor_id, shards.expiry),
        ),
    }
    if not run:  # its run's leader stands for it in by_expiry: the retention pass extends the run whole
        del item["expiry_day"]
    if run:  # the first of ``run`` consecutive events of its contact (1: alone); 0: a later one of a run
        item["contact_key"] = f"{tenant}#{event['contact_id']}"
    if run > 1:
        item["contact_run"] = run
    if event.get("account_id"):
        item["account_key"] = f"{tenant}#{event['account_id']}"
    if event.get("channel"):
        item["channel"] = event["channel"]
    outcome = event_outcome(event)
    if outcome:
        item["outcome"] = outcome
    if address_key:  # the keyed hash of the address it names: the by_address index (docs/decisions/0036)
        item["address_key"] = address_key
    return item


class DynamoDBAuditLog:
    """Append-only: a conditional put per event; never an update or a delete."""

    def __init__(
        self, client: Any, table: str, shards: AuditShards = AuditShards(), address_keys: AddressKeys | None = None
    ) -> None:
        self._client = client
        self._table = table
        self._readers: ThreadPoolExecutor | None = None
        self.shards = shards
        self.address_keys = address_keys  # None: no event enters the by_address index

    def _address(self, event: AuditEvent) -> str | None:
        """The event's by_address key; an unreadable secret fails the append, which is delivered again."""
        if self.address_keys is None:
            return None
        try:
            return address_index.index_value(self.address_keys.signing(), event)
        except SecretUnavailableError as exc:
            raise StorageUnavailableError(f"the address index key could not be read: {exc}") from exc

    def append(self, events: Sequence[AuditEvent]) -> int:
        return len(self.append_new(events))

    def append_new(self, events: Sequence[AuditEvent]) -> list[AuditEvent]:
        """The events not stored before (``append``: how many).

        A contact's consecutive events (its commit and its outcome, in one batch of the appender) enter
        ``by_contact`` once, on the first, which names how many follow (``contact_run``): a sent text's three
        events cost that index one write, not three (docs/decisions/0016). Only a leader this call stored
        leads: if it was there already, the next event leads what follows, so no event is left unindexed.
        """
        stored: list[AuditEvent] = []
        rest = cast(list[AuditEvent], list(events))  # the port's events are untyped dicts
        while rest:
            run = _contact_run(rest)
            if not self._put(audit_item(run[0], self.shards, run=len(run), address_key=self._address(run[0]))):
                rest = rest[1:]
                continue
            stored += [run[0], *(e for e in run[1:] if self._put(audit_item(e, self.shards, 0, self._address(e))))]
            rest = rest[len(run) :]
        return stored

    def _put(self, item: dict[str, Any]) -> bool:
        try:
            with storage_errors():
                self._client.put_item(
                    TableName=self._table,
                    Item={k: _SER.serialize(v) for k, v in item.items()},
                    ConditionExpression="attribute_not_exists(pk)",
                )
        except ConflictError:
            # Already appended (a retry or the sweep): a sequence number is only ever given
            # to one committed event, so the stored one is this one.
            return False
        return True

    def record_incident(self, tenant: str, debtor_id: str, at: datetime, data: dict[str, Any]) -> None:
        """A contact request that failed before its commit point: kept outside the chain, in its own partition."""
        body = {"tenant": tenant, "debtor_id": debtor_id, "type": "incident", "at": at.isoformat(), "data": data}
        item = {
            "pk": {"S": f"{person_key(tenant, debtor_id)}#incidents"},
            "seq": {"N": str(int(at.timestamp() * 1_000_000))},
            "tenant": {"S": tenant},
            "debtor_id": {"S": debtor_id},
            "type": {"S": "incident"},
            "at": {"S": body["at"]},
            "body": {"S": canonical_json(body)},
            **{
                k: _SER.serialize(v)
                for k, v in _expiry(
                    at, DEFAULT_RETENTION_DAYS, index_shard(tenant, debtor_id, self.shards.expiry)
                ).items()
            },
        }
        try:
            with storage_errors():
                self._client.put_item(TableName=self._table, Item=item, ConditionExpression="attribute_not_exists(pk)")
        except ConflictError:
            return  # the same incident again (the stream redelivered it): it is kept once

    def incidents(self, tenant: str, debtor_id: str) -> list[dict[str, Any]]:
        return self._query(
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": f"{person_key(tenant, debtor_id)}#incidents"}},
            ConsistentRead=True,
        )

    def for_person(self, tenant: str, debtor_id: str, after_seq: int = 0, limit: int | None = None) -> list[AuditEvent]:
        """Oldest first, from ``after_seq``; with ``limit``, reads no more pages than it needs."""
        return self._events(
            KeyConditionExpression="pk = :p AND seq > :s",
            ExpressionAttributeValues={":p": {"S": person_key(tenant, debtor_id)}, ":s": {"N": str(after_seq)}},
            ConsistentRead=True,
            limit=limit,
        )

    def for_contact(self, tenant: str, contact_id: str) -> list[AuditEvent]:
        """The index holds keys only, one entry a run of the contact's events (docs/decisions/0016): its
        entries in seq order, each run's events, then each body by key."""
        keys: dict[tuple[str, int], None] = {}  # runs may overlap (an append that stopped half-way): once each
        with storage_errors():
            for page in self._client.get_paginator("query").paginate(
                TableName=self._table,
                IndexName="by_contact",
                KeyConditionExpression="contact_key = :c",
                ExpressionAttributeValues={":c": {"S": f"{tenant}#{contact_id}"}},
                ProjectionExpression="pk, seq, contact_run",
            ):
                for i in page.get("Items", []):
                    first, run = int(i["seq"]["N"]), int(i.get("contact_run", {}).get("N", 1))
                    keys.update(((i["pk"]["S"], seq), None) for seq in range(first, first + run))
        found = self._bodies(list(keys))
        return [as_event(body) for body in found if body is not None and body.get("contact_id") == contact_id]

    def _bodies(self, keys: Sequence[tuple[str, int]], consistent: bool = False) -> list[dict[str, Any] | None]:
        """The bodies at (pk, seq), in the order asked, a few GetItems in flight (the audit table's roles may
        not BatchGetItem, docs/decisions/0011); None where nothing is stored (expired by TTL since)."""
        if self._readers is None:
            self._readers = ThreadPoolExecutor(max_workers=KEY_READERS, thread_name_prefix="audit-read")
        return list(self._readers.map(lambda key: self._get_body(key[0], key[1], consistent=consistent), keys))

    def _get_body(self, pk: str, seq: int, consistent: bool = True) -> dict[str, Any] | None:
        """An eventually consistent read costs half; an item an index already showed is nearly always there,
        and when a replica lags, a strongly consistent read settles it."""
        for strong in (True,) if consistent else (False, True):
            with storage_errors():
                item = self._client.get_item(
                    TableName=self._table,
                    Key={"pk": {"S": pk}, "seq": {"N": str(seq)}},
                    ConsistentRead=strong,
                    ProjectionExpression="body",
                ).get("Item")
            if item:
                return read_body(item["body"])
        return None

    def _events(self, limit: int | None = None, **kwargs: Any) -> list[AuditEvent]:
        return [as_event(body) for body in self._query(limit, **kwargs)]

    def _query(self, limit: int | None = None, **kwargs: Any) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        pagination = {"MaxItems": limit, "PageSize": min(limit, 1000)} if limit else {}
        with storage_errors():
            paginator = self._client.get_paginator("query")
            for page in paginator.paginate(
                TableName=self._table, PaginationConfig=pagination, ProjectionExpression="body", **kwargs
            ):
                events += [read_body(i["body"]) for i in page.get("Items", [])]
        # In key order, as stored: sorting by the events' own seq would put two swapped events back
        # in place and hide the swap from verification.
        return events


# What a page of the trail can be read by: the person's partition, or an index by tenant x day or x debt.
_SELECT_INDEX = {"person": None, "day": "by_day", "account": "by_account"}
MAX_BUDGET_PAGE = 1000  # a page of a budgeted reading without a page size: a budget is never this large a page


@dataclass(frozen=True)
class _Reading:
    """How a select reads each of its partitions: ``partitions`` share the budget (a day's shards)."""

    filters: Mapping[str, str] | None
    forward: bool
    page_size: int | None
    bodies: bool
    budget: ReadBudget | None
    partitions: int


def _batch(picked: Iterator[tuple[dict[str, Any], dict[str, Any]]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """The next entries whose bodies are read together: up to BODY_BATCH, ending early after a mark."""
    batch = []
    for pair in picked:
        batch.append(pair)
        if not pair[1] or len(batch) == BODY_BATCH:
            break
    return batch


_SELECT_KEYS = {
    "person": ("pk", "seq"),
    "day": ("pk", "seq", "day_key", "at_key"),
    "account": ("pk", "seq", "account_key", "at_key"),
}


class DynamoDBAuditTrail(DynamoDBAuditLog):
    """The read side: Query on the table's keys and its indexes, never a Scan."""

    def to_address(
        self, tenant: str, values: Sequence[str], *, after: str | None, descending: bool, limit: int
    ) -> list[dict[str, Any]]:
        """Entries of ``by_address`` for each key value, merged in ``at_key`` order, ``limit`` at most."""
        found: list[dict[str, Any]] = []
        for value in values:
            if not value.startswith(f"{tenant}#"):
                continue  # another tenant's partition is never read
            condition = Key("address_key").eq(value)
            if after:
                condition &= Key("at_key").lt(after) if descending else Key("at_key").gt(after)
            built = ConditionExpressionBuilder().build_expression(condition, is_key_condition=True)
            values_ = {k: _SER.serialize(v) for k, v in built.attribute_value_placeholders.items()}
            with storage_errors():
                page = self._client.query(
                    TableName=self._table,
                    IndexName="by_address",
                    KeyConditionExpression=built.condition_expression,
                    ExpressionAttributeNames=built.attribute_name_placeholders,
                    ExpressionAttributeValues=values_,
                    ScanIndexForward=not descending,
                    Limit=limit,
                )
            found += [_address_entry(tenant, i) for i in page.get("Items", [])]
        found.sort(key=lambda e: str(e["at_key"]), reverse=descending)
        return found[:limit]

    def select(
        self,
        *,
        tenant: str,
        by: str,
        value: str,
        at_range: tuple[str, str] | None = None,
        filters: Mapping[str, str] | None = None,
        forward: bool = True,
        start_key: Mapping[str, Any] | None = None,
        page_size: int | None = 200,
        bodies: bool = True,
        budget: ReadBudget | None = None,
    ) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
        """Events of one partition in key order, as (key, event); ``at_range`` is two ``utc_key`` bounds.

        The key is what a cursor needs to resume right after this event (``start_key``). Without ``bodies``
        each event is only its ``debtor_id`` and ``seq`` (what an export's plan needs), only they travel, and
        the key is empty. A day is read from every shard of it at once, merged in ``at_key`` order (unique:
        it ends with the person and the sequence number), and resumes after the cursor's ``at_key``. With a
        ``budget``, marks (``(key, {})``) tell where each page's reading stopped (the port says how).
        """
        if by != "day":
            column = "pk" if by == "person" else "account_key"
            value = person_key(tenant, value) if by == "person" else f"{tenant}#{value}"
            read = _Reading(filters, forward, page_size, bodies, budget, 1)
            events = self._partition(by, (column, value), at_range, read, start_key=start_key)
            yield from self._filled(events, budget) if bodies and by != "person" else events
            return
        after = str(start_key["at_key"]) if start_key else None
        if after:  # the cursor's own event comes again at the bound, and is skipped below
            low, high = at_range or ("", "\uffff")
            at_range = (max(low, after), high) if forward else (low, min(high, after))
        day = date.fromisoformat(value)
        keys = [day_key(tenant, day), *(day_key(tenant, day, k) for k in range(self.shards.day))]
        read = _Reading(filters, forward, page_size, bodies, budget, len(keys))
        shards = [self._partition(by, ("day_key", k), at_range, read) for k in keys]
        merged = heapq.merge(
            *shards, key=lambda pair: str(pair[0].get("at_key") or pair[1]["at_key"]), reverse=not forward
        )
        picked = (
            (found, event)
            for found, event in merged
            if after is None or (found.get("at_key") or event.get("at_key")) != after
        )
        if bodies:
            yield from self._filled(picked, budget)
            return
        for found, event in picked:  # with a budget, a thin event's key is its place: its ``at_key``
            place = found or ({"at_key": event["at_key"]} if budget is not None else found)
            yield place, {k: v for k, v in event.items() if k != "at_key"}

    def _filled(
        self, picked: Iterator[tuple[dict[str, Any], dict[str, Any]]], budget: ReadBudget | None = None
    ) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
        """An index's events, in order, with their bodies read from the table by key: only those the reader
        takes, a batch at a time (a day's merge reads a page from each of its shards, and most of those
        entries are never taken), the batch's GetItems in flight together. A batch ends at a budget's mark,
        which passes on unread: a reader stopping there reads nothing after it."""
        while batch := _batch(picked):
            refs = [(ref["pk"], int(ref["seq"])) for _key, ref in batch if ref]
            found = iter(self._bodies(refs))
            if budget is not None and refs:
                budget.charge(len(refs))
            for key, ref in batch:
                if not ref:  # a mark
                    yield key, ref
                    continue
                body = next(found)
                if body is not None:  # None: expired (TTL) between the index's page and the read by key
                    yield key, body

    def _partition(
        self,
        by: str,
        partition: tuple[str, str],
        at_range: tuple[str, str] | None,
        read: _Reading,
        start_key: Mapping[str, Any] | None = None,
    ) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
        kwargs = self._select_args(by, partition, at_range, read)
        names, budget = _SELECT_KEYS[by], read.budget
        by_key = read.bodies and _SELECT_INDEX[by] is not None
        start = {k: _SER.serialize(v) for k, v in start_key.items()} if start_key else None
        while True:
            if budget is not None:  # the budget shared by the partitions read at once
                kwargs["Limit"] = min(read.page_size or MAX_BUDGET_PAGE, max(1, budget.left // read.partitions))
            with storage_errors():
                response = self._client.query(**kwargs, **({"ExclusiveStartKey": start} if start else {}))
            if budget is not None:
                budget.charge(int(response.get("ScannedCount", 0)))
            for item in (plain_item(raw) for raw in response.get("Items", [])):
                if not read.bodies:  # no cursor resumes this reading: no keys
                    yield {}, _thin(item)
                    continue
                key = {k: (int(item[k]) if k == "seq" else item[k]) for k in names}
                yield key, (key if by_key else _parse_body(item["body"]))  # by key: ``_filled`` reads the body
            start = response.get("LastEvaluatedKey")
            if not start:
                return
            if budget is not None:  # where this page's reading stopped: a reader may resume after it
                yield {k: (int(v) if k == "seq" else v) for k, v in plain_item(start).items()}, {}

    def _select_args(
        self, by: str, partition: tuple[str, str], at_range: tuple[str, str] | None, read: _Reading
    ) -> dict[str, Any]:
        """The Query of one partition of a select: its key condition, filters and projection."""
        key = Key(partition[0]).eq(partition[1])
        conditions = [Attr(name).eq(v) for name, v in (read.filters or {}).items()]
        if at_range and by == "person":
            conditions.append(Attr("at_key").between(*at_range))
        elif at_range:
            key = key & Key("at_key").between(*at_range)
        builder = ConditionExpressionBuilder()
        built_key = builder.build_expression(key, is_key_condition=True)
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": built_key.condition_expression,
            "ExpressionAttributeNames": dict(built_key.attribute_name_placeholders),
            "ExpressionAttributeValues": dict(built_key.attribute_value_placeholders),
            "ScanIndexForward": read.forward,
            **({"Limit": read.page_size} if read.page_size else {}),  # None: DynamoDB's own 1 MB pages
        }
        if conditions:
            built = builder.build_expression(reduce(and_, conditions))
            kwargs["FilterExpression"] = built.condition_expression
            kwargs["ExpressionAttributeNames"].update(built.attribute_name_placeholders)
            kwargs["ExpressionAttributeValues"].update(built.attribute_value_placeholders)
        kwargs["ExpressionAttributeValues"] = {
            k: _SER.serialize(v) for k, v in kwargs["ExpressionAttributeValues"].items()
        }
        index = _SELECT_INDEX[by]
        if index:
            kwargs["IndexName"] = index
        names = _SELECT_KEYS[by]
        # Only the body and the keys a cursor needs travel back: the other attributes are derived from the body.
        # Without bodies, a day's reading still needs ``at_key`` to merge its shards in order. An index holds
        # no body (docs/decisions/0016): its page's bodies are read from the table by key.
        thin = ("debtor_id", "seq", "at_key") if by == "day" else ("debtor_id", "seq")
        by_key = read.bodies and index is not None
        projected = {f"#p{i}": n for i, n in enumerate(names if by_key else (*names, "body") if read.bodies else thin)}
        kwargs["ProjectionExpression"] = ", ".join(projected)
        kwargs["ExpressionAttributeNames"].update(projected)
        return kwargs

    def segment(self, tenant: str, debtor_id: str, first_seq: int, last_seq: int) -> Iterator[AuditEvent]:
        """One chain from ``first_seq`` to ``last_seq``, page by page (never the whole chain in memory)."""
        paginator = self._client.get_paginator("query")
        with storage_errors():
            for page in paginator.paginate(
                TableName=self._table,
                KeyConditionExpression="pk = :p AND seq BETWEEN :a AND :b",
                ExpressionAttributeValues={
                    ":p": {"S": person_key(tenant, debtor_id)},
                    ":a": {"N": str(first_seq)},
                    ":b": {"N": str(last_seq)},
                },
                ConsistentRead=True,
                ProjectionExpression="body",
                PaginationConfig={"PageSize": 500},
            ):
                yield from (as_event(read_body(i["body"])) for i in page.get("Items", []))

    def by_keys(self, tenant: str, keys: Sequence[tuple[str, int]]) -> list[AuditEvent]:
        """The events stored at (debtor_id, seq), in the order asked; a key with nothing stored is absent.

        Strongly consistent GetItems, a few in flight at once: the audit table's roles may Put, Get and
        Query, nothing else (docs/decisions/0011), and a GetItem costs the same read units as the item's
        share of a BatchGetItem. The order is the keys', never the bodies' own seq: two swapped events stay
        swapped, for verification to see."""
        found = self._bodies([(person_key(tenant, debtor_id), seq) for debtor_id, seq in keys], consistent=True)
        return [as_event(body) for body in found if body is not None]

    def extend_retention(self, pk: str, seq: int, expires_at: int) -> int:
        """The retention pass's only write: the same item put again with a later ``expires_at`` (TTL), and
        so each later event of its contact's run, which ``by_expiry`` lists by their leader alone (a sent
        text's three events cost that index one write, not three). Returns how many items moved."""
        item, moved = self._renew(pk, seq, expires_at), 1
        for follower in range(seq + 1, seq + int(item.get("contact_run", {}).get("N", 1))):
            try:
                self._renew(pk, follower, expires_at)
                moved += 1
            except ConflictError:
                continue  # gone already, or kept longer by a later retention
        return moved

    def _renew(self, pk: str, seq: int, expires_at: int) -> dict[str, Any]:
        """A PutItem, not an UpdateItem, so that no role anywhere may update an audit item. The put is
        conditional on every stored attribute but the TTL's two (``expires_at`` and its index key
        ``expiry_day``) being the ones just read, and on the TTL only moving later: nothing but the TTL
        changes, and a concurrent pass's later TTL is never undone (docs/decisions/0029)."""
        with storage_errors():
            item = self._client.get_item(
                TableName=self._table, Key={"pk": {"S": pk}, "seq": {"N": str(seq)}}, ConsistentRead=True
            ).get("Item")
        if item is None:
            raise ConflictError("the event is gone")
        expires = datetime.fromtimestamp(expires_at, UTC)
        shard = index_shard(item["tenant"]["S"], item["debtor_id"]["S"], self.shards.expiry)
        renewed = {**item, "expires_at": {"N": str(expires_at)}, "expiry_day": {"S": f"{expires.date()}#{shard}"}}
        kept = sorted(set(item) - {"pk", "seq", "expires_at", "expiry_day"})
        names = {f"#a{n}": name for n, name in enumerate(kept)}
        values = {f":a{n}": item[name] for n, name in enumerate(kept)} | {":e": {"N": str(expires_at)}}
        same = " AND ".join(f"#a{n} = :a{n}" for n in range(len(kept)))
        if "hash" not in item:  # an incident: kept outside the chain, with no hash
            same, names["#hash"] = f"{same} AND attribute_not_exists(#hash)", "hash"
        with storage_errors():
            self._client.put_item(
                TableName=self._table,
                Item=renewed,
                ConditionExpression=f"attribute_exists(pk) AND {same} AND expires_at < :e",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        return item

    def expiring(self, day: date) -> Iterator[dict[str, Any]]:
        """Keys of the items whose TTL falls on ``day`` (UTC): pk, seq, tenant, debtor_id, expires_at; every
        shard of the day in turn, and the key of before the sharding."""
        paginator = self._client.get_paginator("query")
        for key in (day.isoformat(), *(f"{day}#{k}" for k in range(self.shards.expiry))):
            with storage_errors():
                for page in paginator.paginate(
                    TableName=self._table,
                    IndexName="by_expiry",
                    KeyConditionExpression="expiry_day = :d",
                    ExpressionAttributeValues={":d": {"S": key}},
                ):
                    yield from (plain_item(i) for i in page.get("Items", []))


def _address_entry(tenant: str, item: dict[str, Any]) -> dict[str, Any]:
    contact = item.get("contact_key", {}).get("S")
    return {
        "debtor_id": item["debtor_id"]["S"],
        "seq": int(item["seq"]["N"]),
        "at_key": item["at_key"]["S"],
        "contact_id": contact.removeprefix(f"{tenant}#") if contact else None,
    }
