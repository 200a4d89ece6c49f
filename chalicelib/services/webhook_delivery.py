"""Webhook delivery: committed events become signed messages on the webhook queue, and each message is posted
to its receiver, tried again on a schedule for more than a day, then kept in the dead letters.

The audit appender calls ``announce`` with each ledger image it appends, so every committed event is seen
once it is in the audit table, off the request path; a redelivered image announces again under the same
message ids (at least once; receivers drop duplicates by ``webhook-id``). docs/decisions/0031.
"""

from __future__ import annotations

import base64
import json
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from standardwebhooks import Webhook

from chalicelib.domain import webhooks as rules
from chalicelib.domain.errors import StorageUnavailableError
from chalicelib.domain.events import AuditEvent
from chalicelib.domain.ledger import Ledger
from chalicelib.domain.ports import Answer, DeliveryLog, Queue, SecretBox, WebhookPoster, WebhookRegistry
from chalicelib.domain.webhook_events import Publication, publications, wants

logger = logging.getLogger(__name__)

MAX_DELAY = 900  # SQS: a message can be hidden at most 15 minutes; a longer wait takes several hops
LOG_DAYS = 7  # how long an attempt is shown by GET /v1/webhooks/{id}/deliveries


@dataclass
class Webhooks:
    """What announcing and delivering need: the registry, the attempts log, the secrets' box, the HTTP
    client, the queue and its dead letters, and which URLs this deployment delivers to."""

    registry: WebhookRegistry
    log: DeliveryLog
    box: SecretBox
    poster: WebhookPoster
    queue: Queue
    dead: Queue
    mode: rules.UrlMode = "public"
    cache_for: timedelta = timedelta(seconds=30)  # a new or deleted webhook is seen by then
    _hooks: dict[str, tuple[datetime, list[dict[str, Any]]]] = field(default_factory=dict)
    _secrets: dict[str, bytes] = field(default_factory=dict)

    def hooks(self, tenant: str, now: datetime) -> list[dict[str, Any]]:
        """The tenant's webhooks, read at most once per ``cache_for``: a tenant without any costs one read."""
        cached = self._hooks.get(tenant)
        if cached is None or abs(now - cached[0]) >= self.cache_for:  # a clock set back reads again too
            cached = (now, self.registry.for_tenant(tenant))
            self._hooks[tenant] = cached
        return cached[1]

    def forget(self, tenant: str) -> None:
        self._hooks.pop(tenant, None)

    def secret(self, hook: dict[str, Any]) -> bytes:
        key = hook["webhook_id"]
        if key not in self._secrets:
            self._secrets[key] = self.box.open(base64.b64decode(hook["secret_sealed"]), secret_context(hook))
        return self._secrets[key]


def secret_context(hook: dict[str, Any]) -> dict[str, str]:
    return {"purpose": "webhook-secret", "tenant": hook["tenant"], "webhook_id": hook["webhook_id"]}


# -- announcing ---------------------------------------------------------------------------------------------


def announce(webhooks: Webhooks, ledger: Ledger, events: Sequence[AuditEvent], now: datetime) -> int:
    """Queue the events of one committed ledger for each webhook that subscribes to them; how many were queued.
    Raises ``StorageUnavailableError`` if the queue did not take them (the appender tries the image again)."""
    messages = [
        message(hook, pub.kind, event_time(pub), pub.data, pub.key, now)
        for pub in publications(ledger, events)
        for hook in webhooks.hooks(pub.tenant, now)
        if wants(hook, pub)
    ]
    return send(webhooks, messages)


def announcer(webhooks: Webhooks, now: Callable[[], datetime]) -> Callable[[Ledger, Sequence[AuditEvent]], int]:
    """``announce`` on the clock ``now``, as the audit appender takes it. A storage failure propagates (the
    image comes again); any other error is logged and the events go unannounced: the audit trail is never
    held back by a webhook (a bug would fail the same image on every redelivery)."""

    def announce_now(ledger: Ledger, events: Sequence[AuditEvent]) -> int:
        try:
            return announce(webhooks, ledger, events, now())
        except StorageUnavailableError:
            raise
        except Exception:  # noqa: BLE001 - see above: the trail goes on, the error is logged with its trace
            logger.exception("webhook events of one ledger were not announced")
            return 0

    return announce_now


def announce_export(webhooks: Webhooks, tenant: str, job: dict[str, Any], now: datetime) -> int:
    """``export.done``: a finished export job, to the tenant's webhooks (never an agency's)."""
    data = {k: job.get(k) for k in ("export_id", "status", "masked", "finished_at", "expires_at")}
    data["export_id"] = data["export_id"] or job.get("id")
    pub = Publication(tenant, "export.done", data, key=("export", data["export_id"], job.get("status")))
    hooks = [h for h in webhooks.hooks(tenant, now) if wants(h, pub)]
    return send(webhooks, [message(h, pub.kind, now.isoformat(), data, pub.key, now) for h in hooks])


