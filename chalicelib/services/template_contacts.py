"""A contact that names a template: the approved version rendered into its message (docs/decisions/0033).

The rendered text is then the message the engine judges, the content rules included, exactly as a raw
body would be; the request keeps which version it came from and the SHA-256 of what it rendered, so the
audit trail can show both without the text. A tenant that requires approved templates refuses raw bodies.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chalicelib.domain import templates
from chalicelib.domain.errors import GatewayError
from chalicelib.domain.model import Channel, ContactRequest, Decision, Message, Outcome, Reason, TemplateRef
from chalicelib.domain.pacing import TenantSettings
from chalicelib.domain.ports import TemplateLookup
from chalicelib.domain.templates import TemplateVariableError, VersionStatus
from chalicelib.services.templates import store_of
from chalicelib.services.unit_of_work import UnitOfWork

SMS_MAX = 1600  # as a raw SMS body (http.models.SMS_MAX)


# A deferred contact whose version was retired before it went out: only approved versions send.
TEMPLATE_WITHDRAWN = Reason(
    rule="gateway/template-not-approved",
    citation="house rule: only approved template versions send",
    message="the template version this message was rendered from is no longer approved",
)


class TemplateRefusedError(GatewayError):
    """The named template cannot send: unknown, another channel, not approved, no version in the locale."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class RawMessageRefusedError(GatewayError):
    """The tenant requires approved templates, and the request carries a raw message."""


@dataclass(frozen=True)
class TemplateUse:
    """What a contact request names: ``{"id", "version"?, "locale", "variables"}``."""

    id: str
    locale: str
    version: int | None = None
    variables: Mapping[str, Any] = field(default_factory=dict)


def tenant_settings(deps: UnitOfWork, tenant: str, now: datetime) -> TenantSettings:
    return deps.pacing.tenant(tenant, now) if deps.pacing is not None else TenantSettings()


def prepare(request: ContactRequest, use: TemplateUse | None, deps: UnitOfWork, now: datetime) -> ContactRequest:
    """The request to decide: with its template rendered, or as it came when the tenant allows raw bodies."""
    if use is None:
        if request.message is not None and tenant_settings(deps, request.tenant, now).require_approved_templates:
            raise RawMessageRefusedError("this tenant sends approved templates only: name a template")
        return request
    store = store_of(deps)
    template = store.header(request.tenant, use.id)
    if template is None:
        raise TemplateRefusedError("template.id", "no such template")
    if template["channel"] != request.channel.value:
        raise TemplateRefusedError("template.id", f"is a template for {template['channel']}")
    version = _approved(store, request.tenant, use)
    return _rendered(request, use, version)


def _approved(store: TemplateLookup, tenant: str, use: TemplateUse) -> dict[str, Any]:
    """The version named (it must be approved and in the locale), else the latest approved in the locale."""
    if use.version is None:
        newest = store.newest_approved(tenant, use.id, use.locale)
        if newest is None:
            raise TemplateRefusedError("template.locale", f"the template has no approved version in {use.locale}")
        return newest
    named = store.version(tenant, use.id, use.version)
    if named is None:
        raise TemplateRefusedError("template.version", "no such version")
    if named["status"] != VersionStatus.APPROVED:
        raise TemplateRefusedError("template.version", f"is {named['status']}: only an approved version sends")
    if named["locale"] != use.locale:
        raise TemplateRefusedError("template.locale", f"version {use.version} is in {named['locale']}")
    return named


def _rendered(request: ContactRequest, use: TemplateUse, version: Mapping[str, Any]) -> ContactRequest:
    typed = templates.check_declared(version["variables"])
    field_name = "template.variables"
    body = unicodedata.normalize("NFC", templates.render(version["text"], typed, use.variables, use.locale, field_name))
    subject = version.get("subject")
    if subject:
        subject = unicodedata.normalize("NFC", templates.render(subject, typed, use.variables, use.locale, field_name))
        subject = " ".join(subject.split()) or None  # one line, as a raw subject must be
    if not body.strip():
        raise TemplateVariableError(field_name, "the rendered text is empty")
    if request.channel is Channel.SMS and len(body) > SMS_MAX:
        raise TemplateVariableError(field_name, f"the rendered text is longer than {SMS_MAX} characters for an SMS")
    ref = TemplateRef(id=use.id, version=int(version["version"]), locale=use.locale, sha256=templates.text_hash(body))
    return request.model_copy(update={"message": Message(subject=subject, body=body), "template": ref})


def still_approved(decision: Decision, request: ContactRequest, deps: UnitOfWork) -> Decision:
    """A contact decided again later (a deferral) sends only while its version is still approved; else it is
    denied with ``TEMPLATE_WITHDRAWN``. A store that cannot be read raises: nothing is sent."""
    ref = request.template
    if ref is None or decision.outcome is Outcome.DENY:
        return decision
    version = store_of(deps).version(request.tenant, ref.id, ref.version)
    if version is not None and version["status"] == VersionStatus.APPROVED:
        return decision
    reasons = (*decision.reasons, TEMPLATE_WITHDRAWN)
    return decision.model_copy(update={"outcome": Outcome.DENY, "not_before": None, "reasons": reasons})
