"""An over-cap preferences list is a 400 problem naming the field, for PUT and PATCH alike."""

from __future__ import annotations

import json

import pytest

from chalicelib.domain.preferences import MAX_INCONVENIENT_TIMES

PATH = "/v1/debtors/d-1/preferences"
WINDOW = {"start": "09:00", "end": "10:00"}


@pytest.mark.parametrize("method", ["put", "patch"])
def test_too_many_inconvenient_times_is_a_problem_naming_the_field(client, method):
    body = {"inconvenient_times": [WINDOW] * (MAX_INCONVENIENT_TIMES + 1)}
    call = getattr(client.http, method)
    response = call(PATH, headers={"Content-Type": "application/json"}, body=json.dumps(body))
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/problem+json"
    problem = json.loads(response.body)
    assert [e["field"] for e in problem["errors"]] == ["inconvenient_times"]
    assert str(MAX_INCONVENIENT_TIMES) in problem["errors"][0]["message"]


def test_the_maximum_is_accepted(client):
    body = {"inconvenient_times": [WINDOW] * MAX_INCONVENIENT_TIMES}
    response = client.http.put(PATH, headers={"Content-Type": "application/json"}, body=json.dumps(body))
    assert response.status_code == 200
