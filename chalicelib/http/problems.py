"""Problems of the HTTP edge (RFC 9457): the ``Problem`` a route answers, and each error type's problem."""

from __future__ import annotations

import json
import logging
from typing import Any

from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyPersistenceLayerError,
    IdempotencyValidationError,
)
from chalice import Response

from chalicelib.domain.access import AccessError, AlreadyRevokedError
from chalicelib.domain.errors import (
    DuplicateContactError,
    GoneError,
    InvalidFieldError,
    NotFoundError,
    StorageUnavailableError,
)
from chalicelib.domain.policy import PolicyError
from chalicelib.services.batches import BatchKeyReusedError
from chalicelib.services.calls import InvalidOutcomeError, NotAVoicePermitError
from chalicelib.services.disputes import DisputeResolvedError

logger = logging.getLogger("chalicelib.http")  # one logger for the edge, whichever module logs

PROBLEM = "application/problem+json"


class Problem(Exception):
    """An RFC 9457 problem; ``errors`` names each offending field."""

    def __init__(self, status: int, title: str, detail: str, errors: list[dict[str, str]] | None = None) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.errors = status, title, detail, errors or []

    def body(self, instance: str | None = None) -> dict[str, Any]:
        slug = self.title.lower().replace(" ", "-")
        body: dict[str, Any] = {
            "type": f"https://gateway.example/problems/{slug}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        if self.errors:
            body["errors"] = self.errors
        return body


# Why the authorizer found no principal, as the caller is told (never which tenant a key belonged to).
UNAUTHENTICATED = {
    "missing": "send an API key: Authorization: Bearer <key>",
    "unknown": "this API key is not known",
    "revoked": "this API key was revoked",
}


def unauthorized(reason: str) -> Problem:
    detail = UNAUTHENTICATED.get(reason, UNAUTHENTICATED["unknown"])
    return Problem(401, "Unauthorized", detail, [{"field": "Authorization", "message": detail}])


def problem_response(problem: Problem, instance: str | None = None) -> Response:
    headers: dict[str, str | list[str]] = {"Content-Type": PROBLEM}
    if problem.status == 405:
        headers["Allow"] = problem.detail.rsplit("; use ", 1)[-1]
    if problem.status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="contact-gateway"'
    return Response(
        body=json.dumps(problem.body(instance), ensure_ascii=False), status_code=problem.status, headers=headers
    )


def as_problem(exc: Exception) -> Problem:
    if isinstance(exc, Problem):
        return exc
    if isinstance(exc, NotFoundError):
        return Problem(404, "Not found", f"no such object: {exc}")
    if isinstance(exc, GoneError):
        return Problem(410, "Gone", str(exc))
    if isinstance(exc, (InvalidOutcomeError, InvalidFieldError, AccessError)):
        return Problem(400, "Invalid request", f"{exc.field}: {exc}", [{"field": exc.field, "message": str(exc)}])
    return _idempotency_problem(exc) or _conflict_problem(exc) or _server_problem(exc)


def _idempotency_problem(exc: Exception) -> Problem | None:
    if isinstance(exc, (IdempotencyValidationError, BatchKeyReusedError)):
        return Problem(
            422,
            "Idempotency key reused",
            "this Idempotency-Key was used with a different body",
            [{"field": "Idempotency-Key", "message": "reused with a different body"}],
        )
    if isinstance(exc, IdempotencyAlreadyInProgressError):
        return Problem(
            409,
            "Request in progress",
            "a request with this Idempotency-Key is still in progress",
            [{"field": "Idempotency-Key", "message": "in progress"}],
        )
    if isinstance(exc, IdempotencyPersistenceLayerError):
        logger.error("idempotency store unavailable: %s", exc)
        return Problem(503, "Dependency unavailable", "the idempotency store failed; retry with the same key")
    return None


def _conflict_problem(exc: Exception) -> Problem | None:
    if isinstance(exc, AlreadyRevokedError):
        return Problem(
            409, "Already revoked", "this key was revoked before", [{"field": "key_id", "message": "revoked"}]
        )
    if isinstance(exc, DisputeResolvedError):
        return Problem(
            409,
            "Already resolved",
            f"dispute {exc} was resolved before",
            [{"field": "dispute_id", "message": "resolved"}],
        )
    if isinstance(exc, NotAVoicePermitError):
        return Problem(409, "Not a voice permit", str(exc), [{"field": "contact_id", "message": str(exc)}])
    if isinstance(exc, DuplicateContactError):
        return Problem(
            409,
            "Already processed",
            f"this Idempotency-Key's request was already handled as {exc}",
            [{"field": "Idempotency-Key", "message": f"already handled: GET /v1/contacts/{exc}"}],
        )
    return None


def _server_problem(exc: Exception) -> Problem:
    if isinstance(exc, (StorageUnavailableError, PolicyError)):
        logger.error("dependency unavailable: %s", exc)
        return Problem(503, "Dependency unavailable", "a dependency failed; nothing was sent")
    logger.exception("unhandled error")
    return Problem(500, "Internal error", "the request failed; its outcome is recorded in the audit trail")
