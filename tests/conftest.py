from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib import policy_store
from chalicelib.domain.model import ContactRequest
from chalicelib.domain.policy import PolicySet
from chalicelib.services.unit_of_work import UnitOfWork
from tests.fakes import unit_of_work

TENANT = "local"


@pytest.fixture(scope="session")
def policies() -> PolicySet:
    return policy_store.load_sources()


@pytest.fixture
def deps(policies: PolicySet) -> UnitOfWork:
    return unit_of_work(policies)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def make_request(**overrides: Any) -> ContactRequest:
    fields: dict[str, Any] = {
        "tenant": TENANT,
        "debtor_id": "d-1",
        "account_id": "a-1",
        "channel": "sms",
        "to": "+14045550100",
        "location": {"country": "US", "subdivision": "GA"},
        "message": {"body": "Your payment is overdue. Reply STOP to opt out."},
    }
    fields.update(overrides)
    return ContactRequest.model_validate(fields)


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


def pack_with(*rules: dict[str, Any], pack_id: str = "xx", countries: tuple[str, ...] = ("US",)) -> dict[str, Any]:
    """A minimal valid pack document holding ``rules`` (each gets citation and message if missing)."""
    return {
        "id": pack_id,
        "title": "test pack",
        "applies_to": {"countries": list(countries)},
        "retention_years": 1,
        "retention_source": {"citation": "test pack", "confidence": "unverified"},
        "sources": [{"citation": "test", "confidence": "high"}],
        "rules": [{"citation": "test", "message": "test rule", **rule} for rule in rules],
    }
