"""A templated contact deferred (quiet hours) keeps its rendered text, and goes out later only while its
version is still approved: one retired in the meantime is blocked with the house rule, audited, unsent."""

from __future__ import annotations

from chalicelib.domain.access import Principal, Role
from chalicelib.domain.events import Status
from chalicelib.domain.model import Channel
from chalicelib.services import dispatch, templates
from chalicelib.services.contacts import submit_contact
from chalicelib.services.template_contacts import TemplateUse, prepare
from tests.fakes import RecordingSmsSender, unit_of_work
from tests.support import EIGHT_ATLANTA, NIGHT_ATLANTA, TENANT, make_request

AUTHOR = Principal(TENANT, Role.SUBMITTER, "k_author")
OFFICER = Principal(TENANT, Role.COMPLIANCE, "k_officer")
TEXT = "{{ creditor }}: your payment is due. Reply STOP to opt out."


def deferred_at_night(policies, retire: bool):
    sms = RecordingSmsSender()
    deps = unit_of_work(policies, sms=sms)
    made = templates.create_template(deps, NIGHT_ATLANTA, by=AUTHOR, name="Due", channel=Channel.SMS)
    template_id = made["template_id"]
    templates.add_version(
        deps,
        NIGHT_ATLANTA,
        by=AUTHOR,
        template_id=template_id,
        locale="en",
        text=TEXT,
        variables={"creditor": "creditor"},
    )
    templates.approve(deps, NIGHT_ATLANTA, by=OFFICER, template_id=template_id, number=1)
    use = TemplateUse(template_id, "en", variables={"creditor": "Acme Bank"})
    result = submit_contact(prepare(make_request(message=None), use, deps, NIGHT_ATLANTA), deps, NIGHT_ATLANTA)
    assert result is not None and result.status is Status.SCHEDULED
    if retire:
        templates.retire(deps, NIGHT_ATLANTA, by=OFFICER, template_id=template_id, number=1)
    dispatch.dispatch_due(deps, EIGHT_ATLANTA)
    return deps, sms, result.contact_id


def test_a_deferred_contact_goes_out_with_its_rendered_text_while_its_version_is_approved(policies):
    _deps, sms, _contact_id = deferred_at_night(policies, retire=False)
    assert [m["body"] for m in sms.sent] == ["Acme Bank: your payment is due. Reply STOP to opt out."]


def test_a_deferred_contact_whose_version_was_retired_is_blocked_and_not_sent(policies):
    deps, sms, contact_id = deferred_at_night(policies, retire=True)
    assert sms.sent == []
    events = deps.audit.for_contact(TENANT, contact_id)
    decided = [e for e in events if e["type"] == "decided"][-1]
    assert decided["data"]["outcome"] == "deny"
    assert [r["rule"] for r in decided["data"]["reasons"]] == ["gateway/template-not-approved"]
    assert events[-1]["type"] == "blocked"
