"""Approval refuses a version with content findings (a 422 listing each), judging every branch of its words;
a preview returns the findings of the rendered text. The content rules' findings come from
``chalicelib.domain.content.findings``; these tests use a pack with a plain ``forbidden`` pattern."""

from __future__ import annotations

import json

import pytest

from chalicelib.domain.access import Principal, Role
from chalicelib.domain.content import ContentFinding
from chalicelib.domain.model import Channel
from chalicelib.domain.policy import build_policy_set
from chalicelib.http.problems import as_problem, problem_response
from chalicelib.services import templates
from chalicelib.services.templates import ContentFindingsError
from tests.fakes import unit_of_work
from tests.support import NOON_ATLANTA, TENANT, pack_with

AUTHOR = Principal(TENANT, Role.SUBMITTER, "k_author")
OFFICER = Principal(TENANT, Role.COMPLIANCE, "k_officer")
POLICIES = build_policy_set(
    {
        "xx.yaml": pack_with(
            {"id": "xx/no-threats", "kind": "content", "forbidden": [r"\barrest"], "citation": "15 U.S.C. 1692e(4)"}
        )
    }
)


def drafted(deps, text: str, variables: dict[str, str] | None = None) -> str:
    made = templates.create_template(deps, NOON_ATLANTA, by=AUTHOR, name="Reminder", channel=Channel.SMS)
    templates.add_version(
        deps,
        NOON_ATLANTA,
        by=AUTHOR,
        template_id=made["template_id"],
        locale="en",
        text=text,
        variables=variables or {},
    )
    return str(made["template_id"])


@pytest.mark.parametrize(
    ("text", "variables"),
    [
        ("Pay today or we will arrest you. Reply STOP to opt out.", {}),
        (
            "{% if days %}After {{ days }} days we will ARREST you.{% endif %} Reply STOP to opt out.",
            {"days": "integer"},
        ),
    ],
)
def test_a_version_with_findings_is_not_approved_whatever_branch_says_it(text, variables):
    deps = unit_of_work(POLICIES)
    template_id = drafted(deps, text, variables)
    with pytest.raises(ContentFindingsError) as raised:
        templates.approve(deps, NOON_ATLANTA, by=OFFICER, template_id=template_id, number=1)
    assert [(f.rule, f.citation) for f in raised.value.findings] == [("xx/no-threats", "15 U.S.C. 1692e(4)")]
    assert templates.get_template(deps, TENANT, template_id)["versions"][0]["status"] == "draft"


def test_a_preview_returns_the_findings_of_the_rendered_text():
    deps = unit_of_work(POLICIES)
    template_id = drafted(deps, "{{ note }} Reply STOP to opt out.", {"note": "string"})
    clean = templates.preview(deps, TENANT, template_id, 1, {"note": "Thank you."})
    assert clean["findings"] == []
    threat = templates.preview(deps, TENANT, template_id, 1, {"note": "We will arrest you."})
    assert [(f["rule"], f["citation"]) for f in threat["findings"]] == [("xx/no-threats", "15 U.S.C. 1692e(4)")]
    assert threat["text"] == "We will arrest you. Reply STOP to opt out."


def test_a_version_without_findings_is_approved_under_the_same_pack():
    deps = unit_of_work(POLICIES)
    template_id = drafted(deps, "Your payment is due. Reply STOP to opt out.")
    assert templates.approve(deps, NOON_ATLANTA, by=OFFICER, template_id=template_id, number=1)["status"] == "approved"


def test_the_refusal_is_a_422_listing_each_finding():
    finding = ContentFinding(rule="xx/no-threats", citation="15 U.S.C. 1692e(4)", span="a****t", message="threat")
    response = problem_response(as_problem(ContentFindingsError([finding])))
    body = json.loads(response.body)
    assert (response.status_code, body["title"]) == (422, "Content findings")
    [error] = body["errors"]
    shown = {k: error[k] for k in ("field", "rule", "citation", "span", "message")}
    assert shown == {
        "field": "text",
        "rule": "xx/no-threats",
        "citation": "15 U.S.C. 1692e(4)",
        "span": "a****t",
        "message": "threat",
    }
