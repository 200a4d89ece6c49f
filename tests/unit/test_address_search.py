"""Search by address: every event of the tenant to one number or email, across debtors, and nothing of
another tenant's, found through a keyed hash of the address (never the address itself)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from chalicelib.domain import address_index
from chalicelib.domain.errors import InvalidFieldError
from chalicelib.services import address_search
from chalicelib.services.contacts import submit_contact
from tests.fakes import TEST_ADDRESS_KEY
from tests.support import NOON_ATLANTA, make_request

SHARED = "+14045550100"  # a number two debtors of one tenant were texted at, and a debtor of another tenant


def _submit(deps, hours: float, **fields) -> str:
    return submit_contact(make_request(**fields), deps, NOON_ATLANTA + timedelta(hours=hours)).contact_id


@pytest.fixture
def trail(deps):
    ids = {
        "d-1": _submit(deps, 0, debtor_id="d-1", to=SHARED),
        "d-2": _submit(deps, 1, debtor_id="d-2", to=SHARED),
        "other-number": _submit(deps, 2, debtor_id="d-3", to="+14045550111"),
        "other-tenant": _submit(deps, 3, tenant="other", debtor_id="d-1", to=SHARED),
        "email": _submit(deps, 4, debtor_id="d-4", channel="email", to="Jane.Doe@Example.com"),
    }
    return ids


@pytest.mark.parametrize("written", [SHARED, "(404) 555-0100", "404.555.0100", "+1 404-555-0100", "1 404 555 0100"])
def test_finds_every_contact_to_a_number_across_debtors_in_any_format(deps, trail, written):
    page = address_search.events_page("local", written, deps, descending=False)
    contacts = {e["contact_id"] for e in page["events"]}
    assert contacts == {trail["d-1"], trail["d-2"]}
    assert page["debtors"] == ["d-1", "d-2"]
    assert {e["type"] for e in page["events"]} >= {"requested", "decided", "sent"}
    assert len(page["events"]) == 6  # each contact whole: requested, decided, sent


def test_nothing_crosses_tenants(deps, trail):
    mine = address_search.events_page("local", SHARED, deps)
    theirs = address_search.events_page("other", SHARED, deps)
    assert {e["tenant"] for e in mine["events"]} == {"local"}
    assert [e["contact_id"] for e in theirs["events"] if e["type"] == "requested"] == [trail["other-tenant"]]
    assert trail["other-tenant"] not in {e["contact_id"] for e in mine["events"]}


def test_an_email_is_found_whatever_its_case(deps, trail):
    page = address_search.events_page("local", "  jane.doe@example.COM ", deps)
    assert {e["contact_id"] for e in page["events"]} == {trail["email"]}


def test_pages_resume_after_the_last_contact_and_newest_first_by_default(deps, trail):
    first = address_search.events_page("local", SHARED, deps, limit=1)
    assert {e["contact_id"] for e in first["events"]} == {trail["d-2"]}  # the newer one
    second = address_search.events_page("local", SHARED, deps, limit=1, cursor=first["cursor"])
    assert {e["contact_id"] for e in second["events"]} == {trail["d-1"]}
    assert second["cursor"] is None


def test_a_cursor_of_another_address_is_refused(deps, trail):
    first = address_search.events_page("local", SHARED, deps, limit=1)
    with pytest.raises(InvalidFieldError) as raised:
        address_search.events_page("local", "+14045550111", deps, limit=1, cursor=first["cursor"])
    assert raised.value.field == "cursor"


@pytest.mark.parametrize("bad", ["not an address", "12", "jane@", "@example.com"])
def test_what_is_neither_a_number_nor_an_email_names_the_field(deps, bad):
    with pytest.raises(InvalidFieldError) as raised:
        address_search.events_page("local", bad, deps)
    assert raised.value.field == "address"


def test_the_index_value_is_a_keyed_hash_bound_to_the_tenant():
    event: Any = {"tenant": "local", "type": "requested", "data": {"to": SHARED}}
    value = address_index.index_value(TEST_ADDRESS_KEY, event)
    assert value is not None and value.startswith("local#")
    assert "4045550100" not in value
    assert value != address_index.index_value(b"another key", event)
    moved: Any = {**event, "tenant": "other"}
    other = address_index.index_value(TEST_ADDRESS_KEY, moved)
    assert other is not None and other.split("#")[1] != value.split("#")[1]
