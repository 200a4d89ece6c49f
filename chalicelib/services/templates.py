"""Message templates: drafted by submitters, admins and compliance, approved by another compliance key,
rendered for contacts (docs/decisions/0033, docs/templates.md).

Every step is an audit event on the tenant's access chain (subject ``template:<id>``), with the SHA-256 of
the version's text. A version is approved only without content findings; only an approved version sends.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from chalicelib.domain import content, templates
from chalicelib.domain.access import Principal
from chalicelib.domain.content import ContentFinding
from chalicelib.domain.errors import ConflictError, GatewayError, NotFoundError, StorageUnavailableError
from chalicelib.domain.events import EventType
from chalicelib.domain.model import Channel
from chalicelib.domain.policy import PolicySet
from chalicelib.domain.ports import TemplateStore
from chalicelib.domain.sms import segments
from chalicelib.domain.templates import VersionStatus
from chalicelib.services.keys import audit_access
from chalicelib.services.unit_of_work import UnitOfWork

MAX_VERSIONS = 200
TRIES = 5  # two authors drafting at once: each takes the next number
UNAUDITED = "gateway: its draft could not be audited"


class ContentFindingsError(GatewayError):
    """The version's text breaks content rules: it is not approved (422 listing each finding)."""

    def __init__(self, findings: Sequence[ContentFinding]) -> None:
        super().__init__(f"{len(findings)} content findings")
        self.findings = list(findings)


def store_of(deps: UnitOfWork) -> TemplateStore:
    if deps.templates is None:
        raise StorageUnavailableError("this deployment has no template store")
    return deps.templates


def _subject(template_id: str) -> str:
    return f"template:{template_id}"


def _template(deps: UnitOfWork, tenant: str, template_id: str) -> dict[str, Any]:
    found = store_of(deps).get(tenant, template_id)
    if found is None:
        raise NotFoundError(template_id)
    return found


def _version(template: Mapping[str, Any], number: int) -> dict[str, Any]:
    found = next((v for v in template["versions"] if v["version"] == number), None)
    if found is None:
        raise NotFoundError(f"{template['template_id']} version {number}")
    return dict(found)


def create_template(
    deps: UnitOfWork,
    now: datetime,
    *,
    by: Principal,
    name: str,
    channel: Channel,
    description: str | None = None,
    jurisdictions: Sequence[str] | None = None,
) -> dict[str, Any]:
    template_id = f"tpl_{secrets.token_hex(8)}"
    record = {
        "template_id": template_id,
        "name": name,
        "channel": channel.value,
        "description": description,
        "jurisdictions": list(jurisdictions) if jurisdictions is not None else None,
        "created_by": by.key_id,
        "created_at": now.isoformat(),
    }
    store_of(deps).create(by.tenant, record)
    data = {"template_id": template_id, "name": name, "channel": channel.value, "by": by.actor}
    audit_access(deps, by.tenant, now, EventType.TEMPLATE_CREATED, _subject(template_id), data)
    return {"template_id": template_id}


def add_version(
    deps: UnitOfWork,
    now: datetime,
    *,
    by: Principal,
    template_id: str,
    locale: str,
    text: str,
    variables: Mapping[str, str],
    subject: str | None = None,
) -> dict[str, Any]:
    """A new draft version: one locale's text, checked to parse and to use only what it declares."""
    typed = templates.check_declared(variables)
    templates.check_text(text, typed)
    if subject is not None:
        templates.check_text(subject, typed, field="subject")
    for _ in range(TRIES):
        template = _template(deps, by.tenant, template_id)
        if len(template["versions"]) >= MAX_VERSIONS:
            raise templates.TemplateStateError(f"template {template_id} has {MAX_VERSIONS} versions already")
        number = max((v["version"] for v in template["versions"]), default=0) + 1
        version = {
            "version": number,
            "locale": locale,
            "text": text,
            "subject": subject,
            "variables": {k: str(v) for k, v in typed.items()},
            "status": VersionStatus.DRAFT.value,
            "created_by": by.key_id,
            "created_at": now.isoformat(),
        }
        try:
            store_of(deps).add_version(by.tenant, template_id, version)
        except ConflictError:
            continue
        try:
            _audit_step(deps, now, by, EventType.TEMPLATE_DRAFTED, template_id, version)
        except StorageUnavailableError:  # an unaudited draft can never be approved: retired at once
            unaudited = {"status": VersionStatus.RETIRED.value, "retired_by": UNAUDITED, "retired_at": now.isoformat()}
            store_of(deps).set_status(by.tenant, template_id, number, VersionStatus.DRAFT.value, unaudited)
            raise
        return {"version": number, "status": VersionStatus.DRAFT.value}
    raise StorageUnavailableError("the template's versions stayed contended")


