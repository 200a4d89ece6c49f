"""What a decision records so it can be decided again, and reading it back: a replay case.

A ``decided`` event carries, under ``replay``, the engine's inputs that its ``inputs`` do not already hold:
the request's fields the rules read, the history and the preferences the engine saw, and what each content
rule of the packs that applied found in the message. Where the person may be (zones, countries, places)
is in ``inputs``. Nothing here needs an address: every address is kept only as its masked form
(``masking.mask_address``), which the rules compare for equality (the same address, the same masked
form); a masked export shows it unchanged.
The message text is not kept: a content rule is decided again from the verdict recorded for its content
(``content_key``: its patterns, categories and allowances), whatever its id, roles or channels.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from chalicelib.domain.content_text import fold
from chalicelib.domain.masking import mask_address
from chalicelib.domain.model import ContactRecord, ContactRequest, Location, Outcome
from chalicelib.domain.pacing import PACED
from chalicelib.domain.policy import PolicySet
from chalicelib.domain.preferences import Preferences
from chalicelib.domain.rules import ContentRule
from chalicelib.domain.zones import Candidates

FORMAT = 1  # ``replay.v``: what a reader of the block can rely on
REQUEST_FIELDS = ("channel", "account_id", "recipient_role", "purpose", "days_past_due", "agency")
CONTENT_KEY = "replay_content"  # where a replayed request carries its recorded content verdicts


def address_token(address: str | None) -> str | None:
    """The form an address is recorded in: masked, after the case-folding the rules compare with."""
    return mask_address(address.strip().lower()) if address else address


@cache
def _digest(*content: object) -> str:
    return hashlib.sha256(repr(content).encode()).hexdigest()[:16]


def content_key(rule: ContentRule) -> str:
    """What a content rule's verdict on a text depends on, as a digest: two rules with the same patterns,
    categories and allowances judge a text alike."""
    return _digest(rule.required_any, rule.required_all, rule.forbidden, rule.categories, rule.allow)


def _content(request: ContactRequest, policies: PolicySet, pack_ids: Iterable[str]) -> dict[str, str | None]:
    """Each content rule's verdict on the message (its findings, or None), for the packs that applied."""
    ids = set(pack_ids)
    rules = [r for p in policies.packs if p.id in ids for r in p.active_rules() if isinstance(r, ContentRule)]
    rules = [r for r in rules if request.channel in r.channels]
    if not rules:
        return {}
    message = request.message
    folded = fold(f"{message.subject or ''}\n{message.body}" if message else "")  # as ``ContentRule`` reads it
    return {content_key(r): "; ".join(f.detail for f in r.judge(folded, request.purpose)) or None for r in rules}


def _record(record: ContactRecord) -> dict[str, Any]:
    return {**record.model_dump(mode="json", exclude_defaults=True), "to": address_token(record.to)}


def recorded(
    request: ContactRequest,
    history: Sequence[ContactRecord],
    preferences: Preferences,
    policies: PolicySet,
    pack_ids: Iterable[str] = (),
) -> dict[str, Any]:
    """The ``replay`` block of a ``decided`` event: what deciding this request again needs, no address in it.

    ``pack_ids``: the packs that applied, whose content rules' verdicts it keeps."""
    prefs = preferences.model_dump(mode="json", exclude_defaults=True)
    for opt_out in prefs.get("opt_outs", ()):
        opt_out["address"] = address_token(opt_out.get("address"))
    return {
        "v": FORMAT,
        "request": {**request.model_dump(mode="json", include=set(REQUEST_FIELDS)), "to": address_token(request.to)},
        "history": [_record(r) for r in history],
        "preferences": prefs,
        "content": _content(request, policies, pack_ids),
    }


@dataclass(frozen=True)
class Case:
    """One recorded decision, ready to be decided again at its own instant."""

    contact_id: str
    debtor_id: str
    at: datetime
    request: ContactRequest
    history: tuple[ContactRecord, ...]
    preferences: Preferences
    candidates: Candidates
    content: Mapping[str, str | None]
    recorded_outcome: str | None = None
    recorded_version: str | None = None

    @property
    def place(self) -> str:
        """The jurisdiction the person was placed in: subdivisions and localities, else countries."""
        return ",".join(self.candidates.subdivisions or self.candidates.countries) or "unknown"


