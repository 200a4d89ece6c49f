"""Batch intake: a campaign's contact requests, validated together, queued on SQS, decided one by one.

Each request of a batch has a contact id fixed when the batch is accepted (from its own
``idempotency_key``, else from the batch id and its index), so a redelivered message, or the same batch
posted again under the same ``Idempotency-Key``, finds the contact already handled and sends nothing twice.
Every request goes through the same ``submit_contact`` as ``POST /v1/contacts``: same decision, same
ledger commit, same audit trail.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain.access import Principal
from chalicelib.domain.errors import DuplicateContactError, NotFoundError, StorageUnavailableError
from chalicelib.domain.model import ContactRequest
from chalicelib.domain.templates import TemplateTextError, TemplateVariableError
from chalicelib.services import contacts, ids
from chalicelib.services.template_contacts import RawMessageRefusedError, TemplateRefusedError
from chalicelib.services.unit_of_work import UnitOfWork

logger = logging.getLogger(__name__)

# A request whose template cannot render or send, or whose raw body its tenant refuses: recorded invalid.
REFUSED = (TemplateRefusedError, RawMessageRefusedError, TemplateVariableError, TemplateTextError)

MAX_ITEMS = 500
KEEP_FOR = timedelta(days=7)
# After this many deliveries a request that keeps failing is recorded as failed (nothing was sent for it:
# a failure before the commit sends nothing, one after it is the contact's own `failed` or `unknown`).
MAX_DELIVERIES = 5
PER_MESSAGE = 10
# Five deliveries 120 s apart and the decisions themselves: no new result for this long means stuck.
STALLED_AFTER = timedelta(minutes=30)
MESSAGE_BYTES = 200_000


def batch_key(tenant: str, batch_id: str) -> str:
    return f"{tenant}#{batch_id}"


def new_batch_id(caller: Principal, idempotency_key: str | None, now: datetime) -> str:
    """The same Idempotency-Key names the same batch, so a repost queues nothing new."""
    if idempotency_key:
        scope = json.dumps([caller.tenant, caller.agency, idempotency_key])
        return "bt_" + hashlib.sha256(scope.encode()).hexdigest()[:24]
    return f"bt_{now:%Y%m%d%H%M%S}_{secrets.token_hex(6)}"


def _ttl(now: datetime) -> int:
    return int((now + KEEP_FOR).timestamp())


def accept(
    caller: Principal,
    bodies: list[dict[str, Any]],
    deps: UnitOfWork,
    now: datetime,
    *,
    idempotency_key: str | None = None,
    rejected: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Record the batch and queue its valid requests (``bodies``: index, body, item key); 202 at once.

    ``rejected`` are the requests that failed validation, kept in the batch as ``invalid`` results.
    """
    batch_id = new_batch_id(caller, idempotency_key, now)
    pk, total = batch_key(caller.tenant, batch_id), len(bodies) + len(rejected or [])
    fingerprint = hashlib.sha256(json.dumps([bodies, rejected or []], sort_keys=True).encode()).hexdigest()
    header = {
        "batch_id": batch_id,
        "tenant": caller.tenant,
        "agency": caller.agency,
        "submitted_by": caller.key_id,
        "created_at": now.isoformat(),
        "total": total,
        "queued": len(bodies),
        "rejected": len(rejected or []),
        "fingerprint": fingerprint,
        "state": "queuing",
    }
    if not deps.batches.create(pk, header, _ttl(now)):
        existing, _ = deps.batches.read(pk)
        if existing is None or existing.get("fingerprint") != fingerprint:
            raise BatchKeyReusedError(batch_id)
        if existing.get("state") == "queued":
            return {"batch_id": batch_id, "status": "accepted", "total": existing["total"], "replayed": True}
        header = existing  # a first run stopped while queuing: queue it all again (contact ids are fixed)
    return _queue(caller, pk, header, bodies, rejected or [], deps, now)


def _queue(
    caller: Principal,
    pk: str,
    header: dict[str, Any],
    bodies: list[dict[str, Any]],
    rejected: list[dict[str, Any]],
    deps: UnitOfWork,
    now: datetime,
) -> dict[str, Any]:
    for item in rejected:
        deps.batches.record(
            pk, item["index"], {"index": item["index"], "status": "invalid", "errors": item["errors"]}, _ttl(now)
        )
    messages = _messages(caller, header["batch_id"], bodies)
    failed = deps.batch_queue.send_many(messages)
    unqueued = [request["index"] for position in failed for request in messages[position]["requests"]]
    for index in unqueued:  # SQS refused these: recorded, so the batch still completes and says so
        deps.batches.record(pk, index, {"index": index, "status": "failed", "error": "could not be queued"}, _ttl(now))
    try:
        deps.batches.replace_header(pk, {**header, "state": "queued"}, _ttl(now))
    except StorageUnavailableError:  # all is queued: a replay under the same key would only queue it again
        logger.warning("batch %s queued; its header still says queuing", header["batch_id"])
    body = {"batch_id": header["batch_id"], "status": "accepted", "total": header["total"]}
    return {**body, "queued": len(bodies) - len(unqueued)}


class BatchKeyReusedError(Exception):
    """This Idempotency-Key named a batch with other requests: refused, nothing queued."""


