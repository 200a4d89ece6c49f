"""Ids and addresses are validated by full matches: a trailing newline is not a second, separate id."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from chalicelib.domain.access import AccessError, check_tenant
from chalicelib.domain.rules import QuietHoursRule
from chalicelib.http.models import ContactIn, parse, safe_id
from chalicelib.http.problems import Problem


@pytest.mark.parametrize("value", ["d1\n", "d1\r\n", "\nd1"])
def test_a_path_id_with_a_newline_is_refused(value):
    with pytest.raises(Problem) as raised:
        safe_id("debtor_id", value)
    assert raised.value.errors == [{"field": "debtor_id", "message": "not a valid id"}]


def test_a_plain_path_id_is_accepted():
    assert safe_id("debtor_id", "d1") == "d1"


def test_a_tenant_with_a_trailing_newline_is_refused():
    with pytest.raises(AccessError):
        check_tenant("tenant", "acme\n")
    assert check_tenant("tenant", "acme") == "acme"


def test_an_email_address_with_a_trailing_newline_is_refused():
    body = {"debtor_id": "d1", "account_id": "a1", "channel": "email", "message": {"body": "Hi"}}
    assert parse(ContactIn, json.dumps({**body, "to": "jane@example.com"}))
    with pytest.raises(Problem) as raised:
        parse(ContactIn, json.dumps({**body, "to": "jane@example.com\n"}))
    assert raised.value.errors[0]["field"] == "to"


def test_a_quiet_hours_window_with_a_trailing_newline_is_refused():
    rule: dict[str, Any] = {"id": "x/quiet", "kind": "quiet_hours", "citation": "c", "message": "m"}
    rule["allowed"] = {"default": ["08:00-21:00\n"]}
    with pytest.raises(ValidationError, match="not HH:MM-HH:MM"):
        QuietHoursRule.model_validate(rule)
