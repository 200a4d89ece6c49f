"""Mapping AWS failures to domain errors, by error code, never by message text."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ReadTimeoutError,
)

from chalicelib.domain.errors import (
    ConflictError,
    DeliveryError,
    DeliveryOutcomeUnknownError,
    PermanentDeliveryError,
    RetryableDeliveryError,
    StorageUnavailableError,
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


def delivery_call(call: Callable[[], T], permanent_codes: frozenset[str]) -> T:
    """Run a provider call; a timeout after the request left is ``unknown``, never retried here."""
    try:
        return call()
    except ClientError as exc:
        code = error_code(exc)
        kind: type[DeliveryError] = PermanentDeliveryError if code in permanent_codes else RetryableDeliveryError
        raise kind(code) from exc
    except (ReadTimeoutError, ConnectionClosedError) as exc:
        raise DeliveryOutcomeUnknownError(type(exc).__name__) from exc
    except BotoCoreError as exc:
        # Connection refused, DNS, connect timeout: the request never reached the provider.
        raise RetryableDeliveryError(type(exc).__name__) from exc
