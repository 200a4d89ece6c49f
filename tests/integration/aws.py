"""Helpers to read what moto's backends really received, and to inject AWS faults by event hooks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError
from moto.backends import get_backend

ACCOUNT, REGION = "123456789012", "us-east-1"


def sent_sms() -> list[tuple[str, str]]:
    return list(get_backend("sns")[ACCOUNT][REGION].sms_messages.values())


def sent_email() -> list[Any]:
    return list(get_backend("ses")[ACCOUNT][REGION].sent_messages)


def fail_calls(
    client: Any, operation: str, code: str, when: Callable[[dict[str, Any]], bool] = lambda p: True
) -> Callable[[], None]:
    """Make ``operation`` on ``client`` fail with ``code`` (for the requests ``when`` selects); returns the undo."""

    def hook(params: dict[str, Any], **_: Any) -> None:
        if when(params):
            raise ClientError({"Error": {"Code": code, "Message": "injected"}}, operation)

    event = f"provide-client-params.{client.meta.service_model.service_name}.{operation}"
    client.meta.events.register(event, hook)
    return lambda: client.meta.events.unregister(event, hook)


def count_calls(client: Any) -> list[str]:
    """Names of every call ``client`` makes from now on."""
    seen: list[str] = []
    client.meta.events.register("before-call.*.*", lambda model, **_: seen.append(model.name))
    return seen
