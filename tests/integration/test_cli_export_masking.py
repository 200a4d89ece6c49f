"""``gateway export create`` asks for a masked bundle unless told ``--unmasked --reason``; the gateway's refusal
of an unmasked export without a reason reaches the officer as a one-line error naming ``reason``."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from chalice.test import Client

from chalicelib.bootstrap import Runtime
from chalicelib.services.contacts import submit_contact
from tests.support import ChaliceAdapter, make_request, utc
from tools.cli.main import main

URL = "http://gateway.test"


class _ToApp(ChaliceAdapter):
    """The CLI's requests, answered by the Chalice app in-process; each request's JSON body is kept."""

    def __init__(self, client: Client) -> None:
        super().__init__(client)
        self.bodies: list[Any] = []

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        body = request.body.encode() if isinstance(request.body, str) else request.body
        self.bodies.append(json.loads(body) if isinstance(body, bytes) and body else None)
        return super().send(request, *args, **kwargs)


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
