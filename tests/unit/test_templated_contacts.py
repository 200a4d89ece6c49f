"""A contact naming a template: the latest approved version in its locale (or the one named) is rendered
into its message; only approved versions send; the trail records the version and the text's hash; the
content rules judge the rendered text at send; a tenant may refuse raw bodies."""

from __future__ import annotations

import hashlib

import pytest

from chalicelib.domain.access import Principal, Role
from chalicelib.domain.events import EventType, Status
from chalicelib.domain.model import Channel, OnBlocked, Outcome
from chalicelib.domain.policy import build_policy_set
from chalicelib.domain.templates import TemplateVariableError
from chalicelib.services import templates
from chalicelib.services.contacts import submit_contact
from chalicelib.services.pacing import Pacing
from chalicelib.services.template_contacts import (
    RawMessageRefusedError,
    TemplateRefusedError,
    TemplateUse,
    prepare,
)
from tests.fakes import InMemoryPacer, InMemorySettingsStore, RecordingSmsSender, unit_of_work
from tests.support import NOON_ATLANTA, TENANT, make_request, pack_with

AUTHOR = Principal(TENANT, Role.SUBMITTER, "k_author")
OFFICER = Principal(TENANT, Role.COMPLIANCE, "k_officer")
TEXT = "{{ creditor }}: {{ amount }} is due. {{ note }} Reply STOP to opt out."
VARIABLES = {"creditor": "creditor", "amount": "amount", "note": "string"}
VALUES = {"creditor": "Acme Bank", "amount": 120, "note": "Thank you."}


def with_versions(deps, *statuses, locale="en", channel=Channel.SMS):
    """A template whose versions 1.. have ``statuses`` (each text says its number)."""
    template_id = templates.create_template(deps, NOON_ATLANTA, by=AUTHOR, name="Reminder", channel=channel)
    template_id = template_id["template_id"]
    for number, status in enumerate(statuses, start=1):
        text = f"v{number} " + TEXT
        templates.add_version(
            deps, NOON_ATLANTA, by=AUTHOR, template_id=template_id, locale=locale, text=text, variables=VARIABLES
        )
        if status in ("approved", "retired"):
            templates.approve(deps, NOON_ATLANTA, by=OFFICER, template_id=template_id, number=number)
        if status == "retired":
            templates.retire(deps, NOON_ATLANTA, by=OFFICER, template_id=template_id, number=number)
    return template_id


def raw_request():
    return make_request(message=None)


def test_the_latest_approved_version_in_the_locale_is_rendered_sent_and_audited_by_hash(deps):
    template_id = with_versions(deps, "approved", "approved", "draft")
    request = prepare(raw_request(), TemplateUse(template_id, "en", variables=VALUES), deps, NOON_ATLANTA)
    result = submit_contact(request, deps, NOON_ATLANTA)
    assert result is not None and result.status is Status.SENT
    body = "v2 Acme Bank: 120.00 is due. Thank you. Reply STOP to opt out."
    assert deps.sms.sent == [{"to": "+14045550100", "body": body}]
    requested = next(e for e in deps.audit.for_contact(TENANT, result.contact_id) if e["type"] == EventType.REQUESTED)
    assert requested["data"]["template"] == {
        "id": template_id,
        "version": 2,
        "locale": "en",
        "sha256": hashlib.sha256(body.encode()).hexdigest(),
    }


def test_a_named_version_must_be_approved_and_in_the_locale(deps):
    template_id = with_versions(deps, "approved", "draft", "retired")
    first = prepare(raw_request(), TemplateUse(template_id, "en", version=1, variables=VALUES), deps, NOON_ATLANTA)
    assert first.message is not None and first.message.body.startswith("v1 ")
    for number in (2, 3):
        with pytest.raises(TemplateRefusedError) as raised:
            prepare(raw_request(), TemplateUse(template_id, "en", version=number, variables=VALUES), deps, NOON_ATLANTA)
        assert raised.value.field == "template.version"
    with pytest.raises(TemplateRefusedError) as raised:
        prepare(raw_request(), TemplateUse(template_id, "es", version=1, variables=VALUES), deps, NOON_ATLANTA)
    assert raised.value.field == "template.locale"


@pytest.mark.parametrize(
    ("statuses", "locale", "field"),
    [
        (("draft",), "en", "template.locale"),  # nothing approved yet
        (("approved",), "zh-CN", "template.locale"),  # nothing approved in this locale
    ],
)
def test_without_an_approved_version_nothing_is_rendered(deps, statuses, locale, field):
    template_id = with_versions(deps, *statuses)
    with pytest.raises(TemplateRefusedError) as raised:
        prepare(raw_request(), TemplateUse(template_id, locale, variables=VALUES), deps, NOON_ATLANTA)
    assert raised.value.field == field


def test_an_unknown_template_or_one_of_another_channel_is_refused_naming_the_id(deps):
    email_template = with_versions(deps, "approved", channel=Channel.EMAIL)
    for template_id in ("tpl_unknown", email_template):
        with pytest.raises(TemplateRefusedError) as raised:
            prepare(raw_request(), TemplateUse(template_id, "en", variables=VALUES), deps, NOON_ATLANTA)
        assert raised.value.field == "template.id"


def test_a_missing_variable_is_an_error_naming_it_and_nothing_is_sent(deps):
    template_id = with_versions(deps, "approved")
    values = {k: v for k, v in VALUES.items() if k != "amount"}
    with pytest.raises(TemplateVariableError) as raised:
        prepare(raw_request(), TemplateUse(template_id, "en", variables=values), deps, NOON_ATLANTA)
    assert raised.value.field == "template.variables.amount"
    assert deps.sms.sent == []


def test_a_tenant_that_requires_approved_templates_refuses_a_raw_body_and_takes_a_template(policies):
    settings = InMemorySettingsStore()
    settings.put(TENANT, {"require_approved_templates": True}, 0)
    deps = unit_of_work(policies, pacing=Pacing(InMemoryPacer(), settings, {}))
    with pytest.raises(RawMessageRefusedError):
        prepare(make_request(), None, deps, NOON_ATLANTA)
    template_id = with_versions(deps, "approved")
    assert prepare(raw_request(), TemplateUse(template_id, "en", variables=VALUES), deps, NOON_ATLANTA).template
    other = unit_of_work(policies, pacing=Pacing(InMemoryPacer(), InMemorySettingsStore(), {}))
    assert prepare(make_request(), None, other, NOON_ATLANTA).template is None  # the default: raw bodies go


def test_the_content_rules_judge_the_rendered_text_at_send():
    pack = pack_with(
        {"id": "xx/no-threats", "kind": "content", "forbidden": [r"\barrest"], "citation": "15 U.S.C. 1692e(4)"}
    )
    sms = RecordingSmsSender()
    deps = unit_of_work(build_policy_set({"xx.yaml": pack}), sms=sms)
    template_id = with_versions(deps, "approved")
    threat = {**VALUES, "note": "We will arrest you."}
    request = prepare(raw_request(), TemplateUse(template_id, "en", variables=threat), deps, NOON_ATLANTA)
    result = submit_contact(request.model_copy(update={"on_blocked": OnBlocked.REJECT}), deps, NOON_ATLANTA)
    assert result is not None and result.decision.outcome is Outcome.DENY
    assert [r.citation for r in result.decision.reasons] == ["15 U.S.C. 1692e(4)"]
    assert sms.sent == []
