"""The unsubscribe secret read at run time from Secrets Manager (moto in-process): a rotation keeps the links
already sent working, a token signed with neither key is refused, and an unreadable secret sends no email and
answers the unsubscribe route 503, never 500."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from chalice.test import Client
from moto import mock_aws

from chalicelib.adapters.secrets import SecretsManagerUnsubscribeKeys
from chalicelib.bootstrap import Clients, Runtime, bootstrap
from chalicelib.domain.errors import NotFoundError, SecretUnavailableError
from chalicelib.domain.policy import PolicySet
from chalicelib.services import unsubscribe
from chalicelib.services.contacts import submit_contact
from chalicelib.settings import Settings
from tests.integration.aws import sent_email
from tests.support import TENANT, unsubscribable_email, utc
from tools.local import provision

NOON_ATLANTA = utc(2026, 3, 2, 17, 0)
NAME = "gateway-test/unsubscribe"


@pytest.fixture
def aws(aws_env: None) -> Iterator[Clients]:
    with mock_aws():
        yield Clients(Settings())


def _keys(clients: Clients, secret_id: str) -> SecretsManagerUnsubscribeKeys:
    """A fresh adapter: a function instance started after the last rotation (nothing cached)."""
    return SecretsManagerUnsubscribeKeys(clients.secretsmanager, secret_id)


def test_a_link_signed_before_a_rotation_still_unsubscribes_after_it(aws: Clients) -> None:
    arn = aws.secretsmanager.create_secret(Name=NAME, SecretString="first-key")["ARN"]
    before = unsubscribe.make_token(_keys(aws, arn).signing(), TENANT, "jane@example.com")

    aws.secretsmanager.put_secret_value(SecretId=arn, SecretString="second-key")  # the rotation
    keys = _keys(aws, arn)

    assert keys.signing() == b"second-key"  # new links are signed with the new key
    assert unsubscribe.read_token(keys.checking(), before) == (TENANT, "jane@example.com")
    after = unsubscribe.make_token(keys.signing(), TENANT, "jane@example.com")
    assert unsubscribe.read_token(keys.checking(), after) == (TENANT, "jane@example.com")


def test_a_token_signed_with_neither_key_is_refused(aws: Clients) -> None:
    arn = aws.secretsmanager.create_secret(Name=NAME, SecretString="first-key")["ARN"]
    aws.secretsmanager.put_secret_value(SecretId=arn, SecretString="second-key")
    aws.secretsmanager.put_secret_value(SecretId=arn, SecretString="third-key")  # "first-key" is two back
    keys = _keys(aws, arn)
    for stranger in (b"first-key", b"another-key"):
        with pytest.raises(NotFoundError):
            unsubscribe.read_token(keys.checking(), unsubscribe.make_token(stranger, TENANT, "jane@example.com"))


def test_a_secret_never_rotated_has_one_key(aws: Clients) -> None:
    arn = aws.secretsmanager.create_secret(Name=NAME, SecretString="only-key")["ARN"]
    assert _keys(aws, arn).checking() == (b"only-key",)


def test_the_secret_is_read_once_per_cache_period(aws: Clients) -> None:
    arn = aws.secretsmanager.create_secret(Name=NAME, SecretString="first-key")["ARN"]
    calls: list[str] = []
    aws.secretsmanager.meta.events.register(
        "before-call.secrets-manager.*", lambda model, **_: calls.append(model.name)
    )
    keys = _keys(aws, arn)
    for _ in range(5):
        keys.signing()
    assert calls == ["GetSecretValue"]


def test_an_unreadable_secret_raises_its_own_error(aws: Clients) -> None:
    with pytest.raises(SecretUnavailableError):
        _keys(aws, "arn:aws:secretsmanager:us-east-1:123456789012:secret:gone-AbCdEf").signing()


@pytest.fixture
def unreadable(aws_env: None, policies: PolicySet) -> Iterator[Runtime]:
    """A gateway whose unsubscribe secret cannot be read (it does not exist, as if access were denied)."""
    with mock_aws():
        arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:gateway-test/unsubscribe-AbCdEf"
        settings = Settings(unsubscribe_secret_arn=arn, index_shards=4, day_shards=4)
        clients = Clients(settings)
        provision.ensure_all(clients, settings)
        yield bootstrap(settings=settings, clients=clients, policies=policies)


def test_an_unreadable_secret_sends_no_email_and_tries_again_later(unreadable: Runtime) -> None:
    result = submit_contact(unsubscribable_email(), unreadable.deps, NOON_ATLANTA)
    assert result.status == "scheduled"  # failed, not sent; retried like any provider outage
    assert result.error_code == "UnsubscribeKeyUnavailable"
    assert sent_email() == []


def test_an_unreadable_secret_answers_the_unsubscribe_route_503(unreadable: Runtime) -> None:
    import app as gateway_app

    token = unsubscribe.make_token(b"any-key", TENANT, "jane@example.com")
    with gateway_app.using(unreadable), Client(gateway_app.app) as client:
        response = client.http.post(
            f"/v1/unsubscribe/{token}",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            body="List-Unsubscribe=One-Click",
        )
    assert response.status_code == 503, response.body
    assert response.headers["Content-Type"] == "application/problem+json"
    assert json.loads(response.body)["status"] == 503


def test_the_secret_arn_is_used_before_the_plain_variable(aws_env: None, policies: PolicySet) -> None:
    """The deployed functions name the secret; the local stack and tests keep UNSUBSCRIBE_SECRET."""
    with mock_aws():
        plain = Settings(unsubscribe_secret="plain-key")
        assert bootstrap(settings=plain, policies=policies).unsubscribe_keys.checking() == (b"plain-key",)
        clients = Clients(plain)
        arn = clients.secretsmanager.create_secret(Name=NAME, SecretString="managed-key")["ARN"]
        both = Settings(unsubscribe_secret="plain-key", unsubscribe_secret_arn=arn)
        assert bootstrap(settings=both, policies=policies).unsubscribe_keys.signing() == b"managed-key"
        assert bootstrap(settings=Settings(), policies=policies).unsubscribe_keys is None
        env = Settings.from_env({"UNSUBSCRIBE_SECRET_ARN": arn})
        assert env.unsubscribe_secret_arn == arn


def test_a_rotation_read_brings_the_previous_key_in_at_once(aws: Clients) -> None:
    """An instance that learnt "never rotated" keeps no stale belief once it reads a new current value."""
    arn = aws.secretsmanager.create_secret(Name=NAME, SecretString="first-key")["ARN"]
    clock = [0.0]
    keys = SecretsManagerUnsubscribeKeys(aws.secretsmanager, arn, max_age=300, monotonic=lambda: clock[0])
    old_link = unsubscribe.make_token(keys.signing(), TENANT, "jane@example.com")
    clock[0] = 250.0
    assert keys.checking() == (b"first-key",)  # never rotated, as of now
    aws.secretsmanager.put_secret_value(SecretId=arn, SecretString="second-key")
    keys._current.clear_cache()  # the current value's cache expired (Powertools keeps its own clock)
    assert keys.checking() == (b"second-key", b"first-key")
    assert unsubscribe.read_token(keys.checking(), old_link) == (TENANT, "jane@example.com")
