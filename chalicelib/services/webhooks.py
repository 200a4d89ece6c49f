"""Webhooks, as a tenant's admin manages them: register (the secret shown once), list, delete, send a test,
and read the recent attempts. Registering and deleting are audited on the tenant's access chain."""

from __future__ import annotations

import base64
import secrets
from datetime import datetime
from typing import Any

from chalicelib.domain import webhooks as rules
from chalicelib.domain.errors import InvalidFieldError, NotFoundError
from chalicelib.domain.events import EventType
from chalicelib.services.keys import audit_access
from chalicelib.services.unit_of_work import UnitOfWork
from chalicelib.services.webhook_delivery import Webhooks, message, secret_context, send

MAX_WEBHOOKS = 10  # per tenant: each is a queue message per event it subscribes to
RECENT_ATTEMPTS = 50
# One attempt: the event, which try, when, the receiver's status code (null: no answer) and answer or error,
# how long it took, and what follows (delivered, retry at next_at, dead).
ATTEMPT_FIELDS = ("msg_id", "type", "attempt", "at", "status", "answer", "ms", "outcome", "next_at")
PUBLIC_FIELDS = ("webhook_id", "url", "events", "description", "agency", "created_at", "created_by")


def public(hook: dict[str, Any]) -> dict[str, Any]:
    """What may be shown of a webhook: never its secret, sealed or not."""
    return {name: hook.get(name) for name in PUBLIC_FIELDS}


def check_events(events: list[str], agency: str | None) -> list[str]:
    unknown = [e for e in events if e not in rules.EVENT_TYPES]
    if unknown or not events:
        raise InvalidFieldError("events", f"unknown event types {unknown}; known: {', '.join(rules.EVENT_TYPES)}")
    if agency is not None and set(events) - rules.CONTACT_TYPES:
        raise InvalidFieldError("events", "an agency's webhook may subscribe only to contact.* and call.settled")
    return sorted(set(events), key=rules.EVENT_TYPES.index)


def register(
    webhooks: Webhooks,
    deps: UnitOfWork,
    now: datetime,
    *,
    tenant: str,
    url: str,
    events: list[str],
    by: str,
    description: str | None = None,
    agency: str | None = None,
) -> dict[str, Any]:
    """A new webhook; its answer holds the secret, which is stored sealed and never shown again."""
    events = check_events(events, agency)
    host = rules.check_url(url, webhooks.mode)  # the form first: a name is resolved only for a sound URL
    rules.check_addresses(host, webhooks.poster.resolve(host), webhooks.mode)
    if len(webhooks.registry.for_tenant(tenant)) >= MAX_WEBHOOKS:
        raise InvalidFieldError("url", f"a tenant may have at most {MAX_WEBHOOKS} webhooks; delete one first")
    secret, webhook_id = secrets.token_bytes(32), "wh_" + secrets.token_hex(8)
    hook: dict[str, Any] = {
        "tenant": tenant,
        "webhook_id": webhook_id,
        "url": url,
        "events": events,
        "description": description,
        "agency": agency,
        "created_at": now.isoformat(),
        "created_by": by,
    }
    hook["secret_sealed"] = base64.b64encode(webhooks.box.seal(secret, secret_context(hook))).decode()
    webhooks.registry.put(hook)
    webhooks.forget(tenant)
    audit_access(deps, tenant, now, EventType.WEBHOOK_CREATED, webhook_id, public(hook))
    return {**public(hook), "secret": rules.SECRET_PREFIX + base64.b64encode(secret).decode()}


def list_webhooks(webhooks: Webhooks, tenant: str) -> list[dict[str, Any]]:
    return [public(h) for h in sorted(webhooks.registry.for_tenant(tenant), key=lambda h: h["created_at"])]


def find(webhooks: Webhooks, tenant: str, webhook_id: str) -> dict[str, Any]:
    hook = next((h for h in webhooks.registry.for_tenant(tenant) if h["webhook_id"] == webhook_id), None)
    if hook is None:
        raise NotFoundError(webhook_id)
    return hook


def delete(
    webhooks: Webhooks, deps: UnitOfWork, now: datetime, *, tenant: str, webhook_id: str, by: str
) -> dict[str, Any]:
    """Deleted for good; messages already queued for it are dropped when their turn comes."""
    hook = find(webhooks, tenant, webhook_id)
    if not webhooks.registry.delete(tenant, webhook_id):
        raise NotFoundError(webhook_id)
    webhooks.forget(tenant)
    audit_access(deps, tenant, now, EventType.WEBHOOK_DELETED, webhook_id, {**public(hook), "deleted_by": by})
    return {**public(hook), "deleted": True, "deleted_at": now.isoformat()}


def send_test(webhooks: Webhooks, now: datetime, *, tenant: str, webhook_id: str) -> dict[str, Any]:
    """A ``webhook.test`` event to this webhook alone, through the same queue, signature and retries."""
    hook = find(webhooks, tenant, webhook_id)
    data = {"webhook_id": webhook_id, "note": "a test event: nothing happened to any contact"}
    queued = message(hook, rules.TEST_TYPE, now.isoformat(), data, ("test", now.isoformat()), now)
    send(webhooks, [queued])
    return {"webhook_id": webhook_id, "msg_id": queued["msg_id"], "type": rules.TEST_TYPE, "queued": True}


def deliveries(webhooks: Webhooks, *, tenant: str, webhook_id: str) -> dict[str, Any]:
    """The webhook's recent attempts, newest first, with what its receiver answered."""
    find(webhooks, tenant, webhook_id)
    recent = webhooks.log.recent(tenant, webhook_id, RECENT_ATTEMPTS)
    return {"webhook_id": webhook_id, "deliveries": [{k: e.get(k) for k in ATTEMPT_FIELDS} for e in recent]}
