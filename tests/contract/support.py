from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from moto import mock_aws

from chalicelib.bootstrap import Clients
from chalicelib.settings import Settings
from tools.local import provision


@contextmanager
def dynamodb_tables() -> Iterator[tuple[Settings, Clients]]:
    """The gateway's tables over moto, for the DynamoDB side of a contract suite."""
    with mock_aws():
        settings = Settings()
        clients = Clients(settings)
        provision.ensure_tables(clients.dynamodb, settings)
        yield settings, clients
