"""The HTTP edge: request models (``models``), problems (``problems``), routing (``routing``) and the
OpenAPI document (``openapi``). The names other code reaches for are re-exported here."""

from chalicelib.http.problems import PROBLEM, Problem
from chalicelib.http.routing import (
    GATEWAY_PROBLEMS,
    MAX_BATCH_BODY_BYTES,
    MAX_BODY_BYTES,
    Operation,
    authorizer_answer,
    caller,
    current_request,
    declared,
    declared_roles,
    gateway_responses,
    json_response,
    route,
)

__all__ = [
    "GATEWAY_PROBLEMS",
    "MAX_BATCH_BODY_BYTES",
    "MAX_BODY_BYTES",
    "Operation",
    "PROBLEM",
    "Problem",
    "authorizer_answer",
    "caller",
    "current_request",
    "declared",
    "declared_roles",
    "gateway_responses",
    "json_response",
    "route",
]