def _audit_step(
    deps: UnitOfWork, now: datetime, by: Principal, event: EventType, template_id: str, version: Mapping[str, Any]
) -> None:
    text = f"{version.get('subject') or ''}\n{version['text']}"
    data = {
        "template_id": template_id,
        "version": version["version"],
        "locale": version["locale"],
        "text_sha256": templates.text_hash(text),
        "by": by.actor,
    }
    audit_access(deps, by.tenant, now, event, _subject(template_id), data)


def list_templates(deps: UnitOfWork, tenant: str) -> dict[str, Any]:
    found = sorted(store_of(deps).templates(tenant), key=lambda t: (t["created_at"], t["template_id"]))
    return {"templates": found}


def get_template(deps: UnitOfWork, tenant: str, template_id: str) -> dict[str, Any]:
    return _template(deps, tenant, template_id)


def version_findings(
    policies: PolicySet, template: Mapping[str, Any], version: Mapping[str, Any], rendered: str | None = None
) -> list[ContentFinding]:
    """Findings on every branch of the version's words (``outline``), and on ``rendered`` when given."""
    channel = Channel(template["channel"])
    jurisdictions = template.get("jurisdictions")
    texts = [f"{templates.outline(version.get('subject') or '')}\n{templates.outline(version['text'])}"]
    if rendered is not None:
        texts.insert(0, rendered)
    found: dict[tuple[str, str], ContentFinding] = {}
    for text in texts:
        for finding in content.findings(policies, text, channel=channel, jurisdictions=jurisdictions):
            found.setdefault((finding.rule, finding.span), finding)
    return list(found.values())


def preview(
    deps: UnitOfWork, tenant: str, template_id: str, number: int, variables: Mapping[str, Any]
) -> dict[str, Any]:
    """The version rendered with ``variables``, its SMS segments, and every content finding."""
    template = _template(deps, tenant, template_id)
    version = _version(template, number)
    typed = templates.check_declared(version["variables"])
    body = templates.render(version["text"], typed, variables, version["locale"])
    subject = version.get("subject")
    rendered_subject = templates.render(subject, typed, variables, version["locale"]) if subject else None
    judged = f"{rendered_subject or ''}\n{body}"
    findings = version_findings(deps.policies, template, version, judged)
    sms = segments(body) if template["channel"] == Channel.SMS else None
    answer: dict[str, Any] = {
        "text": body,
        "segments": sms.count if sms else None,
        "encoding": sms.encoding if sms else None,
        "findings": [f.to_json() for f in findings],
    }
    if rendered_subject is not None:
        answer["subject"] = rendered_subject
    return answer


def approve(deps: UnitOfWork, now: datetime, *, by: Principal, template_id: str, number: int) -> dict[str, Any]:
    """Maker-checker: a draft with no content findings, approved by a compliance key that did not write it."""
    template = _template(deps, by.tenant, template_id)
    version = _version(template, number)
    templates.check_approval(version, by.key_id)
    findings = version_findings(deps.policies, template, version)
    if findings:
        raise ContentFindingsError(findings)
    changes = {"status": VersionStatus.APPROVED.value, "approved_by": by.key_id, "approved_at": now.isoformat()}
    return _move(deps, now, by, template_id, version, changes, EventType.TEMPLATE_APPROVED)


def retire(deps: UnitOfWork, now: datetime, *, by: Principal, template_id: str, number: int) -> dict[str, Any]:
    """A draft or approved version stops being usable for good; contacts already decided keep their text."""
    version = _version(_template(deps, by.tenant, template_id), number)
    templates.check_retirement(version)
    changes = {"status": VersionStatus.RETIRED.value, "retired_by": by.key_id, "retired_at": now.isoformat()}
    return _move(deps, now, by, template_id, version, changes, EventType.TEMPLATE_RETIRED)


def _move(
    deps: UnitOfWork,
    now: datetime,
    by: Principal,
    template_id: str,
    version: dict[str, Any],
    changes: dict[str, Any],
    event: EventType,
) -> dict[str, Any]:
    """Change the status on the condition it is still the one read, then audit it; a step that cannot be
    audited is put back (to the status read) and raises: no approval goes unaudited."""
    store, number, before = store_of(deps), version["version"], version["status"]
    try:
        store.set_status(by.tenant, template_id, number, before, changes)
    except ConflictError:
        raise templates.TemplateStateError(f"version {number} was changed by another step; read it again") from None
    try:
        _audit_step(deps, now, by, event, template_id, version)
    except StorageUnavailableError:
        try:
            undo: dict[str, Any] = {**dict.fromkeys(changes), "status": before}
            store.set_status(by.tenant, template_id, number, changes["status"], undo)
        except (ConflictError, StorageUnavailableError):
            pass
        raise
    return {"version": number, "status": changes["status"]}
