"""Routing of the HTTP edge: route(), the caller and its roles, JSON responses, body limits, API Gateway's
own answers."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalice import AuthResponse, Chalice, Response
from chalice.app import Request
from pydantic import BaseModel

from chalicelib.domain.access import Principal, Role
from chalicelib.domain.errors import StorageUnavailableError
from chalicelib.http.problems import PROBLEM, MethodNotAllowed, Problem, as_problem, problem_response, unauthorized

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


# The largest valid request (a 10,000-character message of 4-byte characters, its subject, 4 KB of
# metadata) fits well inside this; anything bigger is refused before it is parsed.
MAX_BODY_BYTES = 64 * 1024
# A batch: 500 ordinary requests fit many times over; Lambda takes at most 6 MB in one invocation.
MAX_BATCH_BODY_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class Operation:
    """One method of a route, as the OpenAPI document describes it: declared once, where the route is.

    ``ok``: the success statuses; ``body``/``query``: the models the view parses the body or the query
    with; ``errors``: the problems it answers beyond every route's own; ``headers``: request headers it reads.
    """

    method: str
    summary: str
    ok: tuple[int, ...] = (200,)
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    errors: tuple[int, ...] = ()
    ok_type: str = "application/json"
    headers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Declared:
    """A registered route's operation and the roles that may call it (none: a public route)."""

    path: str
    operation: Operation
    roles: tuple[str, ...]


def _check(request: Request, methods: tuple[str, ...], roles: tuple[Role, ...], max_body: int, any_body: bool) -> None:
    """What every route refuses before its view runs: no principal or role, a method, a size, a media type."""
    if roles:
        admit(request, roles)
    if request.method not in methods:
        raise MethodNotAllowed(request.method, methods)
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


def route(
    app: Chalice,
    path: str,
    *operations: Operation,
    roles: tuple[Role, ...] = (),
    authorizer: Any = None,
    any_body: bool = False,
    max_body: int = MAX_BODY_BYTES,
    **kwargs: Any,
) -> Callable[[Callable[..., Response]], Any]:
    """Register ``view`` for every method so a wrong one gets a 405 problem, not Chalice's own body.

    A route either admits ``roles`` (and carries the ``authorizer`` that names the caller) or is public
    (no roles, no authorizer). A view serving several methods reads ``current_request(app).method``.
    Each method the view serves is one ``Operation``: what the OpenAPI document says of it.
    """
    methods = tuple(op.method for op in operations)
    if not methods or len(set(methods)) != len(methods):
        raise ValueError(f"{path}: a route declares one operation for each method it serves")
    if bool(roles) != (authorizer is not None):
        raise ValueError(f"{path}: a route with roles needs the authorizer, a public one neither")

    def register(view: Callable[..., Response]) -> Any:
        @functools.wraps(view)
        def wrapped(*args: Any, **params: Any) -> Response:
            request = current_request(app)
            try:
                _check(request, methods, roles, max_body, any_body)
                return view(*args, **params)
            except Exception as exc:  # noqa: BLE001 - every failure becomes a problem, never a trace
                return problem_response(as_problem(exc), request.context.get("path") or request.path)

        wrapped.allowed_methods = methods  # type: ignore[attr-defined]
        wrapped.operations = operations  # type: ignore[attr-defined]  # what the OpenAPI document lists
        wrapped.roles = roles  # type: ignore[attr-defined]
        if authorizer is not None:
            kwargs["authorizer"] = authorizer
        return app.route(path, methods=ALL_METHODS, content_types=["*/*"], **kwargs)(wrapped)

    return register


# What API Gateway itself answers before any code of ours runs (no Authorization header at all, a denied
# policy, an authorizer that failed): the same problem bodies as the routes'. The local stack serves them
# (tools/local/chalicelocal.py); a deployment sets them as the API's gateway responses (gateway_responses).
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


def authorizer_answer(found: Principal | str | None) -> AuthResponse:
    """What the authorizer tells API Gateway, and ``caller`` reads back: the principal; or why there is none
    (a reason of ``UNAUTHENTICATED``); or None, the key store could not be read. The answer allows every
    route ("*"): each route checks the role itself, so a cached answer is right for any route."""
    if found is None:
        return AuthResponse(routes=["*"], principal_id="unavailable", context={"status": "unavailable"})
    if isinstance(found, str):
        return AuthResponse(routes=["*"], principal_id="anonymous", context={"status": found})
    context = {"status": "ok", "tenant": found.tenant, "role": found.role.value, "key_id": found.key_id}
    return AuthResponse(routes=["*"], principal_id=found.key_id, context={**context, "agency": found.agency or ""})


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


def declared(app: Chalice) -> list[Declared]:
    """Every operation of every route ``route`` registered on ``app``, in the order they were registered."""
    found: list[Declared] = []
    for path, entries in app.routes.items():
        view = next(iter(entries.values())).view_function
        roles = tuple(r.value for r in getattr(view, "roles", ()))
        found += [Declared(path, op, roles) for op in getattr(view, "operations", ())]
    return found


def declared_roles(app: Chalice) -> dict[tuple[str, str], tuple[str, ...]]:
    """(path, method) -> the roles the route admits; public routes admit none (and need no key)."""
    return {(d.path, d.operation.method): d.roles for d in declared(app)}
