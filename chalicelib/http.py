"""Chalice glue: JSON and problem responses, method checks, error mapping for every route."""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyPersistenceLayerError,
    IdempotencyValidationError,
)
from chalice import Chalice, Response
from chalice.app import Request

from chalicelib.api import PROBLEM, Problem
from chalicelib.domain.access import AccessError, AlreadyRevokedError, Principal, Role
from chalicelib.domain.errors import (
    DuplicateContactError,
    GoneError,
    InvalidFieldError,
    NotFoundError,
    StorageUnavailableError,
)
from chalicelib.domain.policy import PolicyError
from chalicelib.services.batches import BatchKeyReusedError
from chalicelib.services.calls import InvalidOutcomeError, NotAVoicePermitError, OutcomeAlreadyReportedError
from chalicelib.services.disputes import DisputeResolvedError

logger = logging.getLogger(__name__)

ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def current_request(app: Chalice) -> Request:
    request = app.current_request
    if request is None:  # only outside a request, which no route is
        raise RuntimeError("no current request")
    return request


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(
        body=json.dumps(body, ensure_ascii=False),
        status_code=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


def problem_response(problem: Problem, instance: str | None = None) -> Response:
    headers: dict[str, str | list[str]] = {"Content-Type": PROBLEM}
    if problem.status == 405:
        headers["Allow"] = problem.detail.rsplit("; use ", 1)[-1]
    if problem.status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="contact-gateway"'
    return Response(
        body=json.dumps(problem.body(instance), ensure_ascii=False), status_code=problem.status, headers=headers
    )


def _as_problem(exc: Exception) -> Problem:
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
    if isinstance(exc, (NotAVoicePermitError, OutcomeAlreadyReportedError)):  # one answer, as before
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


# The largest valid request (a 10,000-character message of 4-byte characters, its subject, 4 KB of
# metadata) fits well inside this; anything bigger is refused before it is parsed.
MAX_BODY_BYTES = 64 * 1024
# A batch: 500 ordinary requests fit many times over; Lambda takes at most 6 MB in one invocation.
MAX_BATCH_BODY_BYTES = 5 * 1024 * 1024


def route(
    app: Chalice,
    path: str,
    *methods: str,
    roles: tuple[Role, ...] = (),
    authorizer: Any = None,
    any_body: bool = False,
    max_body: int = MAX_BODY_BYTES,
    **kwargs: Any,
) -> Callable[[Callable[..., Response]], Any]:
    """Register ``view`` for every method so a wrong one gets a 405 problem, not Chalice's own body.

    A route either admits ``roles`` (and carries the ``authorizer`` that names the caller) or is public
    (no roles, no authorizer). A view serving several methods reads ``current_request(app).method``.
    """
    allowed = ", ".join(methods)
    if bool(roles) != (authorizer is not None):
        raise ValueError(f"{path}: a route with roles needs the authorizer, a public one neither")

    def register(view: Callable[..., Response]) -> Any:
        @functools.wraps(view)
        def wrapped(*args: Any, **params: Any) -> Response:
            request = current_request(app)
            try:
                if roles:
                    admit(request, roles)
                if request.method not in methods:
                    raise Problem(405, "Method not allowed", f"{request.method} is not allowed here; use {allowed}")
                if len(request.raw_body or b"") > max_body:
                    raise Problem(
                        413,
                        "Request body too large",
                        f"the body is larger than {max_body} bytes",
                        [{"field": "body", "message": f"at most {max_body} bytes"}],
                    )
                content_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
                if not any_body and request.method in ("POST", "PUT", "PATCH") and content_type != "application/json":
                    raise Problem(
                        415,
                        "Unsupported media type",
                        "send the body as application/json",
                        [{"field": "Content-Type", "message": "must be application/json"}],
                    )
                return view(*args, **params)
            except Exception as exc:  # noqa: BLE001 - every failure becomes a problem, never a trace
                return problem_response(_as_problem(exc), request.context.get("path") or request.path)

        wrapped.allowed_methods = methods  # type: ignore[attr-defined]  # what the OpenAPI document lists
        wrapped.roles = roles  # type: ignore[attr-defined]
        if authorizer is not None:
            kwargs["authorizer"] = authorizer
        return app.route(path, methods=ALL_METHODS, content_types=["*/*"], **kwargs)(wrapped)

    return register


# Why the authorizer found no principal, as the caller is told (never which tenant a key belonged to).
UNAUTHENTICATED = {
    "missing": "send an API key: Authorization: Bearer <key>",
    "unknown": "this API key is not known",
    "revoked": "this API key was revoked",
}


def unauthorized(reason: str) -> Problem:
    detail = UNAUTHENTICATED.get(reason, UNAUTHENTICATED["unknown"])
    return Problem(401, "Unauthorized", detail, [{"field": "Authorization", "message": detail}])


# What API Gateway itself answers before any code of ours runs (no Authorization header at all, a denied
# policy, an authorizer that failed): the same problem bodies as the routes'. The local stack serves them
# (gateway_cli/chalicelocal.py); a deployment sets them as the API's gateway responses (gateway_responses).
GATEWAY_PROBLEMS = {
    401: unauthorized("missing"),
    403: Problem(
        403, "Forbidden", "this API key may not use this route", [{"field": "Authorization", "message": "role"}]
    ),
    503: Problem(503, "Dependency unavailable", "the key store could not be read; nothing was done"),
}
GATEWAY_RESPONSE_TYPES = {401: "UNAUTHORIZED", 403: "ACCESS_DENIED", 503: "AUTHORIZER_FAILURE"}


def gateway_responses(rest_api: str = "RestAPI") -> dict[str, Any]:
    """CloudFormation ``AWS::ApiGateway::GatewayResponse`` resources for the API ``chalice package`` emits
    (its logical id is ``RestAPI``), so API Gateway's own answers are problem+json too."""
    resources: dict[str, Any] = {}
    for status, response_type in GATEWAY_RESPONSE_TYPES.items():
        headers = {"gatewayresponse.header.Content-Type": f"'{PROBLEM}'"}
        if status == 401:
            headers["gatewayresponse.header.WWW-Authenticate"] = "'Bearer realm=\"contact-gateway\"'"
        resources[f"GatewayResponse{response_type.title().replace('_', '')}"] = {
            "Type": "AWS::ApiGateway::GatewayResponse",
            "Properties": {
                "RestApiId": {"Ref": rest_api},
                "ResponseType": response_type,
                "StatusCode": str(status),
                "ResponseParameters": headers,
                "ResponseTemplates": {"application/json": json.dumps(GATEWAY_PROBLEMS[status].body())},
            },
        }
    return resources


def caller(request: Request) -> Principal:
    """The principal the authorizer attached; anything else is no principal at all (401)."""
    context = request.context.get("authorizer") or {}
    status = context.get("status")
    if status == "unavailable":
        raise StorageUnavailableError("the key store could not be read")
    if status != "ok":
        raise unauthorized(str(status or "missing"))
    try:
        return Principal(
            tenant=context["tenant"],
            role=Role(context["role"]),
            key_id=context["key_id"],
            agency=context.get("agency") or None,
        )
    except (KeyError, ValueError):
        raise unauthorized("unknown") from None


def admit(request: Request, roles: tuple[Role, ...]) -> Principal:
    principal = caller(request)
    if principal.role not in roles:
        admitted = ", ".join(r.value for r in roles)
        raise Problem(
            403,
            "Forbidden",
            f"a {principal.role.value} key may not use this route (it admits: {admitted})",
            [{"field": "Authorization", "message": f"role {principal.role.value} not admitted"}],
        )
    return principal


def declared_roles(app: Chalice) -> dict[tuple[str, str], tuple[str, ...]]:
    """(path, method) -> the roles the route admits; public routes admit none (and need no key)."""
    declared: dict[tuple[str, str], tuple[str, ...]] = {}
    for path, entries in app.routes.items():
        view = next(iter(entries.values())).view_function
        for method in getattr(view, "allowed_methods", ()):
            declared[(path, method)] = tuple(r.value for r in getattr(view, "roles", ()))
    return declared
