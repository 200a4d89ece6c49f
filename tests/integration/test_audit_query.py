"""A compliance officer queries the audit trail over HTTP: by debtor, debt, channel, outcome, type and
time, newest or oldest first, page by page; every read is a DynamoDB Query, never a Scan."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlencode

import pytest
from chalice.test import Client

from chalicelib.services import audit_read
from tests.auth import AuthedClient, KeyRing
from tests.integration.aws import module_gateway
from tests.support import (
    LISTINGS,
    MONDAY,
    NOW,
    PHONES,
    WEEK,
    WEEK_PARAMS,
    Clock,
    build_trail,
    events_url,
    every_page,
    get_events,
    ids,
    select,
    utc,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def read_only(policies: Any) -> Iterator[tuple[Any, AuthedClient, Clock, list[dict[str, Any]]]]:
    """One gateway, trail and client for the module: these tests only read (the appending ones live in
    test_audit_query_appends.py), and building the trail is most of their cost."""
    import app as gateway_app

    with module_gateway(policies) as (gateway, patch):
        clock = Clock(NOW)
        gateway.clock = clock
        events = build_trail(gateway)
        with gateway_app.using(gateway), Client(gateway_app.app) as client:
            yield gateway, AuthedClient(client, KeyRing(gateway, "local")), clock, events


@pytest.fixture
def trail_gateway(read_only: tuple[Any, ...]) -> Any:
    return read_only[0]


@pytest.fixture
def trail_client(read_only: tuple[Any, ...]) -> Client:
    return read_only[1]


@pytest.fixture
def clock(read_only: tuple[Any, ...]) -> Iterator[Clock]:
    read_only[2].now = NOW
    yield read_only[2]
    read_only[2].now = NOW


@pytest.fixture
def trail(read_only: tuple[Any, ...]) -> list[dict[str, Any]]:
    return read_only[3]


def problem(trail_client: Client, **params: Any) -> list[str]:
    """The fields a 400 names."""
    response = trail_client.http.get(events_url(**params))
    assert response.status_code == 400, response.body
    assert response.headers["Content-Type"] == "application/problem+json"
    return [e["field"] for e in json.loads(response.body)["errors"]]


FILTERS = [
    pytest.param({"debtor_id": "d-1"}, {"debtor_id": "d-1"}, id="debtor"),
    pytest.param({"account_id": "a-1"}, {"account_id": "a-1"}, id="account-across-two-debtors"),
    pytest.param({"debtor_id": "d-1", "account_id": "a-2"}, {"debtor_id": "d-1", "account_id": "a-2"}, id="debt"),
    pytest.param({"channel": "email", **WEEK_PARAMS}, {"channel": "email", **WEEK}, id="channel"),
    pytest.param({"outcome": "allow", **WEEK_PARAMS}, {"outcome": "allow", **WEEK}, id="outcome"),
    pytest.param({"status": "scheduled", **WEEK_PARAMS}, {"outcome": "scheduled", **WEEK}, id="status-alias"),
    pytest.param({"type": "decided", **WEEK_PARAMS}, {"type": "decided", **WEEK}, id="type"),
    pytest.param({"debtor_id": "d-1", "channel": "voice"}, {"debtor_id": "d-1", "channel": "voice"}, id="debtor-voice"),
    pytest.param(
        {"debtor_id": "d-1", "type": "preferences_changed"},
        {"debtor_id": "d-1", "type": "preferences_changed"},
        id="no-channel",
    ),
    pytest.param({"account_id": "a-1", "outcome": "sent"}, {"account_id": "a-1", "outcome": "sent"}, id="account-sent"),
    pytest.param({"account_id": "a-1", "status": "refused"}, {"account_id": "a-1", "outcome": "refused"}, id="refused"),
    pytest.param({"account_id": "a-3", "type": "requested"}, {"account_id": "a-3", "type": "requested"}, id="a-3"),
    pytest.param(
        {"from": "2026-03-03", "to": "2026-03-04"}, {"start": utc(2026, 3, 3), "end": utc(2026, 3, 5)}, id="days"
    ),
    pytest.param(
        {"channel": "sms", "outcome": "blocked", **WEEK_PARAMS},
        {"channel": "sms", "outcome": "blocked", **WEEK},
        id="blocked",
    ),
]


@pytest.mark.parametrize(("params", "wanted"), FILTERS)
def test_each_filter_answers_exactly_the_matching_events_in_both_orders(trail_client, trail, params, wanted):
    expected = ids(select(trail, **wanted))
    assert expected, "a filter that matches nothing proves nothing"
    assert len(expected) < len(trail)
    oldest_first = get_events(trail_client, **params, limit=1000)
    newest_first = get_events(trail_client, **params, limit=1000, order="desc")
    assert ids(oldest_first["events"]) == expected
    assert ids(newest_first["events"]) == expected[::-1]
    assert (oldest_first["cursor"], newest_first["cursor"]) == (None, None)
    assert (oldest_first["order"], newest_first["order"]) == ("asc", "desc")


def test_status_and_outcome_are_one_filter_and_may_not_disagree(trail_client, trail):
    by_status = get_events(trail_client, **WEEK_PARAMS, status="sent", limit=1000)["events"]
    by_outcome = get_events(trail_client, **WEEK_PARAMS, outcome="sent", limit=1000)["events"]
    assert by_status == by_outcome and by_status
    assert get_events(trail_client, **WEEK_PARAMS, status="sent", outcome="sent")["events"] == by_outcome[:100]
    assert problem(trail_client, **WEEK_PARAMS, status="sent", outcome="allow") == ["status"]


def test_a_date_to_includes_its_whole_day_and_an_instant_to_excludes_itself(trail_client, trail):
    tuesday = ids(select(trail, start=utc(2026, 3, 3), end=utc(2026, 3, 4)))
    early = ids(select(trail, start=utc(2026, 3, 3, 3), end=utc(2026, 3, 3, 3, 0, 1)))
    assert early and len(tuesday) > len(early)  # events at 03:00 UTC Tuesday, and later that day

    def listed(**params: str) -> list[tuple[str, int]]:
        return ids(get_events(trail_client, **params, limit=1000)["events"])

    assert listed(**{"from": "2026-03-03", "to": "2026-03-03"}) == tuesday
    assert listed(**{"from": "2026-03-02", "to": "2026-03-03T03:00:00Z"}) == ids(select(trail, end=utc(2026, 3, 3, 3)))
    assert listed(**{"from": "2026-03-02", "to": "2026-03-03T03:00:00.000001+00:00"})[-len(early) :] == early
    # 22:00 in Atlanta on Monday is 03:00 UTC on Tuesday: the offset is honoured, and `from` is inclusive.
    assert listed(**{"from": "2026-03-02T22:00:00-05:00", "to": "2026-03-03"}) == tuesday
    assert listed(**{"from": "2026-03-02T22:00:00.000001-05:00", "to": "2026-03-03"}) == tuesday[len(early) :]


@pytest.mark.parametrize("limit", [1, 2, 7])
@pytest.mark.parametrize("order", ["asc", "desc"])
@pytest.mark.parametrize(("params", "wanted"), LISTINGS)
def test_pages_return_every_matching_event_once_in_order(trail_client, trail, params, wanted, order, limit):
    expected = ids(select(trail, **wanted))
    seen = every_page(trail_client, **params, order=order, limit=limit)
    assert seen == (expected if order == "asc" else expected[::-1])


def test_default_window_pages_through_while_time_passes(trail_client, trail_gateway, trail, clock):
    """Without debtor, debt or range a listing covers the last 30 days; its cursor must keep working
    on the next request, which the server answers a moment later."""
    clock.now = MONDAY + timedelta(days=7)
    expected = ids(select(trail, start=clock.now - timedelta(days=30), end=clock.now))
    for order in ("asc", "desc"):
        seen = every_page(trail_client, on_page=lambda n: clock.advance(timedelta(seconds=2)), order=order, limit=4)
        assert seen == (expected if order == "asc" else expected[::-1])


def test_a_cursor_is_refused_with_other_filters_but_not_with_another_page_size(trail_client, trail):
    first = get_events(trail_client, debtor_id="d-1", limit=3)
    cursor = first["cursor"]
    assert cursor
    assert problem(trail_client, debtor_id="d-2", limit=3, cursor=cursor) == ["cursor"]
    assert problem(trail_client, debtor_id="d-1", channel="sms", limit=3, cursor=cursor) == ["cursor"]
    assert problem(trail_client, debtor_id="d-1", order="desc", limit=3, cursor=cursor) == ["cursor"]
    assert problem(trail_client, account_id="a-1", limit=3, cursor=cursor) == ["cursor"]
    rest = get_events(trail_client, debtor_id="d-1", limit=1000, cursor=cursor)["events"]
    assert ids(first["events"] + rest) == ids(select(trail, debtor_id="d-1"))


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "!!!!",
        b64(b"not json"),
        b64(b"[]"),
        b64(b'{"q": "x"}'),
        b64(b'{"q": "x", "k": "not a key"}'),
        b64(b'{"q": "x", "k": {"pk": 5, "seq": 1}}'),
        b64(b'{"q": "x", "k": {"pk": "local#d-1", "seq": "1"}}'),
        b64(json.dumps({"q": "0" * 16, "k": {"pk": "local#d-1", "seq": 1}}).encode()),
        "x" * 5000,
    ],
)
def test_a_garbage_cursor_is_a_400_naming_cursor(trail_client, trail, cursor):
    assert problem(trail_client, debtor_id="d-1", cursor=cursor) == ["cursor"]


def forged(query: audit_read.EventQuery, key: Any, **extra: Any) -> str:
    """A cursor made by hand: the right fingerprint (it is no secret), a key of the client's choosing."""
    return b64(json.dumps({"q": query.fingerprint(), "k": key, **extra}).encode())


