"""A date, an instant or a cursor window at the edge of the calendar is a 400 problem naming the field, never a 500."""

from __future__ import annotations

import base64
import json

import pytest
from chalice.test import Client

from chalicelib.services.audit_read import EventQuery


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/v1/audit/events?to=9999-12-31", None),
        ("GET", "/v1/audit/events?debtor_id=d-1&to=9999-12-31", None),
        ("GET", "/v1/audit/events?to=0001-01-01", None),
        ("GET", "/v1/audit/events?debtor_id=d-1&from=0001-01-01T00:00:00%2B14:00", None),
        ("GET", "/v1/audit/verify?from=9999-12-30&to=9999-12-31", None),
        ("POST", "/v1/exports", {"debtor_id": "d-1", "to": "9999-12-31", "formats": ["csv"]}),
    ],
)
def test_a_date_at_the_edge_of_the_calendar_is_a_400_problem_not_a_500(client: Client, method, path, body):
    headers = {"Content-Type": "application/json"} if body else {}
    response = client.http.request(method, path, headers=headers, body=json.dumps(body).encode() if body else b"")
    assert response.status_code == 400, response.body
    problem = json.loads(response.body)
    assert problem["status"] == 400 and problem["errors"][0]["field"] in ("from", "to")


def test_a_cursor_whose_window_is_off_the_calendar_is_a_400_not_a_500(client: Client):
    # The fingerprint is no secret (a hash of the filters): anyone can rebuild a cursor around it.
    payload = {
        "q": EventQuery().fingerprint(),
        "k": {"pk": "local#d-1", "seq": 1, "day_key": "local#0001-01-01", "at_key": "0001-01-01T00:00:00.000000Z#d-1"},
        "w": ["0001-01-01T00:00:00+14:00", "0001-01-02T00:00:00+00:00"],
    }
    cursor = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
    response = client.http.get(f"/v1/audit/events?cursor={cursor}")
    assert response.status_code == 400, response.body
    assert json.loads(response.body)["errors"][0]["field"] == "cursor"
