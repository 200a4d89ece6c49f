"""``gateway export create`` asks for a masked bundle unless told ``--unmasked --reason``; the gateway's refusal
of an unmasked export without a reason reaches the officer as a one-line error naming ``reason``."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from chalice.test import Client
from requests.structures import CaseInsensitiveDict

from chalicelib.bootstrap import Runtime
from chalicelib.services.contacts import submit_contact
from tests.conftest import make_request, utc
from tools.cli.main import main

URL = "http://gateway.test"


class _ToApp(requests.adapters.BaseAdapter):
    """The CLI's requests, answered by the Chalice app in-process; each request body is kept."""

    def __init__(self, client: Client) -> None:
        super().__init__()
        self.client, self.bodies = client, []  # type: list[Any]

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        parts = urlsplit(request.url)
        body = request.body.encode() if isinstance(request.body, str) else request.body or b""
        self.bodies.append(json.loads(body) if body else None)
        answer = self.client.http.request(str(request.method), parts.path, headers=dict(request.headers), body=body)
        response = requests.Response()
        response.status_code, response.url, response.request = answer.status_code, str(request.url), request
        response.headers, response._content = CaseInsensitiveDict(answer.headers), answer.body
        return response

    def close(self) -> None:
        pass


@pytest.fixture
def app(client: Client, gateway: Runtime, monkeypatch: pytest.MonkeyPatch) -> tuple[requests.Session, _ToApp]:
    submit_contact(make_request(), gateway.deps, utc(2026, 3, 2, 17))
    adapter, session = _ToApp(client), requests.Session()
    session.mount(URL, adapter)
    monkeypatch.setenv("GATEWAY_URL", URL)
    return session, adapter


def test_export_create_asks_for_a_masked_bundle_by_default(app, capsys):
    session, adapter = app
    assert main(["export", "create", "--debtor", "d-1", "--formats", "jsonl"], session=session) == 0
    assert "unmasked" not in adapter.bodies[0] and "reason" not in adapter.bodies[0]


def test_export_create_unmasked_sends_its_reason(app, capsys):
    session, adapter = app
    argv = ["export", "create", "--debtor", "d-1", "--formats", "jsonl", "--unmasked", "--reason", "subpoena 7"]
    assert main(argv, session=session) == 0
    assert (adapter.bodies[0]["unmasked"], adapter.bodies[0]["reason"]) == (True, "subpoena 7")


def test_export_create_unmasked_without_a_reason_is_the_gateways_422_naming_reason(app, capsys):
    session, _ = app
    assert main(["export", "create", "--debtor", "d-1", "--formats", "jsonl", "--unmasked"], session=session) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: reason: an unmasked export needs a reason") and "(fields: reason)" in error