def _messages(caller: Principal, batch_id: str, bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Up to ten requests a message, and well under SQS's 256 KB: a tenth of the queue's calls and messages."""
    groups: list[list[dict[str, Any]]] = [[]]
    size = 0
    for item in bodies:
        request = _request(caller, batch_id, item)
        length = len(json.dumps(request).encode())  # as the queue sends it
        if groups[-1] and (len(groups[-1]) == PER_MESSAGE or size + length > MESSAGE_BYTES):
            groups.append([])
            size = 0
        groups[-1].append(request)
        size += length
    head = {"tenant": caller.tenant, "agency": caller.agency, "submitted_by": caller.key_id, "batch_id": batch_id}
    return [{**head, "requests": group} for group in groups if group]


def _request(caller: Principal, batch_id: str, item: dict[str, Any]) -> dict[str, Any]:
    body, index = item["body"], item["index"]
    key = item.get("idempotency_key") or f"{batch_id}#{index}"
    contact_id = ids.contact_id_for_key(caller.tenant, body["debtor_id"], key, caller.agency)
    return {"index": index, "contact_id": contact_id, "body": body}


def process(
    message: dict[str, Any],
    to_request: Callable[[dict[str, Any], dict[str, Any]], ContactRequest],
    deps: UnitOfWork,
    now: Callable[[], datetime],
    *,
    redelivered: bool = False,
) -> list[tuple[dict[str, Any], Exception]]:
    """Decide each request of one message and record its result; returns the requests that failed.

    A redelivered message skips the requests whose result is already recorded: one request's failure
    never decides the others twice (and could not send twice: their contact ids are fixed)."""
    pk = batch_key(message["tenant"], message["batch_id"])
    done = {r["index"] for r in deps.batches.read(pk)[1]} if redelivered else set()
    failures = []
    for queued in message["requests"]:
        if queued["index"] in done:
            continue
        try:
            result = _decide(message, queued, to_request, deps, now())
            deps.batches.record(pk, queued["index"], result, _ttl(now()))
        except Exception as exc:  # noqa: BLE001 - reported to the caller, who retries or gives up
            failures.append((queued, exc))
    return failures


def _decide(
    message: dict[str, Any],
    queued: dict[str, Any],
    to_request: Callable[[dict[str, Any], dict[str, Any]], ContactRequest],
    deps: UnitOfWork,
    now: datetime,
) -> dict[str, Any]:
    index, contact_id = queued["index"], queued["contact_id"]
    try:
        request = to_request(message, queued["body"])
    except REFUSED as exc:  # the template or the raw body cannot send: no delivery would change that
        error = {"field": f"contacts[{index}].{getattr(exc, 'field', 'message')}", "message": str(exc)}
        return {"index": index, "contact_id": contact_id, "status": "invalid", "errors": [error]}
    try:
        answer = contacts.submit_contact(request, deps, now, contact_id=contact_id)
    except DuplicateContactError:
        found = contacts.get_contact(request.tenant, contact_id, deps)
        return {"index": index, "contact_id": contact_id, "status": found["status"], "duplicate": True}
    assert answer is not None
    result = _result(index, contact_id, answer.to_json(), now)
    result["packs"] = list(answer.decision.inputs.get("packs", []))  # which jurisdictions decided it
    return result


def give_up(message: dict[str, Any], queued: dict[str, Any], deps: UnitOfWork, now: datetime, error: str) -> None:
    """A request that failed every delivery: recorded as failed, so its batch completes and says why."""
    pk, index = batch_key(message["tenant"], message["batch_id"]), queued["index"]
    result = {"index": index, "contact_id": queued["contact_id"], "status": "failed", "error": error}
    deps.batches.record(pk, index, result, _ttl(now))


def _result(index: int, contact_id: str, answer: dict[str, Any], now: datetime) -> dict[str, Any]:
    decision = answer["decision"]
    return {
        "index": index,
        "contact_id": contact_id,
        "status": answer["status"],
        "outcome": decision["outcome"],
        "not_before": decision["not_before"],
        "rules": [r["rule"] for r in decision["reasons"]],
        "decided_at": now.isoformat(),
    }


def status(tenant: str, batch_id: str, deps: UnitOfWork, now: datetime, *, agency: str | None = None) -> dict[str, Any]:
    """Progress and every result so far; an agency sees only its own batches. A batch with no new
    result for ``STALLED_AFTER`` is ``stalled``: its remaining requests are in the dead-letter queue or
    were never queued (a first run that stopped: post it again with the same Idempotency-Key)."""
    header, results = deps.batches.read(batch_key(tenant, batch_id))
    if header is None or (agency is not None and header.get("agency") != agency):
        raise NotFoundError(batch_id)
    counts: dict[str, int] = {}
    for result in results:
        counts[result["status"]] = counts.get(result["status"], 0) + 1
    done = len(results)
    last = max([header["created_at"], *(str(r.get("decided_at", "")) for r in results)])
    state = "done" if done >= header["total"] else "running"
    if state == "running" and now - datetime.fromisoformat(last) > STALLED_AFTER:
        state = "stalled"
    return {
        "batch_id": batch_id,
        "status": state,
        "created_at": header["created_at"],
        "progress": {"total": header["total"], "done": done, "by_status": counts},
        "results": sorted(results, key=lambda r: r["index"]),
    }
