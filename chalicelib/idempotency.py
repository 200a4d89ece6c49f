"""Idempotent submits: Powertools idempotency over DynamoDB, keyed on tenant + ``Idempotency-Key``.

A replay with the same body returns the first response and sends nothing; the same key with a
different body fails validation (the route answers 422).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)

from chalicelib.domain.model import Channel
from chalicelib.http.models import ContactIn
from chalicelib.services import contacts, ids, template_contacts
from chalicelib.services.unit_of_work import UnitOfWork

KEY_TTL_SECONDS = 24 * 3600
# Powertools names each stored key after the function it wraps ("<function>.<module>.<qualname>#<hash>").
# The handler was app._submit when the first keys were stored: it keeps that name, so a replay sent across
# a deployment still finds its record.
STORED_AS = ("app", "_submit")

Handler = Callable[..., dict[str, Any]]


def make_idempotent(handler: Handler, client: Any, table: str) -> tuple[Handler, IdempotencyConfig]:
    """Wrap ``handler(payload=...)``; the payload is ``{"tenant", "agency", "key", "route", "body"}``."""
    persistence = DynamoDBPersistenceLayer(table_name=table, boto3_client=client)
    config = IdempotencyConfig(
        event_key_jmespath="[tenant, agency, route, key]",
        payload_validation_jmespath="body",
        expires_after_seconds=KEY_TTL_SECONDS,
        raise_on_no_idempotency_key=True,
    )
    wrapped = idempotent_function(data_keyword_argument="payload", persistence_store=persistence, config=config)(
        handler
    )
    return wrapped, config


def submit(payload: dict[str, Any], deps: UnitOfWork, now: datetime) -> dict[str, Any]:
    """One ``POST /v1/contacts`` as the replay store keeps its answer: ``{"status", "body"}``."""
    tenant, agency = payload["tenant"], payload.get("agency") or None
    body = ContactIn.model_validate(payload["body"], strict=False)
    request = body.to_domain(tenant, agency, payload.get("submitted_by"))
    request = template_contacts.prepare(request, body.template_use(), deps, now)
    key = payload.get("key")
    contact_id = ids.contact_id_for_key(tenant, request.debtor_id, key, agency) if key else None
    result = contacts.submit_contact(request, deps, now, contact_id=contact_id)
    assert result is not None
    status = 200 if request.channel is Channel.VOICE else 202
    return {"status": status, "body": result.to_json()}


class IdempotentSubmit:
    """``submit`` once per tenant and ``Idempotency-Key``: a replay answers what the first call answered."""

    def __init__(self, handler: Handler, client: Any, table: str) -> None:
        def _submit(payload: dict[str, Any]) -> dict[str, Any]:
            return handler(payload)

        _submit.__module__, _submit.__qualname__ = STORED_AS
        self._once, self._config = make_idempotent(_submit, client, table)

    def __call__(self, payload: dict[str, Any], lambda_context: Any = None) -> dict[str, Any]:
        if lambda_context is not None:  # Powertools reads the time left, to expire an in-progress record
            self._config.register_lambda_context(lambda_context)
        return dict(self._once(payload=payload))