def event_time(pub: Publication) -> str:
    return str(pub.data.get("at"))


def message(
    hook: dict[str, Any], kind: str, at: str, data: dict[str, Any], key: tuple[Any, ...], now: datetime
) -> dict[str, Any]:
    return {
        "tenant": hook["tenant"],
        "webhook_id": hook["webhook_id"],
        "msg_id": rules.message_id(hook["webhook_id"], *key),
        "payload": rules.envelope(kind, datetime.fromisoformat(at), data),
        "attempt": 1,
        "first_at": now.isoformat(),
    }


def send(webhooks: Webhooks, messages: list[dict[str, Any]], delays: list[int] | None = None) -> int:
    if messages and webhooks.queue.send_many(messages, delays):
        raise StorageUnavailableError("the webhook queue did not take every message")
    return len(messages)


# -- delivering ---------------------------------------------------------------------------------------------


def body_of(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def headers(secret: bytes, msg_id: str, at: datetime, body: bytes) -> dict[str, str]:
    """Standard Webhooks: the signature covers ``<id>.<timestamp>.<body>``."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, at, body),
    }


def attempt(webhooks: Webhooks, body: dict[str, Any], now: datetime, failing: set[str] | None = None) -> str:
    """Handle one queued message: ``delivered``, ``retry``, ``dead``, ``waiting`` (re-queued until its time)
    or ``dropped`` (its webhook was deleted). ``failing``: webhooks that failed earlier in this batch; their
    messages are not posted again now (a dead receiver costs one timeout a batch, not ten)."""
    not_before = body.get("not_before")
    if not_before and datetime.fromisoformat(not_before) > now:
        return _requeue(webhooks, body, datetime.fromisoformat(not_before), now, "waiting")
    hook = next((h for h in webhooks.hooks(body["tenant"], now) if h["webhook_id"] == body["webhook_id"]), None)
    if hook is None:
        return "dropped"
    if failing is not None and hook["webhook_id"] in failing:
        answer = Answer(None, "not tried: this receiver failed a moment ago")
    else:
        answer = post(webhooks, hook, body, now)
    if rules.delivered(answer.status):
        outcome, later = "delivered", None
    else:
        later = rules.next_attempt(int(body["attempt"]), now)
        outcome = "retry" if later else "dead"
        if failing is not None:
            failing.add(hook["webhook_id"])
    _log(webhooks, body, answer, outcome, later, now)
    if outcome == "dead":
        webhooks.dead.send({**body, "last_answer": {"status": answer.status, "detail": answer.detail}})
    elif later is not None:
        _requeue(webhooks, {**body, "attempt": int(body["attempt"]) + 1}, later, now, outcome)
    return outcome


def post(webhooks: Webhooks, hook: dict[str, Any], body: dict[str, Any], now: datetime) -> Answer:
    """Checked at every attempt (DNS may answer differently now), then signed and posted to the checked address."""
    try:
        host = rules.check_url(hook["url"], webhooks.mode)
        address = rules.check_addresses(host, webhooks.poster.resolve(host), webhooks.mode)
    except rules.WebhookUrlError as exc:
        return Answer(None, f"refused: {exc}")
    raw = body_of(body["payload"])
    return webhooks.poster.post(hook["url"], address, raw, headers(webhooks.secret(hook), body["msg_id"], now, raw))


def _requeue(webhooks: Webhooks, body: dict[str, Any], at: datetime, now: datetime, outcome: str) -> str:
    delay = max(0, min(MAX_DELAY, math.ceil((at - now).total_seconds())))
    send(webhooks, [{**body, "not_before": at.isoformat()}], [delay])
    return outcome


def _log(
    webhooks: Webhooks, body: dict[str, Any], answer: Answer, outcome: str, later: datetime | None, now: datetime
) -> None:
    entry = {
        "msg_id": body["msg_id"],
        "type": body["payload"]["type"],
        "attempt": int(body["attempt"]),
        "at": now.isoformat(),
        "status": answer.status,
        "answer": answer.detail,
        "ms": answer.ms,
        "outcome": outcome,
        "next_at": later.isoformat() if later else None,
    }
    try:
        webhooks.log.record(
            body["tenant"], body["webhook_id"], entry, int((now + timedelta(days=LOG_DAYS)).timestamp())
        )
    except Exception:  # noqa: BLE001 - the attempt happened; a missing log line must not repeat it
        logger.warning("a webhook attempt was not logged")
