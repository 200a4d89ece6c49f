"""``GET /v1/audit/events?address=`` and ``gateway audit events --address`` over moto: the audit table's
``by_address`` index, keyed by a hash of the address, finds every contact of the tenant to an address."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import quote

import pytest
import requests
from moto import mock_aws

from chalicelib.bootstrap import Clients, Runtime, bootstrap
from chalicelib.domain.access import Role
from chalicelib.services.contacts import submit_contact
from chalicelib.settings import Settings
from tests.support import CLI_URL, NOON_ATLANTA, ChaliceAdapter, make_request
from tools.cli.main import main
from tools.local import provision

NUMBER = "+14045550100"


@pytest.fixture
def gateway(aws_env: None, policies) -> Iterator[Runtime]:
    with mock_aws():
        settings = Settings(
            unsubscribe_secret="integration-test-key",
            address_index_secret="integration-address-key",
            index_shards=4,
            day_shards=4,
        )
        clients = Clients(settings)
        provision.ensure_all(clients, settings)
        yield bootstrap(settings=settings, clients=clients, policies=policies)


@pytest.fixture
def contacts(gateway: Runtime) -> dict[str, str]:
    def send(hours: int, **fields) -> str:
        return submit_contact(make_request(**fields), gateway.deps, NOON_ATLANTA + timedelta(hours=hours)).contact_id

    return {
        "d-1": send(0, debtor_id="d-1", to=NUMBER),
        "d-2": send(1, debtor_id="d-2", account_id="a-9", to=NUMBER),
        "elsewhere": send(2, debtor_id="d-3", to="+14045550111"),
        "other-tenant": send(3, tenant="other", debtor_id="d-1", to=NUMBER),
    }


def _search(client, address: str, headers: dict[str, str] | None = None, **params: str):
    query = "&".join([f"address={quote(address)}", *(f"{k}={v}" for k, v in params.items())])
    return client.http.get(f"/v1/audit/events?{query}", **({"headers": headers} if headers else {}))


def test_finds_every_contact_of_the_tenant_to_a_number_across_debtors(client, contacts):
    answer = _search(client, "(404) 555-0100", order="asc")
    assert answer.status_code == 200, answer.body
    page = json.loads(answer.body)
    requested = [e for e in page["events"] if e["type"] == "requested"]
    assert [e["contact_id"] for e in requested] == [contacts["d-1"], contacts["d-2"]]
    assert page["debtors"] == ["d-1", "d-2"]
    assert {e["type"] for e in page["events"]} == {"requested", "decided", "sent"}


def test_another_tenant_finds_only_its_own(client, contacts, gateway):
    from tests.auth import KeyRing

    other = KeyRing(gateway, "other").bearer(Role.COMPLIANCE)
    page = json.loads(_search(client, NUMBER, headers=other).body)
    assert {e["tenant"] for e in page["events"]} == {"other"}
    assert {e["contact_id"] for e in page["events"]} == {contacts["other-tenant"]}


def test_the_index_holds_no_plaintext_address(gateway, contacts):
    items = gateway.clients.dynamodb.scan(TableName=gateway.settings.audit_table)["Items"]  # a test may scan
    keys = [i["address_key"]["S"] for i in items if "address_key" in i]
    assert len(keys) == 4  # one requested event per contact
    assert not any("4045550" in k or "@" in k for k in keys)


def test_an_agency_key_never_searches_by_address(client, contacts, ring):
    answer = _search(client, NUMBER, headers=ring.bearer(Role.SUBMITTER, agency="agency-1"))
    assert answer.status_code == 403
    assert answer.headers["Content-Type"].startswith("application/problem+json")


def test_a_bad_address_or_a_combined_filter_is_a_problem_naming_the_field(client, contacts):
    bad = _search(client, "not-a-number")
    assert bad.status_code == 400
    assert json.loads(bad.body)["errors"][0]["field"] == "address"
    combined = _search(client, NUMBER, debtor_id="d-1")
    assert combined.status_code == 400
    assert json.loads(combined.body)["errors"][0]["field"] == "address"


def test_the_cli_lists_the_contacts_to_an_address(client, contacts, monkeypatch, capsys):
    session = requests.Session()
    session.mount(CLI_URL, ChaliceAdapter(client))
    monkeypatch.setenv("GATEWAY_URL", CLI_URL)
    assert main(["audit", "events", "--address", "404-555-0100", "--json"], session=session) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {e["debtor_id"] for e in events} == {"d-1", "d-2"}