DAY_QUERY = audit_read.EventQuery(start=utc(2026, 3, 2), end=utc(2026, 3, 9), limit=2)


@pytest.mark.parametrize(
    ("params", "cursor"),
    [
        pytest.param(WEEK_PARAMS, forged(DAY_QUERY, {"pk": "local#d-1", "seq": 2}), id="day-query-person-key"),
        pytest.param(
            WEEK_PARAMS,
            forged(DAY_QUERY, {"pk": "local#d-1", "seq": 2, "day_key": "nonsense", "at_key": "x"}),
            id="day-query-bad-day",
        ),
        pytest.param(
            {"debtor_id": "d-1"},
            forged(audit_read.EventQuery(debtor_id="d-1", limit=2), {"pk": "local#d-2", "seq": 2}),
            id="another-persons-key",
        ),
        pytest.param(
            {"account_id": "a-1"},
            forged(audit_read.EventQuery(account_id="a-1", limit=2), {"pk": "local#d-1", "seq": 2}),
            id="debt-query-person-key",
        ),
        pytest.param(
            {},
            forged(audit_read.EventQuery(limit=2), {"pk": "local#d-1", "seq": 2}, w=["2020-01-01T00:00:00+00:00"]),
            id="bad-window",
        ),
        pytest.param(
            {"debtor_id": "d-1"},
            forged(audit_read.EventQuery(debtor_id="d-1", limit=2), {"pk": "local#d-1", "seq": True}),
            id="seq-a-bool",
        ),
        pytest.param(
            {"debtor_id": "d-1"},
            forged(audit_read.EventQuery(debtor_id="d-1", limit=2), {"pk": "local#d-1", "seq": 10**40}),
            id="seq-too-large-for-dynamodb",
        ),
    ],
)
def test_a_forged_cursor_is_a_400_not_a_server_error(trail_client, trail, params, cursor):
    assert problem(trail_client, **params, limit=2, cursor=cursor) == ["cursor"]