@dataclass(frozen=True)
class Unreplayable:
    contact_id: str
    reason: str


class _Parsed:
    """What cases share, parsed once: a person's record appears in each of their later decisions, and
    their requests, places and preferences repeat."""

    def __init__(self) -> None:
        self.records: dict[tuple[str, str, str], ContactRecord] = {}
        self.requests: dict[str, ContactRequest] = {}
        self.places: dict[str, Candidates] = {}
        self.preferences: dict[str, Preferences] = {"{}": Preferences()}

    def record(self, raw: dict[str, Any]) -> ContactRecord:
        key = (raw["contact_id"], raw["at"], raw["result"])
        found = self.records.get(key)
        if found is None:
            found = self.records[key] = ContactRecord.model_validate(raw)
        return found

    def request(self, tenant: str, debtor_id: str, block: Mapping[str, Any]) -> ContactRequest:
        fields, content = block["request"], block.get("content", {})
        key = repr((tenant, debtor_id, sorted(fields.items()), sorted(content.items(), key=str)))
        found = self.requests.get(key)
        if found is None:
            extra = {"tenant": tenant, "debtor_id": debtor_id, "to": fields.get("to") or "", "location": Location()}
            raw = {**fields, **extra, "metadata": {CONTENT_KEY: dict(content)}}
            found = self.requests[key] = ContactRequest.model_validate(raw)
        return found

    def place(self, inputs: Mapping[str, Any]) -> Candidates:
        keys = ("zones", "zone_sources", "countries", "subdivisions")
        key = repr([inputs.get(k) for k in keys])
        found = self.places.get(key)
        if found is None:
            found = self.places[key] = _candidates(inputs)
        return found

    def prefs(self, raw: Mapping[str, Any]) -> Preferences:
        key = repr(raw) if raw else "{}"
        found = self.preferences.get(key)
        if found is None:
            found = self.preferences[key] = Preferences.model_validate(raw)
        return found


def _candidates(inputs: Mapping[str, Any]) -> Candidates:
    sources = {zone: list(names) for zone, names in inputs.get("zone_sources", {}).items()}
    return Candidates(
        zones=tuple(inputs.get("zones", ())),
        sources=sources,
        countries=tuple(inputs.get("countries", ())),
        subdivisions=tuple(inputs.get("subdivisions", ())),
    )


def cases(events: Iterable[Mapping[str, Any]], tenant: str) -> Iterable[Case | Unreplayable]:
    """The ``decided`` events among ``events`` as cases; those that cannot be decided again, with why."""
    parsed = _Parsed()
    for event in events:
        if event.get("type") == "decided":
            yield case(event, tenant, parsed)


def case(event: Mapping[str, Any], tenant: str, parsed: _Parsed | None = None) -> Case | Unreplayable:
    data, contact_id = event["data"], event["contact_id"]
    block = data.get("replay")
    if not isinstance(block, dict):
        return Unreplayable(contact_id, "recorded before decisions kept their replay inputs")
    if block.get("v") != FORMAT:
        return Unreplayable(contact_id, f"replay inputs of an unknown format {block.get('v')!r}")
    parsed = parsed or _Parsed()
    inputs = data.get("inputs", {})
    request = parsed.request(tenant, event["debtor_id"], block)
    return Case(
        contact_id=contact_id,
        debtor_id=event["debtor_id"],
        at=datetime.fromisoformat(inputs.get("evaluated_at") or event["at"]),
        request=request,
        history=tuple(parsed.record(r) for r in block.get("history", ())),
        preferences=parsed.prefs(block.get("preferences", {})),
        candidates=parsed.place(inputs),
        content=request.metadata[CONTENT_KEY],
        recorded_outcome=_engine_outcome(data),
        recorded_version=data.get("policy_version"),
    )


def _engine_outcome(data: Mapping[str, Any]) -> str | None:
    """The engine's own outcome: a message rescheduled to a provider slot was allowed by the rules."""
    paced = any(r.get("rule") == PACED.rule for r in data.get("reasons", ()))
    return Outcome.ALLOW.value if paced else data.get("outcome")
