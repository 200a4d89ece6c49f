"""The OpenAPI 3.1 document of the HTTP API, generated from the pydantic models the routes parse with.

Bodies and query parameters come from the models themselves (``model_json_schema``), so the document
cannot drift from what the routes accept; the table below adds what a model cannot say (statuses,
summaries, path parameters). A test checks that every route of the app is documented here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from chalicelib.http import models
from chalicelib.http.problems import PROBLEM

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}
ID_PARAMETER = {"type": "string", "pattern": models.SAFE_ID}
# Every route answers these when the request is wrong or a dependency is down (chalicelib/http.py).
COMMON_ERRORS = (400, 405, 413, 415, 503)


@dataclass(frozen=True)
class Operation:
    summary: str
    ok: tuple[int, ...] = (200,)
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    errors: tuple[int, ...] = ()
    ok_type: str = "application/json"
    headers: tuple[str, ...] = field(default=())


OPERATIONS: dict[tuple[str, str], Operation] = {
    ("/v1/health", "GET"): Operation("Ready: tables reachable, policy bundle loaded"),
    ("/v1/contacts", "POST"): Operation(
        "Submit one contact: decide, reserve, send or defer",
        ok=(200, 202),
        body=models.ContactIn,
        errors=(409, 422),
        headers=("Idempotency-Key",),
    ),
    ("/v1/contacts/batch", "POST"): Operation(
        "Submit up to 500 contacts: validated together, queued, decided one by one",
        ok=(202,),
        body=models.BatchIn,
        headers=("Idempotency-Key",),
    ),
    ("/v1/contacts/batch/{batch_id}", "GET"): Operation("A batch's progress and each request's result", errors=(404,)),
    ("/v1/contacts/evaluate", "POST"): Operation(
        "What-if: the decision at `at`, nothing written", body=models.EvaluateIn
    ),
    ("/v1/contacts/{contact_id}", "GET"): Operation("A contact's status and audit events", errors=(404,)),
    ("/v1/contacts/{contact_id}/outcome", "POST"): Operation(
        "Report a permitted call's outcome", body=models.OutcomeIn, errors=(404, 409)
    ),
    ("/v1/debtors/{debtor_id}/preferences", "GET"): Operation(
        "The person's consent state, and the suppressions (STOP, unsubscribe, bounce) of their addresses",
        query=models.PreferencesQuery,
    ),
    ("/v1/debtors/{debtor_id}/preferences", "PUT"): Operation("Replace the consent state", body=models.PreferencesIn),
    ("/v1/debtors/{debtor_id}/preferences", "PATCH"): Operation(
        "Replace the named parts of the consent state", body=models.PreferencesIn
    ),
    ("/v1/debtors/{debtor_id}/disputes/{dispute_id}/resolve", "POST"): Operation(
        "Close the review of a dispute a reply raised, with the reason (audited)",
        body=models.ResolutionIn,
        errors=(404, 409),
    ),
    ("/v1/audit/events", "GET"): Operation("Audit events, filtered and paginated", query=models.AuditQuery),
    ("/v1/audit/verify", "GET"): Operation(
        "Verify one chain, or every chain touched in a range", query=models.VerifyQuery, errors=(404,)
    ),
    ("/v1/exports", "POST"): Operation(
        "Request a signed export bundle", ok=(202,), body=models.ExportIn, errors=(404,)
    ),
    ("/v1/exports/public-key", "GET"): Operation("The public key that signs export manifests"),
    ("/v1/exports/{export_id}", "GET"): Operation("An export's status and download URLs", errors=(404, 410)),
    ("/v1/exports/{export_id}/grants", "POST"): Operation(
        "Let one regulator key read this export", body=models.GrantIn, errors=(404, 410)
    ),
    ("/v1/exports/{export_id}/grants/{key_id}", "DELETE"): Operation(
        "Withdraw a regulator key's access to this export", errors=(404,)
    ),
    ("/v1/keys", "GET"): Operation("The tenant's API keys (never the keys themselves)"),
    ("/v1/keys", "POST"): Operation("Issue an API key: shown once, in this answer", ok=(201,), body=models.KeyIn),
    ("/v1/keys/{key_id}", "DELETE"): Operation("Revoke an API key for good", errors=(404, 409)),
    ("/v1/settings", "GET"): Operation("The tenant's settings (its own sending rates) and the deployment's limits"),
    ("/v1/settings", "PATCH"): Operation(
        "Change the named settings (null clears one); audited with before and after", body=models.SettingsIn
    ),
    ("/v1/unsubscribe/{token}", "GET"): Operation("One-click unsubscribe: the confirmation page", ok_type="text/html"),
    ("/v1/unsubscribe/{token}", "POST"): Operation("RFC 8058 one-click unsubscribe", errors=(404,)),
    ("/v1/openapi.json", "GET"): Operation("This document"),
    ("/console", "GET"): Operation(
        "The compliance console: a page over this API, used with the officer's key", ok_type="text/html"
    ),
    ("/console/{asset}", "GET"): Operation(
        "The console's script, styles and string catalogues", errors=(404,), ok_type="text/plain"
    ),
}


def _schema(model: type[BaseModel], components: dict[str, Any]) -> dict[str, Any]:
    schema = model.model_json_schema(by_alias=True, ref_template="#/components/schemas/{model}")
    for name, definition in schema.pop("$defs", {}).items():
        components[name] = definition
    components[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _not_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter is absent or a string: ``X | None`` with default None is just X, optional."""
    options = [o for o in schema.get("anyOf", []) if o.get("type") != "null"]
    if len(options) == 1:
        schema = {**{k: v for k, v in schema.items() if k not in ("anyOf", "default")}, **options[0]}
    return {k: v for k, v in schema.items() if not (k == "default" and v is None)}


