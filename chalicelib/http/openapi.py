"""The OpenAPI 3.1 document of the HTTP API, generated from the pydantic models the routes parse with.

Bodies and query parameters come from the models themselves (``model_json_schema``), so the document
cannot drift from what the routes accept; each route's ``Operation`` (declared where the route is, in
app.py) adds what a model cannot say: summaries, statuses, headers. Path parameters come from the path.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel

from chalicelib.http import models
from chalicelib.http.problems import PROBLEM
from chalicelib.http.routing import Declared, Operation

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
# Every route answers these when the request is wrong or a dependency is down (chalicelib/http/routing.py).
COMMON_ERRORS = (400, 405, 413, 415, 503)


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


def _operation(path: str, op: Operation, components: dict[str, Any], roles: tuple[str, ...] = ()) -> dict[str, Any]:
    method = op.method
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


def document(version: str, routes: Iterable[Declared]) -> dict[str, Any]:
    """``routes``: the operations the app declares (``chalicelib.http.routing.declared``) and their roles."""
    components: dict[str, Any] = {"Problem": PROBLEM_SCHEMA}
    paths: dict[str, dict[str, Any]] = {}
    for found in routes:
        operation = _operation(found.path, found.operation, components, found.roles)
        paths.setdefault(found.path, {})[found.operation.method.lower()] = operation
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