def test_a_forged_window_cannot_stretch_a_range_past_366_days(trail_client, trail):
    window = ["2020-01-01T00:00:00+00:00", NOW.isoformat()]
    cursor = forged(audit_read.EventQuery(limit=2), {"pk": "local#d-1", "seq": 2}, w=window)
    assert problem(trail_client, limit=2, cursor=cursor) == ["from"]


def test_a_range_without_debtor_or_debt_spans_at_most_366_days(trail_client, trail):
    assert problem(trail_client, **{"from": "2025-03-01", "to": "2026-03-03"}) == ["from"]
    assert problem(trail_client, **{"from": "2025-03-01T00:00:00Z"}) == ["from"]  # up to now
    assert problem(trail_client, **{"from": "2025-03-04", "to": "2026-03-05"}, channel="sms") == ["from"]  # 367 days
    exactly_366 = get_events(trail_client, **{"from": "2025-03-05", "to": "2026-03-05"}, limit=1000)["events"]
    assert ids(exactly_366) == ids(select(trail, end=utc(2026, 3, 6)))
    with_debtor = get_events(trail_client, **{"from": "2020-01-01", "to": "2026-12-31"}, debtor_id="d-1", limit=1000)[
        "events"
    ]
    assert ids(with_debtor) == ids(select(trail, debtor_id="d-1"))
    with_debt = get_events(trail_client, **{"from": "2020-01-01", "to": "2026-12-31"}, account_id="a-2", limit=1000)[
        "events"
    ]
    assert ids(with_debt) == ids(select(trail, account_id="a-2"))


