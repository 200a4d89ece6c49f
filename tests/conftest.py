from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from chalicelib import policy_store
from chalicelib.domain.policy import PolicySet
from chalicelib.services.unit_of_work import UnitOfWork
from tests.fakes import unit_of_work


@pytest.fixture(scope="session")
def policies() -> PolicySet:
    return policy_store.load_sources()


@pytest.fixture
def deps(policies: PolicySet) -> UnitOfWork:
    return unit_of_work(policies)


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    yield
    os.environ.pop("MOTO_ALLOW_NONEXISTENT_REGION", None)
