"""Mapping AWS failures to domain errors, by error code, never by message text."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ProxyConnectionError,
)

from chalicelib.domain.errors import (
    ConflictError,
    DeliveryOutcomeUnknownError,
    PermanentDeliveryError,
    RetryableDeliveryError,
    StorageUnavailableError,
    ThrottledDeliveryError,
)

T = TypeVar("T")


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", "Unknown"))


@contextmanager
def storage_errors() -> Iterator[None]:
    try:
        yield
    except ClientError as exc:
        if error_code(exc) == "ConditionalCheckFailedException":
            raise ConflictError(error_code(exc)) from exc
        raise StorageUnavailableError(error_code(exc)) from exc
    except BotoCoreError as exc:
        raise StorageUnavailableError(type(exc).__name__) from exc


THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "LimitExceededException",
        "KMSThrottlingException",
        "RequestLimitExceeded",
    }
)
# The request never left this machine or was refused before any work: safe to try again later.
NOT_SENT = (EndpointConnectionError, ConnectTimeoutError, ProxyConnectionError)


def delivery_call(call: Callable[[], T], permanent_codes: frozenset[str]) -> T:
    """Run a provider call. Only a refusal the provider made before doing anything (throttling) or a
    request that never left is retryable; anything else may have sent the message, so it is
    ``unknown`` and never sent again automatically (at most once)."""
    try:
        return call()
    except ClientError as exc:
        code = error_code(exc)
        if code in permanent_codes:
            raise PermanentDeliveryError(code) from exc
        if code in THROTTLING_CODES:
            raise ThrottledDeliveryError(code) from exc
        raise DeliveryOutcomeUnknownError(code) from exc
    except NOT_SENT as exc:
        raise RetryableDeliveryError(type(exc).__name__) from exc
    except Exception as exc:  # noqa: BLE001 - timeouts after sending, parse errors: it may have left
        raise DeliveryOutcomeUnknownError(type(exc).__name__) from exc
