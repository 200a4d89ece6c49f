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
from datetime import UTC, datetime, timedelta
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

FORMAT = 2  # ``replay.v``: what a reader of the block can rely on (the first form, 1, is still read)
FORMATS = (1, 2)
REQUEST_FIELDS = ("channel", "account_id", "recipient_role", "purpose", "days_past_due", "agency")
KEY_LENGTH = 12  # hex digits of a content key (48 bits; format 1 kept 16, read as their first 12)
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
    return _digest(rule.required_any, rule.required_all, rule.forbidden, rule.categories, rule.allow)[:KEY_LENGTH]


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


# Format 2 (docs/decisions/0035): what the event already holds (its channel, account and agency; the instant
# it was decided at) is not repeated, and what equals its default is left out. A history record is a tuple,
# ``[seconds before the decision, result]``, with a third item only for the fields that differ from the
# request's (short keys; times as seconds before the decision). Its contact id is not kept: no rule reads it.
REQUEST_DEFAULTS: dict[str, Any] = {"recipient_role": "debtor", "purpose": "reminder", "days_past_due": None}
RECORD_FIELDS = {  # every field of a ``ContactRecord`` but its id, instant and result, by its short key
    "channel": "c",
    "account_id": "a",
    "to": "t",
    "direction": "d",
    "agency": "g",
    "recipient_role": "r",
    "valid_until": "vu",
    "outcome_due": "od",
    "delivery": "ds",
    "delivery_at": "da",
    "delivery_code": "dc",
}
_TIMES = ("valid_until", "outcome_due", "delivery_at")
_FIELDS = tuple((name, short, name in _TIMES) for name, short in RECORD_FIELDS.items())


def _ago(at: datetime, now: datetime) -> int | float:
    """``at`` as seconds before ``now``: whole when it is, else to the microsecond."""
    delta = now - at
    whole = delta.days * 86_400 + delta.seconds
    return whole if not delta.microseconds else round(delta.total_seconds(), 6)


def _since(ago: float, now: datetime) -> datetime:
    return now - timedelta(microseconds=round(ago * 1_000_000))


def _base(channel: Any, account_id: Any, agency: Any, to: Any) -> dict[str, Any]:
    """What a history record's fields are taken to be when the record leaves them out: the request's."""
    return {"channel": channel, "account_id": account_id, "to": to, "agency": agency}


_RECORD_DEFAULTS = {"direction": "outbound", "recipient_role": "debtor"}


def _compact(record: ContactRecord, base: Mapping[str, Any], now: datetime) -> list[Any]:
    raw = record.model_dump(mode="json", include=set(RECORD_FIELDS))
    raw["to"] = address_token(record.to)
    differs: dict[str, Any] = {}
    for name, short in RECORD_FIELDS.items():
        value = raw[name]
        if name in _TIMES and value is not None:
            value = _ago(getattr(record, name), now)
        if value != base.get(name, _RECORD_DEFAULTS.get(name)):
            differs[short] = value
    entry: list[Any] = [_ago(record.at, now), record.result.value]
    return [*entry, differs] if differs else entry


def _expanded(entry: Sequence[Any], base: Mapping[str, Any], now: datetime, contact_id: str) -> dict[str, Any]:
    ago, result, *rest = entry
    raw = {**_RECORD_DEFAULTS, **base}
    if rest:
        differs: Mapping[str, Any] = rest[0]
        raw.update((name, differs[short]) for name, short in RECORD_FIELDS.items() if short in differs)
        for name in _TIMES:
            if raw.get(name) is not None:
                raw[name] = _since(raw[name], now)
    return {**raw, "contact_id": contact_id, "at": _since(ago, now), "result": result}


