"""The unsubscribe links' keys: one suite, run against the plain key (UNSUBSCRIBE_SECRET: the local stack and
tests) and a Secrets Manager secret (moto), as the deployed functions read it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import mock_aws

from chalicelib.adapters.secrets import SecretsManagerUnsubscribeKeys, StaticUnsubscribeKeys
from chalicelib.bootstrap import Clients
from chalicelib.domain.ports import UnsubscribeKeys
from chalicelib.services import unsubscribe
from chalicelib.settings import Settings


@pytest.fixture(params=["plain", "aws"])
def keys(request: pytest.FixtureRequest, aws_env: None) -> Iterator[UnsubscribeKeys]:
    if request.param == "plain":
        yield StaticUnsubscribeKeys("the-key")
        return
    with mock_aws():
        clients = Clients(Settings())
        arn = clients.secretsmanager.create_secret(Name="gateway-test/unsubscribe", SecretString="the-key")["ARN"]
        yield SecretsManagerUnsubscribeKeys(clients.secretsmanager, arn)


def test_the_signing_key_checks_first(keys: UnsubscribeKeys) -> None:
    assert keys.signing() == b"the-key"
    assert keys.checking()[0] == keys.signing()


def test_what_it_signs_it_checks(keys: UnsubscribeKeys) -> None:
    token = unsubscribe.make_token(keys.signing(), "t-1", "Jane@Example.com")
    assert unsubscribe.read_token(keys.checking(), token) == ("t-1", "jane@example.com")