def _query_parameters(model: type[BaseModel], components: dict[str, Any]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(by_alias=True, ref_template="#/components/schemas/{model}")
    components.update(schema.pop("$defs", {}))
    required = set(schema.get("required", []))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": _not_null(prop)}
        for name, prop in schema["properties"].items()
    ]


# Operations a key opens answer these too: no key or an unknown or revoked one, or a role not admitted.
ACCESS_ERRORS = (401, 403)
SECURITY_SCHEMES = {
    "apiKey": {
        "type": "http",
        "scheme": "bearer",
        "description": "An API key of the gateway (`./gateway keys create`): `Authorization: Bearer <key>`.",
    }
}


def _operation(
    path: str, method: str, op: Operation, components: dict[str, Any], roles: tuple[str, ...] = ()
) -> dict[str, Any]:
    parameters = [
        {"name": part[1:-1], "in": "path", "required": True, "schema": ID_PARAMETER}
        for part in path.split("/")
        if part.startswith("{")
    ]
    parameters += [
        {"name": name, "in": "header", "required": False, "schema": {"type": "string", "maxLength": 255}}
        for name in op.headers
    ]
    if op.query:
        parameters += _query_parameters(op.query, components)
    success = {
        "description": "OK",
        "content": {op.ok_type: {"schema": {"type": "object"} if "json" in op.ok_type else {"type": "string"}}},
    }
    problem = {"description": "Problem", "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
    responses: dict[str, Any] = {str(status): success for status in op.ok}
    errors = {*COMMON_ERRORS, *op.errors, *(ACCESS_ERRORS if roles else ())}
    responses.update({str(status): problem for status in sorted(errors)})
    operation: dict[str, Any] = {
        "operationId": f"{method.lower()}_{path.strip('/').replace('/', '_').replace('{', '').replace('}', '')}",
        "summary": op.summary + (f" (roles: {', '.join(roles)})" if roles else ""),
        "parameters": parameters,
        "responses": responses,
        "security": [{"apiKey": []}] if roles else [],
        "x-roles": list(roles),
    }
    if op.body:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _schema(op.body, components)}},
        }
    return operation


def document(version: str, roles: Mapping[tuple[str, str], tuple[str, ...]] | None = None) -> dict[str, Any]:
    """``roles``: the roles each route admits, as the app declares them (``chalicelib.http.declared_roles``)."""
    components: dict[str, Any] = {"Problem": PROBLEM_SCHEMA}
    paths: dict[str, dict[str, Any]] = {}
    for (path, method), op in OPERATIONS.items():
        admitted = (roles or {}).get((path, method), ())
        paths.setdefault(path, {})[method.lower()] = _operation(path, method, op, components, admitted)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Compliance-aware contact gateway",
            "version": "1",
            "description": f"Every contact a collection system makes passes here. Policy set {version}.",
        },
        "paths": paths,
        "components": {"schemas": components, "securitySchemes": SECURITY_SCHEMES},
    }
