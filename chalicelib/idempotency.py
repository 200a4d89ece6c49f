"""Idempotent submits: Powertools idempotency over DynamoDB, keyed on tenant + ``Idempotency-Key``.

A replay with the same body returns the first response and sends nothing; the same key with a
different body fails validation (the route answers 422).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)

KEY_TTL_SECONDS = 24 * 3600

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