def recorded(
    request: ContactRequest,
    history: Sequence[ContactRecord],
    preferences: Preferences,
    policies: PolicySet,
    pack_ids: Iterable[str],
    now: datetime,
) -> dict[str, Any]:
    """The ``replay`` block of a ``decided`` event: what deciding this request again needs, no address in it.

    ``pack_ids``: the packs that applied, whose content rules' verdicts it keeps. ``now``: the instant decided
    at (the event's ``inputs.evaluated_at``), which the history's times are kept relative to."""
    prefs = preferences.model_dump(mode="json", exclude_defaults=True)
    for opt_out in prefs.get("opt_outs", ()):
        opt_out["address"] = address_token(opt_out.get("address"))
    to = address_token(request.to)
    fields = request.model_dump(mode="json", include=set(REQUEST_DEFAULTS))
    block: dict[str, Any] = {"v": FORMAT, "to": to, **{k: v for k, v in fields.items() if v != REQUEST_DEFAULTS[k]}}
    if history:
        base = _base(request.channel.value, request.account_id, request.agency, to)
        block["h"] = [_compact(r, base, now) for r in history]
    if prefs:
        block["p"] = prefs
    content = _content(request, policies, pack_ids)
    clean = [key for key, found in content.items() if found is None]
    if clean:
        block["ok"] = " ".join(clean)  # content rules that found nothing
    found = {key: findings for key, findings in content.items() if findings is not None}
    if found:
        block["f"] = found
    return block


def _first_form(block: Mapping[str, Any], data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A format 2 block in the first format's shape but its history (what the reader below takes), and the
    request's fields its history records leave out."""
    fields = {k: block[k] for k in ("to", *REQUEST_DEFAULTS) if k in block}
    base = _base(data.get("channel"), data.get("account_id"), data.get("agency"), fields.get("to"))
    request = {**base, **REQUEST_DEFAULTS, **fields}
    content: dict[str, str | None] = dict.fromkeys(block.get("ok", "").split())
    content.update(block.get("f", {}))
    return {"request": request, "preferences": block.get("p", {}), "content": content}, base


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


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
        self.records: dict[tuple[Any, ...], ContactRecord] = {}
        self.requests: dict[str, ContactRequest] = {}
        self.places: dict[str, Candidates] = {}
        self.preferences: dict[str, Preferences] = {"{}": Preferences()}

    def compact(
        self, entries: Sequence[Sequence[Any]], base: Mapping[str, Any], now: datetime
    ) -> tuple[ContactRecord, ...]:
        """Format 2's history records: a record appears in each of its person's later decisions, each time
        relative to that decision and to its request, so it is found again by what it is: its instant, its
        result and its fields, times made absolute."""
        now_us, found = (now - _EPOCH) // _MICROSECOND, []
        defaults = {**_RECORD_DEFAULTS, **base}
        plain = tuple(defaults.get(name) for name in RECORD_FIELDS)
        for entry in entries:
            at_us = now_us - round(entry[0] * 1_000_000)
            values = plain
            if len(entry) > 2:
                differs = entry[2]
                values = tuple(
                    (
                        now_us - round(differs[short] * 1_000_000)
                        if timed and differs[short] is not None
                        else differs[short]
                    )
                    if short in differs
                    else defaults.get(name)
                    for name, short, timed in _FIELDS
                )
            key = (at_us, entry[1], values)
            record = self.records.get(key)
            if record is None:
                raw = _expanded(entry, base, now, f"h{at_us}")
                record = self.records[key] = ContactRecord.model_validate(raw)
            found.append(record)
        return tuple(found)

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
    if block.get("v") not in FORMATS:
        return Unreplayable(contact_id, f"replay inputs of an unknown format {block.get('v')!r}")
    parsed = parsed or _Parsed()
    inputs = data.get("inputs", {})
    at = datetime.fromisoformat(inputs.get("evaluated_at") or event["at"])
    if block["v"] == 1:
        block = {**block, "content": {key[:KEY_LENGTH]: v for key, v in block.get("content", {}).items()}}
        history = tuple(parsed.record(r) for r in block.get("history", ()))
    else:
        compact, (block, base) = block.get("h", ()), _first_form(block, data)
        history = parsed.compact(compact, base, at)
    request = parsed.request(tenant, event["debtor_id"], block)
    return Case(
        contact_id=contact_id,
        debtor_id=event["debtor_id"],
        at=at,
        request=request,
        history=history,
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
