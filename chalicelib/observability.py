"""Logging for every request: Powertools Logger, structured, with a correlation id; no bodies logged."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger

logger = Logger(service="contact-gateway")


def http_middleware(event: Any, get_response: Callable[[Any], Any]) -> Any:
    correlation_id = event.headers.get("x-correlation-id") or event.context.get("requestId", "local")
    logger.set_correlation_id(correlation_id)
    started = time.perf_counter()
    response = get_response(event)
    logger.info(
        "request",
        extra={
            "method": event.method,
            "route": event.context.get("resourcePath", event.path),
            "status": response.status_code,
            "ms": round((time.perf_counter() - started) * 1000, 1),
        },
    )
    response.headers["X-Correlation-Id"] = correlation_id
    return response
