from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import mock_aws

from chalicelib import provision
from chalicelib.bootstrap import Clients, Gateway, bootstrap
from chalicelib.domain.policy import PolicySet
from chalicelib.settings import Settings


@pytest.fixture
def gateway(aws_env: None, policies: PolicySet) -> Iterator[Gateway]:
    with mock_aws():
        settings = Settings(unsubscribe_secret="integration-test-key")
        clients = Clients(settings)
        provision.ensure_all(clients, settings)
        yield bootstrap(settings=settings, clients=clients, policies=policies)
