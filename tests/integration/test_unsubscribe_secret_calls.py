"""The calls the unsubscribe secret costs, over moto in-process: the API's send and its unsubscribe route read
the secret with GetSecretValue on that one secret (what ACCESS grants the signers), once per cache period."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client
from moto import mock_aws

from chalicelib.bootstrap import Clients, Runtime, bootstrap
from chalicelib.domain.policy import PolicySet
from chalicelib.services.contacts import submit_contact
from chalicelib.settings import Settings
from tests.support import make_request, utc
from tools.infra import package
from tools.local import provision

NOON_ATLANTA = utc(2026, 3, 2, 17, 0)


@pytest.fixture
def managed(aws_env: None, policies: PolicySet) -> Iterator[tuple[Runtime, list[tuple[str, dict[str, Any]]]]]:
    with mock_aws():
        clients = Clients(Settings())
        arn = clients.secretsmanager.create_secret(Name="gateway-test/unsubscribe", SecretString="managed")["ARN"]
        settings = Settings(unsubscribe_secret_arn=arn, index_shards=4, day_shards=4)
        clients = Clients(settings)
        provision.ensure_all(clients, settings)
        seen: list[tuple[str, dict[str, Any]]] = []
        clients.secretsmanager.meta.events.register(
            "provide-client-params.secrets-manager.*", lambda params, model, **_: seen.append((model.name, params))
        )
        yield bootstrap(settings=settings, clients=clients, policies=policies), seen


def test_signing_and_checking_read_only_the_one_secret_as_granted(managed) -> None:
    import app as gateway_app

    gateway, seen = managed
    request = make_request(
        channel="email",
        to="debtor@example.com",
        message={"subject": "Reminder", "body": "Payment due. Unsubscribe with the link below."},
    )
    headers: list[str] = []
    gateway.clients.sesv2.meta.events.register(
        "provide-client-params.sesv2.SendEmail",
        lambda params, **_: headers.extend(
            h["Value"] for h in params["Content"]["Simple"]["Headers"] if h["Name"] == "List-Unsubscribe"
        ),
    )
    for _ in range(3):
        assert submit_contact(request, gateway.deps, NOON_ATLANTA).status == "sent"
    token = headers[0].strip("<>").rsplit("/", 1)[1]
    with gateway_app.using(gateway), Client(gateway_app.app) as client:
        for _ in range(2):
            response = client.http.post(f"/v1/unsubscribe/{token}", body="List-Unsubscribe=One-Click")
            assert response.status_code == 200, response.body
            assert json.loads(response.body)["address"] == "debtor@example.com"

    assert {name for name, _ in seen} == {"GetSecretValue"}
    assert {params["SecretId"] for _, params in seen} == {gateway.settings.unsubscribe_secret_arn}
    assert sorted(params["VersionStage"] for _, params in seen) == ["AWSCURRENT", "AWSPREVIOUS"]  # cached after
    for function in package.UNSUBSCRIBE_SIGNERS:
        assert package.ACCESS[function]["UnsubscribeSecret"] == ("secretsmanager:GetSecretValue",)
