from __future__ import annotations

from collections.abc import Iterator

import pytest
from chalice.test import Client
from moto import mock_aws

from chalicelib.bootstrap import Clients, Runtime, bootstrap
from chalicelib.domain.policy import PolicySet
from chalicelib.settings import Settings
from tests.auth import AuthedClient, KeyRing
from tests.integration.aws import GATEWAY_CLIENTS
from tests.support import TENANT
from tools.local import provision
from tools.local.faults import FaultInjector


@pytest.fixture
def gateway(aws_env: None, policies: PolicySet) -> Iterator[Runtime]:
    with mock_aws():
        settings = Settings(unsubscribe_secret="integration-test-key", index_shards=4, day_shards=4)
        clients = Clients(settings)
        provision.ensure_all(clients, settings)
        yield bootstrap(settings=settings, clients=clients, policies=policies)


@pytest.fixture
def ring(gateway: Runtime) -> KeyRing:
    """Keys of tenant ``local`` (tests.support.TENANT), one per role, issued on first use."""
    return KeyRing(gateway, TENANT)


@pytest.fixture
def client(gateway: Runtime, ring: KeyRing) -> Iterator[AuthedClient]:
    """The Chalice app in-process, wired to this test's moto-backed gateway; requests carry a key of
    the role each route admits unless they name one."""
    import app as gateway_app

    with gateway_app.using(gateway), Client(gateway_app.app) as test_client:
        yield AuthedClient(test_client, ring)


@pytest.fixture
def faults(gateway: Runtime) -> FaultInjector:
    """Faults injected by error code into every client of the gateway (tools/local/faults.py), seeded."""
    injector = FaultInjector(seed=1)
    for name in GATEWAY_CLIENTS:
        injector.attach(getattr(gateway.clients, name))
    return injector


@pytest.fixture
def history(gateway: Runtime) -> int:
    """Four texts to debtor d-1, 20 hours apart from a Monday noon in Atlanta, every event appended and the
    day shards written five days on; answers the ledger's last seq."""
    from datetime import timedelta

    from chalicelib.services import dispatch, maintenance
    from chalicelib.services.contacts import submit_contact
    from tests.support import NOON_ATLANTA, make_request

    for hour in range(4):
        submit_contact(make_request(), gateway.deps, NOON_ATLANTA + timedelta(hours=20 * hour))
    later = NOON_ATLANTA + timedelta(days=5)
    dispatch.sweep_audit(gateway.deps, later)
    maintenance.audit_pass(gateway.deps, ["local"], later)
    return gateway.deps.ledgers.get("local", "d-1").seq
