"""Helpers to read what moto's backends really received, and to inject AWS faults by event hooks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.backends import get_backend

from chalicelib.bootstrap import Clients, Runtime, bootstrap
from chalicelib.domain.policy import PolicySet
from chalicelib.settings import Settings
from tools.local import provision

ACCOUNT, REGION = "123456789012", "us-east-1"
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@contextmanager
def module_gateway(policies: PolicySet) -> Iterator[tuple[Runtime, pytest.MonkeyPatch]]:
    """A provisioned gateway over moto that outlives one test (module-scoped fixtures build costly data
    once); the patch it yields is undone when the block ends."""
    with pytest.MonkeyPatch.context() as patch, mock_aws():
        for name, value in AWS_ENV.items():
            patch.setenv(name, value)
        patch.delenv("AWS_ENDPOINT_URL", raising=False)
        settings = Settings(unsubscribe_secret="integration-test-key", index_shards=4, day_shards=4)
        clients = Clients(settings)
        provision.ensure_all(clients, settings)
        yield bootstrap(settings=settings, clients=clients, policies=policies), patch


GATEWAY_CLIENTS = ("dynamodb", "sns", "sesv2", "s3", "sqs", "kms")  # every AWS client the gateway makes


@contextmanager
def stream_gateway(policies: PolicySet, secret: str) -> Iterator[Runtime]:
    """A provisioned gateway over moto (inside the caller's AWS env) whose audit events are appended from the
    ledger stream, as deployed (``AUDIT_APPEND=stream``); drain the stream with ``LedgerStream``
    (tools/local/ledger_stream.py)."""
    with mock_aws():
        settings = Settings(unsubscribe_secret=secret, audit_append="stream", index_shards=4, day_shards=4)
        clients = Clients(settings)
        provision.ensure_all(clients, settings)
        yield bootstrap(settings=settings, clients=clients, policies=policies)


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
