"""What-if: "would this contact be allowed at T, and if not, when?" for a scenario with its own history.

The same evaluation the gateway runs, fed by a scenario instead of the ledger: ``./gateway whatif``,
the examples under ``policies/examples/`` and their tests all go through ``run``. A request states its
``message``, or a ``template`` given inline (``{"locale", "text", "variables", "subject"?}``), rendered with
its variables as a send would; either way the packs' content rules judge the text.
"""

from __future__ import annotations

from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationError, field_validator

from chalicelib.domain import engine
from chalicelib.domain.model import (
    MESSAGE_RESULTS,
    VOICE_RESULTS,
    Channel,
    ContactRecord,
    Decision,
    Direction,
    RecipientRole,
    Result,
)
from chalicelib.domain.policy import PolicySet, build_policy_set
from chalicelib.domain.preferences import Preferences
from chalicelib.http.models import ContactIn
from tools.template_text import TemplateTextError, render

# A history may hold what is not known yet: a call still ``placed``, a message ``pending``, or ``unknown``.
_RESULTS = {
    Channel.VOICE: VOICE_RESULTS | {Result.PLACED, Result.UNKNOWN},
    Channel.SMS: MESSAGE_RESULTS | {Result.PENDING, Result.UNKNOWN},
    Channel.EMAIL: MESSAGE_RESULTS | {Result.PENDING, Result.UNKNOWN},
}


class ScenarioError(ValueError):
    """The scenario cannot be judged; the message is one line."""


class HistoryItem(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    at: AwareDatetime
    channel: Channel
    account_id: str
    to: str | None = None
    result: Result
    direction: Direction = Direction.OUTBOUND
    recipient_role: RecipientRole = RecipientRole.DEBTOR
    agency: str | None = None  # the collection agency that made it (None: the creditor)

    @field_validator("result")
    @classmethod
    def _result_fits_channel(cls, value: Result, info: Any) -> Result:
        channel = info.data.get("channel")
        if channel is not None and value not in _RESULTS[channel]:
            raise ValueError(f"{value.value!r} is not a result of a {channel.value} contact")
        return value


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    at: AwareDatetime
    request: ContactIn
    history: tuple[HistoryItem, ...] = ()
    preferences: Preferences = Preferences()
    policies: tuple[str, ...] | None = None
    tenant: str = "whatif"
    agency: str | None = None  # the collection agency asking (as its API key would say)
    expect: dict[str, Any] | None = None  # used by policies/examples/, ignored here


def _policy_subset(policy_set: PolicySet, ids: tuple[str, ...] | None) -> PolicySet:
    if ids is None:
        return policy_set
    unknown = sorted(set(ids) - {p.id for p in policy_set.packs})
    if unknown:
        raise ScenarioError(f"policies: unknown pack ids {unknown}")
    chosen = {f"{p.id}.yaml": p.model_dump(mode="json") for p in policy_set.packs if p.id in ids}
    return build_policy_set(chosen)


def _records(history: tuple[HistoryItem, ...]) -> list[ContactRecord]:
    return [
        ContactRecord(contact_id=f"history-{i}", **item.model_dump(exclude_none=True)) for i, item in enumerate(history)
    ]


class InlineTemplate(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    locale: str
    text: str
    variables: dict[str, Any] = {}
    subject: str | None = None


def _rendered(request: Any) -> Any:
    """The request with an inline template rendered into its message."""
    if not isinstance(request, dict) or "template" not in request:
        return request
    try:
        template = InlineTemplate.model_validate(request["template"])
        message = {"body": render(template.text, template.variables)}
        if template.subject is not None:
            message["subject"] = render(template.subject, template.variables)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ScenarioError(f"request.template.{'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from None
    except TemplateTextError as exc:
        raise ScenarioError(f"request.{exc}") from None
    return {**{k: v for k, v in request.items() if k != "template"}, "message": message}


def parse(document: Any) -> Scenario:
    if not isinstance(document, dict):
        raise ScenarioError("a scenario is a mapping with at, request, history, preferences, policies")
    document = {**document, "request": _rendered(document.get("request"))}
    try:
        return Scenario.model_validate(document, strict=False)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise ScenarioError(f"{field}: {first['msg']}") from None


def judge(scenario: Scenario, policy_set: PolicySet) -> Decision:
    policies = _policy_subset(policy_set, scenario.policies)
    request = scenario.request.to_domain(scenario.tenant, scenario.agency)
    return engine.evaluate(request, _records(scenario.history), policies, scenario.at, scenario.preferences)


def answer(decision: Decision) -> dict[str, Any]:
    return {
        "outcome": decision.outcome.value,
        "not_before": decision.not_before.isoformat().replace("+00:00", "Z") if decision.not_before else None,
        "reasons": [r.model_dump() for r in decision.reasons],
        "policy_version": decision.policy_version,
        "zones": decision.inputs.get("zones", []),
    }


def run(document: Any, policy_set: PolicySet) -> dict[str, Any]:
    """Scenario document in, the printed answer out; ``ScenarioError`` for an invalid scenario."""
    return answer(judge(parse(document), policy_set))
