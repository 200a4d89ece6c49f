"""Maker-checker over templates: anyone who drafts may write a version, only another compliance key approves
it, an approved version never changes, and every step is an audit event with the hash of the text."""

from __future__ import annotations

import hashlib

import pytest

from chalicelib.domain.access import ACCESS_CHAIN, Principal, Role
from chalicelib.domain.errors import NotFoundError, StorageUnavailableError
from chalicelib.domain.ledger import Ledger
from chalicelib.domain.model import Channel
from chalicelib.domain.templates import MakerCheckerError, TemplateStateError, TemplateTextError
from chalicelib.services import templates
from tests.fakes import InMemoryLedger, unit_of_work
from tests.support import NOON_ATLANTA, TENANT

AUTHOR = Principal(TENANT, Role.SUBMITTER, "k_author")
OFFICER = Principal(TENANT, Role.COMPLIANCE, "k_officer")
OTHER_OFFICER = Principal(TENANT, Role.COMPLIANCE, "k_other")
TEXT = "{{ creditor }}: {{ amount }} is due. Reply STOP to opt out."


def drafted(deps, by=AUTHOR, text=TEXT):
    template_id = templates.create_template(deps, NOON_ATLANTA, by=by, name="Reminder", channel=Channel.SMS)[
        "template_id"
    ]
    answer = templates.add_version(
        deps,
        NOON_ATLANTA,
        by=by,
        template_id=template_id,
        locale="en",
        text=text,
        variables={"creditor": "creditor", "amount": "amount"},
    )
    return template_id, answer


def test_a_draft_is_numbered_and_approved_by_a_compliance_key_that_did_not_write_it(deps):
    template_id, answer = drafted(deps)
    assert answer == {"version": 1, "status": "draft"}
    assert templates.approve(deps, NOON_ATLANTA, by=OFFICER, template_id=template_id, number=1) == {
        "version": 1,
        "status": "approved",
    }
    version = templates.get_template(deps, TENANT, template_id)["versions"][0]
    assert (version["status"], version["created_by"], version["approved_by"]) == ("approved", "k_author", "k_officer")


def test_the_key_that_wrote_a_version_cannot_approve_it(deps):
    template_id, _ = drafted(deps, by=OFFICER)
    with pytest.raises(MakerCheckerError):
        templates.approve(deps, NOON_ATLANTA, by=OFFICER, template_id=template_id, number=1)
    assert templates.get_template(deps, TENANT, template_id)["versions"][0]["status"] == "draft"
    templates.approve(deps, NOON_ATLANTA, by=OTHER_OFFICER, template_id=template_id, number=1)


def test_an_approved_version_never_changes_a_new_text_is_a_new_version(deps):
    template_id, _ = drafted(deps)
    templates.approve(deps, NOON_ATLANTA, by=OFFICER, template_id=template_id, number=1)
    with pytest.raises(TemplateStateError):
        templates.approve(deps, NOON_ATLANTA, by=OTHER_OFFICER, template_id=template_id, number=1)
    second = templates.add_version(
        deps,
        NOON_ATLANTA,
        by=AUTHOR,
        template_id=template_id,
        locale="en",
        text="Changed. Reply STOP to opt out.",
        variables={},
    )
    assert second == {"version": 2, "status": "draft"}
    versions = templates.get_template(deps, TENANT, template_id)["versions"]
    assert [(v["version"], v["status"], v["text"]) for v in versions] == [
        (1, "approved", TEXT),
        (2, "draft", "Changed. Reply STOP to opt out."),
    ]


def test_a_retired_version_is_retired_for_good(deps):
    template_id, _ = drafted(deps)
    templates.approve(deps, NOON_ATLANTA, by=OFFICER, template_id=template_id, number=1)
    assert templates.retire(deps, NOON_ATLANTA, by=OFFICER, template_id=template_id, number=1)["status"] == "retired"
    with pytest.raises(TemplateStateError):
        templates.retire(deps, NOON_ATLANTA, by=OFFICER, template_id=template_id, number=1)
    with pytest.raises(TemplateStateError):
        templates.approve(deps, NOON_ATLANTA, by=OTHER_OFFICER, template_id=template_id, number=1)


def test_every_step_is_an_audit_event_on_the_access_chain_with_the_texts_hash(deps):
    template_id, _ = drafted(deps)
    templates.approve(deps, NOON_ATLANTA, by=OFFICER, template_id=template_id, number=1)
    templates.retire(deps, NOON_ATLANTA, by=OTHER_OFFICER, template_id=template_id, number=1)
    events = [e for e in deps.audit.for_person(TENANT, ACCESS_CHAIN) if e["type"].startswith("template_")]
    assert [(e["type"], e["data"].get("by")) for e in events] == [
        ("template_created", "key:k_author"),
        ("template_drafted", "key:k_author"),
        ("template_approved", "key:k_officer"),
        ("template_retired", "key:k_other"),
    ]
    assert all(e["contact_id"] == f"template:{template_id}" for e in events)
    assert events[2]["data"]["text_sha256"] == hashlib.sha256(f"\n{TEXT}".encode()).hexdigest()


def test_a_text_naming_an_undeclared_variable_is_not_drafted(deps):
    template_id, _ = drafted(deps)
    with pytest.raises(TemplateTextError):
        templates.add_version(
            deps, NOON_ATLANTA, by=AUTHOR, template_id=template_id, locale="en", text="{{ ssn }}", variables={}
        )
    assert len(templates.get_template(deps, TENANT, template_id)["versions"]) == 1


def test_templates_of_another_tenant_are_not_found(deps):
    template_id, _ = drafted(deps)
    stranger = Principal("other", Role.COMPLIANCE, "k_stranger")
    with pytest.raises(NotFoundError):
        templates.approve(deps, NOON_ATLANTA, by=stranger, template_id=template_id, number=1)
    assert templates.list_templates(deps, "other") == {"templates": []}


class FailingLedger(InMemoryLedger):
    """The ledger (and so the audit chain) refuses every commit once ``failing`` is set."""

    failing = False

    def commit(self, ledger: Ledger, expected_version: int) -> None:
        if self.failing:
            raise StorageUnavailableError("InternalServerError")
        super().commit(ledger, expected_version)


def test_an_approval_that_cannot_be_audited_is_put_back(policies):
    ledgers = FailingLedger()
    deps = unit_of_work(policies, ledgers=ledgers)
    template_id, _ = drafted(deps)
    ledgers.failing = True
    with pytest.raises(StorageUnavailableError):
        templates.approve(deps, NOON_ATLANTA, by=OFFICER, template_id=template_id, number=1)
    version = templates.get_template(deps, TENANT, template_id)["versions"][0]
    assert version["status"] == "draft" and "approved_by" not in version


def test_a_draft_that_cannot_be_audited_is_retired_at_once(policies):
    ledgers = FailingLedger()
    deps = unit_of_work(policies, ledgers=ledgers)
    template_id, _ = drafted(deps)
    ledgers.failing = True
    with pytest.raises(StorageUnavailableError):
        templates.add_version(
            deps, NOON_ATLANTA, by=AUTHOR, template_id=template_id, locale="es", text="Hola. STOP", variables={}
        )
    second = templates.get_template(deps, TENANT, template_id)["versions"][1]
    assert (second["status"], second["retired_by"]) == ("retired", templates.UNAUDITED)
