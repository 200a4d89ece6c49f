"""``./gateway template create|version|preview|approve`` over the API (routed in-process): a submitter
drafts, a compliance officer previews and approves; problems come back as one line naming the field."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from chalicelib.domain.access import Role
from tests.support import CLI_URL, NOON_ATLANTA, ChaliceAdapter
from tools.cli.main import main


@pytest.fixture
def session(client: Any, gateway: Any, monkeypatch: pytest.MonkeyPatch) -> requests.Session:
    gateway.clock = lambda: NOON_ATLANTA
    routed = requests.Session()
    routed.mount(CLI_URL, ChaliceAdapter(client))
    monkeypatch.setenv("GATEWAY_URL", CLI_URL)
    return routed


def run(session: Any, capsys: Any, monkeypatch: Any, key: str, *argv: str) -> tuple[int, Any, str]:
    monkeypatch.setenv("GATEWAY_API_KEY", key)
    code = main(list(argv), session=session)
    out, err = capsys.readouterr()
    return code, json.loads(out) if out.strip() else None, err


def test_a_submitter_drafts_and_a_compliance_officer_previews_and_approves(session, ring, capsys, monkeypatch):
    author, officer = ring.key(Role.SUBMITTER), ring.key(Role.COMPLIANCE)
    code, made, _ = run(session, capsys, monkeypatch, author, "template", "create", "--name", "Due", "--channel", "sms")
    assert code == 0
    template_id = made["template_id"]
    text = "{{ creditor }}: {{ amount }} is due. Reply STOP to opt out."
    code, drafted, _ = run(
        session, capsys, monkeypatch, author, "template", "version", template_id, "--locale", "en", "--text", text,
        "--var", "creditor=creditor", "--var", "amount=amount",
    )  # fmt: skip
    assert (code, drafted) == (0, {"version": 1, "status": "draft"})
    code, preview, _ = run(
        session, capsys, monkeypatch, officer, "template", "preview", template_id, "1",
        "--set", "creditor=Acme Bank", "--set", "amount=120.5",
    )  # fmt: skip
    assert code == 0
    assert (preview["text"], preview["segments"], preview["encoding"]) == (
        "Acme Bank: 120.50 is due. Reply STOP to opt out.",
        1,
        "GSM-7",
    )
    code, approved, _ = run(session, capsys, monkeypatch, officer, "template", "approve", template_id, "1")
    assert (code, approved) == (0, {"version": 1, "status": "approved"})


def test_the_author_cannot_approve_and_a_missing_variable_is_named(session, ring, capsys, monkeypatch):
    officer = ring.key(Role.COMPLIANCE)
    _, made, _ = run(session, capsys, monkeypatch, officer, "template", "create", "--name", "Due", "--channel", "sms")
    template_id = made["template_id"]
    run(
        session, capsys, monkeypatch, officer, "template", "version", template_id, "--locale", "en",
        "--text", "{{ amount }} due. Reply STOP", "--var", "amount=amount",
    )  # fmt: skip
    code, _, err = run(session, capsys, monkeypatch, officer, "template", "approve", template_id, "1")
    assert code == 2 and "may not approve it" in err
    code, _, err = run(session, capsys, monkeypatch, officer, "template", "preview", template_id, "1")
    assert code == 2 and "variables.amount" in err