@pytest.mark.parametrize(
    "params",
    [
        {"from": "2026-03-05", "to": "2026-03-03"},
        {"from": "2026-03-05T00:00:00Z", "to": "2026-03-05T00:00:00Z"},
        {"from": "2026-03-05", "to": "2026-03-03", "debtor_id": "d-1"},
        {"from": "2026-03-05", "to": "2026-03-03", "account_id": "a-1"},
    ],
)
def test_from_after_to_is_a_400(trail_client, trail, params):
    assert problem(trail_client, **params) == ["to"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"debtor_id": "d-1", "channel": "fax"}, "channel"),
        ({"debtor_id": "d-1", "outcome": "maybe"}, "outcome"),
        ({"debtor_id": "d-1", "status": "ok"}, "status"),
        ({"debtor_id": "d-1", "order": "sideways"}, "order"),
        ({"debtor_id": "d-1", "limit": "0"}, "limit"),
        ({"debtor_id": "d-1", "limit": "1001"}, "limit"),
        ({"debtor_id": "../etc"}, "debtor_id"),
        ({"account_id": "a 1"}, "account_id"),
        ({"debtor_id": "d-1", "from": "yesterday"}, "from"),
        ({"debtor_id": "d-1", "from": "2026-02-30"}, "from"),
        ({"debtor_id": "d-1", "to": "2026-03-03T10:00:00"}, "to"),  # an instant needs its offset
        ({"debtor_id": "d-1", "colour": "red"}, "colour"),
    ],
)
def test_a_bad_parameter_is_a_400_naming_it(trail_client, params, field):
    assert field in problem(trail_client, **params)


def test_every_event_carries_its_hash_and_the_one_before_it(trail_client, trail):
    for debtor in PHONES:
        events = get_events(trail_client, debtor_id=debtor, limit=1000)["events"]
        assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
        assert all(re.fullmatch(r"[0-9a-f]{64}", e["hash"]) for e in events)
        assert events[0]["prev_hash"] == "0" * 64
        assert [e["prev_hash"] for e in events[1:]] == [e["hash"] for e in events[:-1]]
    across = get_events(trail_client, **WEEK_PARAMS, limit=1000)["events"]
    assert all({"hash", "prev_hash"} <= set(e) for e in across)


def product_sources() -> list[Path]:
    return [ROOT / "app.py", *sorted((ROOT / "chalicelib").rglob("*.py"))]


def test_the_product_has_no_scan_anywhere():
    pattern = re.compile(r"""\.scan\(|["']Scan["']|paginator\(\s*["']scan["']""")
    sources = [ROOT / "app.py", *sorted((ROOT / "chalicelib").rglob("*.py"))]
    assert len(sources) > 20 and any("Query" in p.read_text() for p in sources)
    offending = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sources
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert offending == []


def test_every_read_of_the_trail_is_a_query(trail_client, trail_gateway, trail, clock):
    operations: list[str] = []

    def record(model: Any, **_: Any) -> None:
        operations.append(model.name)

    trail_gateway.clients.dynamodb.meta.events.register("before-call.dynamodb.*", record)
    try:
        listings = [*(cast(dict[str, Any], p.values[0]) for p in FILTERS), {}, {"to": "2026-03-05"}]
        for params in listings:
            every_page(trail_client, **params, limit=3)
        every_page(trail_client, **WEEK_PARAMS, order="desc", limit=2)
        assert json.loads(trail_client.http.get("/v1/audit/verify?debtor_id=d-1").body)["ok"] is True
        verified = json.loads(trail_client.http.get("/v1/audit/verify?" + urlencode(WEEK_PARAMS)).body)
        assert verified["ok"] is True and verified["chains"] == 2
        audit_read.verify_range("local", MONDAY, NOW, trail_gateway.deps)
    finally:
        trail_gateway.clients.dynamodb.meta.events.unregister("before-call.dynamodb.*", record)
    assert operations.count("Query") > 50
    assert set(operations) <= {"Query", "GetItem"}, set(operations)


def test_a_first_page_of_one_person_is_one_query(trail_client, trail_gateway, trail):
    queries: list[dict[str, Any]] = []
    hook = "provide-client-params.dynamodb.Query"

    def record(params: dict[str, Any], **_: Any) -> None:
        queries.append(params)

    trail_gateway.clients.dynamodb.meta.events.register(hook, record)
    try:
        page = get_events(trail_client, debtor_id="d-1", limit=2)
    finally:
        trail_gateway.clients.dynamodb.meta.events.unregister(hook, record)
    assert len(page["events"]) == 2 and page["cursor"]
    assert len(queries) == 1 and "IndexName" not in queries[0]
