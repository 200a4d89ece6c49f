"""Each audit read has a budget: when it is spent the answer is what was found so far and a cursor that
resumes exactly where reading stopped, never a timeout (docs/decisions/0026-read-budgets.md)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from chalice.test import Client

from chalicelib.adapters.dynamodb import read_body
from chalicelib.services import audit_read, dispatch
from chalicelib.services.contacts import submit_contact
from tests.support import make_request, utc

NOON_ATLANTA = utc(2026, 3, 2, 17, 0)
BUDGET = 20  # the test's budget: the trail below is many times larger
RANGE = {"from": "2026-03-02", "to": "2026-03-06"}


@pytest.fixture
def trail(gateway: Any) -> list[dict[str, Any]]:
    """Four days of texts to eight debtors, and on the last day, last, one email."""
    for day in range(4):
        for debtor in range(8):
            at = NOON_ATLANTA + timedelta(days=day, minutes=debtor)
            submit_contact(make_request(debtor_id=f"d-{debtor}"), gateway.deps, at)
    email = make_request(
        debtor_id="d-3",
        channel="email",
        to="d3@example.com",
        message={"subject": "Hi", "body": "Due. Unsubscribe with the link below."},
    )
    submit_contact(email, gateway.deps, NOON_ATLANTA + timedelta(days=3, hours=2))
    dispatch.sweep_audit(gateway.deps, NOON_ATLANTA + timedelta(days=4))
    events = [e for d in range(8) for e in gateway.deps.audit.for_person("local", f"d-{d}")]
    assert len(events) > 4 * BUDGET
    return events


@pytest.fixture
def budget(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(audit_read, "READ_BUDGET_ITEMS", BUDGET)
    return BUDGET


class Reads:
    """What each request reads of the audit table: the items each Query reads (filtered or not, an empty
    Query counts one: it costs a read unit), and each event read by key."""

    def __init__(self, gateway: Any) -> None:
        self.table, self.items, self.keys = gateway.settings.audit_table, 0, Counter[tuple[str, int]]()
        self.scanned = 0  # items the queries read, kept by their filters or not
        self.by_index: Counter[tuple[str, int]] = Counter()
        self.chain: Counter[tuple[str, int]] = Counter()
        self._asked: dict[str, Any] = {}
        self._events = gateway.clients.dynamodb.meta.events
        self._events.register("provide-client-params.dynamodb.*", self._ask)
        self._events.register("after-call.dynamodb.Query", self._count)

    def _ask(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        if params.get("TableName") != self.table:
            return
        if model.name == "Query":  # queries run one at a time; reads by key, a few at once
            self._asked = dict(params)
        elif model.name == "GetItem":
            self.items += 1
            self.keys[(params["Key"]["pk"]["S"], int(params["Key"]["seq"]["N"]))] += 1

    def _count(self, parsed: dict[str, Any], **_: Any) -> None:
        params, self._asked = self._asked, {}
        if not params:
            return
        self.items += max(1, int(parsed.get("ScannedCount", 0)))
        self.scanned += int(parsed.get("ScannedCount", 0))
        for item in parsed.get("Items", []):
            if "pk" in item and "seq" in item:
                key = (item["pk"]["S"], int(item["seq"]["N"]))
            elif "debtor_id" in item:  # a thin reading: the person and the sequence number
                key = ("local#" + item["debtor_id"]["S"], int(item["seq"]["N"]))
            else:  # a chain's bodies
                body = read_body(item["body"])
                key = ("local#" + body["debtor_id"], int(body["seq"]))
            (self.by_index if params.get("IndexName") else self.chain)[key] += 1

    def close(self) -> None:
        self._events.unregister("provide-client-params.dynamodb.*", self._ask)
        self._events.unregister("after-call.dynamodb.Query", self._count)


@pytest.fixture
def reads(gateway: Any) -> Iterator[Reads]:
    counter = Reads(gateway)
    yield counter
    counter.close()


def pages(client: Client, path: str, params: dict[str, Any], reads: Reads) -> list[tuple[dict[str, Any], int]]:
    """Every page, following the cursors, with the items each request read."""
    found, cursor = [], None
    for _ in range(200):
        before = reads.items
        response = client.http.get(f"{path}?" + urlencode({**params, **({"cursor": cursor} if cursor else {})}))
        assert response.status_code == 200, response.body
        page = json.loads(response.body)
        found.append((page, reads.items - before))
        cursor = page["cursor"]
        if cursor is None:
            return found
    raise AssertionError("the cursors never end")


def test_a_filter_matching_nothing_answers_within_the_budget_with_a_cursor(client, gateway, trail, budget, reads):
    first = client.http.get("/v1/audit/events?" + urlencode({**RANGE, "channel": "voice"}))
    assert first.status_code == 200
    page = json.loads(first.body)
    assert page["events"] == [] and page["cursor"]  # nothing found yet; reading stopped, not ended
    shards = gateway.settings.day_shards + 1  # a day is read from each of its shards at once
    assert reads.items <= budget + 2 * shards


def test_following_the_cursors_reaches_the_end_and_finds_the_one_late_match(client, gateway, trail, budget, reads):
    params = {**RANGE, "channel": "email", "type": "decided"}
    found = pages(client, "/v1/audit/events", params, reads)
    assert len(found) > 3
    shards = gateway.settings.day_shards + 1
    assert all(read <= budget + 2 * shards for _page, read in found)
    events = [e for page, _read in found for e in page["events"]]
    assert [(e["debtor_id"], e["channel"], e["type"]) for e in events] == [("d-3", "email", "decided")]
    assert all(page["events"] == [] for page, _read in found[:-2])  # empty pages with cursors before it
    # Reading resumed where it stopped: over all the pages, each event of the range was read once, but for
    # what a day's other shards had read ahead of the one whose page ended (a small page each, read again).
    assert len(trail) <= reads.scanned <= len(trail) + (len(found) - 1) * budget // 2


def test_the_budget_cursor_pages_one_debt_too(client, gateway, trail, budget, reads):
    found = pages(client, "/v1/audit/events", {"account_id": "a-1", "channel": "email"}, reads)
    events = [e for page, _read in found for e in page["events"]]
    assert len(found) > 1 and {e["channel"] for e in events} == {"email"}
    assert all(read <= budget + 2 for _page, read in found)
    assert reads.scanned == len(trail)


def test_the_same_query_descending_finds_it_on_the_first_pages(client, gateway, trail, budget, reads):
    params = {**RANGE, "channel": "email", "type": "decided", "order": "desc"}
    found = pages(client, "/v1/audit/events", params, reads)
    events = [e for page, _read in found for e in page["events"]]
    assert [(e["debtor_id"], e["type"]) for e in events] == [("d-3", "decided")]


def test_a_tampered_budget_cursor_is_a_400_naming_the_cursor(client, gateway, trail, budget):
    page = json.loads(client.http.get("/v1/audit/events?" + urlencode({**RANGE, "channel": "voice"})).body)
    other = client.http.get("/v1/audit/events?" + urlencode({**RANGE, "channel": "sms", "cursor": page["cursor"]}))
    assert other.status_code == 400 and "cursor" in other.body.decode()


def test_verify_by_range_over_several_pages_reads_each_event_once(client, gateway, trail, budget, reads):
    found = pages(client, "/v1/audit/verify", {**RANGE}, reads)
    assert len(found) > 2
    assert all(page["ok"] for page, _read in found)
    assert sum(page["chains"] for page, _read in found) == 8  # each chain verified once, whole
    assert sum(page["events"] for page, _read in found) == len(trail)
    # Each chain's events are read once over all the pages (never a year again per page); the range's
    # index is read on from where each page stopped (a day's other shards' small pages read ahead again).
    assert reads.chain and max(reads.chain.values()) == 1, reads.chain.most_common(3)
    assert set(reads.by_index) == {(f"local#{e['debtor_id']}", e["seq"]) for e in trail}
    assert sum(reads.by_index.values()) <= len(trail) + (len(found) - 1) * budget // 2
    assert len(reads.keys) <= 8 * len(found)  # at most one look-up by key per debtor and page


def test_a_verify_cursor_of_another_range_or_a_debtor_id_is_a_400(client, gateway, trail, budget):
    page = json.loads(client.http.get("/v1/audit/verify?" + urlencode(RANGE)).body)
    assert page["cursor"] and page["remaining"] is None
    other = {"from": "2026-03-02", "to": "2026-03-05", "cursor": page["cursor"]}
    for params in (other, {**RANGE, "cursor": "d-3"}):
        response = client.http.get("/v1/audit/verify?" + urlencode(params))
        assert response.status_code == 400 and "cursor" in response.body.decode(), params


def test_a_range_whose_chains_were_all_removed_reports_each_anchored_one(gateway):
    from chalicelib.services import maintenance

    for debtor in ("d-1", "d-2"):
        submit_contact(make_request(debtor_id=debtor), gateway.deps, NOON_ATLANTA)
    later = NOON_ATLANTA + timedelta(days=2)
    dispatch.sweep_audit(gateway.deps, later)
    assert maintenance.audit_pass(gateway.deps, ["local"], later)["anchored"]["local"] == ["2026-03-02"]
    dynamodb, settings = gateway.clients.dynamodb, gateway.settings
    for debtor in ("d-1", "d-2"):
        for event in gateway.deps.audit.for_person("local", debtor):
            key = {"pk": {"S": f"local#{debtor}"}, "seq": {"N": str(event["seq"])}}
            dynamodb.delete_item(TableName=settings.audit_table, Key=key)
        dynamodb.delete_item(TableName=settings.ledger_table, Key={"pk": {"S": f"local#{debtor}"}})
    result = audit_read.verify_range("local", utc(2026, 3, 2), utc(2026, 3, 3), gateway.deps)
    assert (result["ok"], result["chains"], result["cursor"]) == (False, 0, None)
    assert len(result["failures"]) == 2 and all(f["anchor"] == "2026-03-02" for f in result["failures"])


def test_a_removed_chain_is_reported_when_its_day_spans_pages(client, gateway, monkeypatch):
    from chalicelib.services import maintenance

    for debtor in range(6):
        submit_contact(make_request(debtor_id=f"d-{debtor}"), gateway.deps, NOON_ATLANTA + timedelta(minutes=debtor))
    later = NOON_ATLANTA + timedelta(days=2)
    dispatch.sweep_audit(gateway.deps, later)
    maintenance.audit_pass(gateway.deps, ["local"], later)
    dynamodb, settings = gateway.clients.dynamodb, gateway.settings
    for event in gateway.deps.audit.for_person("local", "d-5"):
        key = {"pk": {"S": "local#d-5"}, "seq": {"N": str(event["seq"])}}
        dynamodb.delete_item(TableName=settings.audit_table, Key=key)
    dynamodb.delete_item(TableName=settings.ledger_table, Key={"pk": {"S": "local#d-5"}})
    monkeypatch.setattr(audit_read, "READ_BUDGET_ITEMS", 20)
    failures, cursor, pages_read = [], None, 0
    while True:
        params = {"from": "2026-03-02", "to": "2026-03-03", "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = json.loads(client.http.get("/v1/audit/verify?" + urlencode(params)).body)
        failures += page["failures"]
        pages_read += 1
        cursor = page["cursor"]
        if not cursor:
            break
    assert pages_read > 1
    [removed] = failures
    assert removed["anchor"] == "2026-03-02" and "removed" in removed["problem"]
