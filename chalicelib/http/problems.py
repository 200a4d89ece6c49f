"""Problems of the HTTP edge (RFC 9457): the ``Problem`` a route answers, and each error type's problem."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
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
    SecretUnavailableError,
    StorageUnavailableError,
)
from chalicelib.domain.policy import PolicyError
from chalicelib.domain.templates import MakerCheckerError, TemplateStateError
from chalicelib.services.batches import BatchKeyReusedError
from chalicelib.services.calls import InvalidOutcomeError, NotAVoicePermitError, OutcomeAlreadyReportedError
from chalicelib.services.disputes import DisputeResolvedError
from chalicelib.services.exports import ReasonRequiredError
from chalicelib.services.template_contacts import RawMessageRefusedError, TemplateRefusedError
from chalicelib.services.templates import ContentFindingsError

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

    def headers(self) -> dict[str, str]:
        """Headers the answer carries besides its Content-Type."""
        return {}


class MethodNotAllowed(Problem):
    """A method the route does not serve; the answer's ``Allow`` lists the ones it does."""

    def __init__(self, method: str, allowed: tuple[str, ...]) -> None:
        self.allowed = allowed
        super().__init__(405, "Method not allowed", f"{method} is not allowed here; use {', '.join(allowed)}")

    def headers(self) -> dict[str, str]:
        return {"Allow": ", ".join(self.allowed)}


class Unauthorized(Problem):
    """No principal: no key, or one that is unknown or revoked. The answer names the scheme to use."""

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": 'Bearer realm="contact-gateway"'}


class InvalidJsonError(Problem):
    """A body that is not JSON at all (as opposed to JSON that breaks a model's rules)."""

    def __init__(self, message: str) -> None:
        super().__init__(
            400, "Malformed JSON", "the request body is not valid JSON", [{"field": "body", "message": message}]
        )


# Why the authorizer found no principal, as the caller is told (never which tenant a key belonged to).
UNAUTHENTICATED = {
    "missing": "send an API key: Authorization: Bearer <key>",
    "unknown": "this API key is not known",
    "revoked": "this API key was revoked",
}


def unauthorized(reason: str) -> Unauthorized:
    detail = UNAUTHENTICATED.get(reason, UNAUTHENTICATED["unknown"])
    return Unauthorized(401, "Unauthorized", detail, [{"field": "Authorization", "message": detail}])


def problem_response(problem: Problem, instance: str | None = None) -> Response:
    headers: dict[str, str | list[str]] = {"Content-Type": PROBLEM, **problem.headers()}
    return Response(
        body=json.dumps(problem.body(instance), ensure_ascii=False), status_code=problem.status, headers=headers
    )


def _invalid_field(exc: Any) -> Problem:
    return Problem(400, "Invalid request", f"{exc.field}: {exc}", [{"field": exc.field, "message": str(exc)}])


def _key_reused(_exc: Exception) -> Problem:
    return Problem(
        422,
        "Idempotency key reused",
        "this Idempotency-Key was used with a different body",
        [{"field": "Idempotency-Key", "message": "reused with a different body"}],
    )


def _in_progress(_exc: Exception) -> Problem:
    return Problem(
        409,
        "Request in progress",
        "a request with this Idempotency-Key is still in progress",
        [{"field": "Idempotency-Key", "message": "in progress"}],
    )


def _idempotency_store_down(exc: Exception) -> Problem:
    logger.error("idempotency store unavailable: %s", exc)
    return Problem(503, "Dependency unavailable", "the idempotency store failed; retry with the same key")


def _dependency_down(exc: Exception) -> Problem:
    logger.error("dependency unavailable: %s", exc)
    return Problem(503, "Dependency unavailable", "a dependency failed; nothing was sent")


def _secret_down(exc: Exception) -> Problem:
    logger.error("secret unavailable: %s", exc)
    return Problem(503, "Dependency unavailable", "a secret could not be read; nothing was changed, retry later")


def _already_handled(exc: Exception) -> Problem:
    return Problem(
        409,
        "Already processed",
        f"this Idempotency-Key's request was already handled as {exc}",
        [{"field": "Idempotency-Key", "message": f"already handled: GET /v1/contacts/{exc}"}],
    )


def _findings(exc: ContentFindingsError) -> Problem:
    errors = [{"field": "text", **{k: str(v) for k, v in f.to_json().items()}} for f in exc.findings]
    rules = ", ".join(dict.fromkeys(f.rule for f in exc.findings))
    return Problem(422, "Content findings", f"the version breaks content rules ({rules}): not approved", errors)


# Each error type's problem. An error is looked up by its class, then by each base class in turn, so a
# subclass answers as its base unless it has its own row. Nothing here reads an error's message to decide.
PROBLEMS: dict[type[Exception], Callable[[Any], Problem]] = {
    NotFoundError: lambda exc: Problem(404, "Not found", f"no such object: {exc}"),
    GoneError: lambda exc: Problem(410, "Gone", str(exc)),
    InvalidOutcomeError: _invalid_field,
    InvalidFieldError: _invalid_field,
    ReasonRequiredError: lambda exc: Problem(
        422, "Reason required", f"reason: {exc}", [{"field": "reason", "message": str(exc)}]
    ),
    AccessError: _invalid_field,
    IdempotencyValidationError: _key_reused,
    BatchKeyReusedError: _key_reused,
    IdempotencyAlreadyInProgressError: _in_progress,
    IdempotencyPersistenceLayerError: _idempotency_store_down,
    AlreadyRevokedError: lambda _exc: Problem(
        409, "Already revoked", "this key was revoked before", [{"field": "key_id", "message": "revoked"}]
    ),
    DisputeResolvedError: lambda exc: Problem(
        409, "Already resolved", f"dispute {exc} was resolved before", [{"field": "dispute_id", "message": "resolved"}]
    ),
    NotAVoicePermitError: lambda exc: Problem(
        409, "Not a voice permit", str(exc), [{"field": "contact_id", "message": str(exc)}]
    ),
    OutcomeAlreadyReportedError: lambda exc: Problem(  # the answer it gave when it was NotAVoicePermitError
        409, "Not a voice permit", str(exc), [{"field": "contact_id", "message": str(exc)}]
    ),
    DuplicateContactError: _already_handled,
    StorageUnavailableError: _dependency_down,
    SecretUnavailableError: _secret_down,
    PolicyError: _dependency_down,
    MakerCheckerError: lambda exc: Problem(
        403, "Maker-checker", str(exc), [{"field": "Authorization", "message": "wrote this version"}]
    ),
    TemplateStateError: lambda exc: Problem(
        409, "Version state", str(exc), [{"field": "version", "message": str(exc)}]
    ),
    ContentFindingsError: _findings,
    TemplateRefusedError: lambda exc: Problem(
        422, "Template refused", f"{exc.field}: {exc}", [{"field": exc.field, "message": str(exc)}]
    ),
    RawMessageRefusedError: lambda exc: Problem(
        422, "Approved templates required", f"message: {exc}", [{"field": "message", "message": str(exc)}]
    ),
}


def as_problem(exc: Exception) -> Problem:
    """The problem ``exc`` answers as: its own if it is one, its type's, or a 500 (logged with its trace)."""
    if isinstance(exc, Problem):
        return exc
    for kind in type(exc).__mro__:
        make = PROBLEMS.get(kind)
        if make is not None:
            return make(exc)
    logger.exception("unhandled error")
    return Problem(500, "Internal error", "the request failed; its outcome is recorded in the audit trail")
