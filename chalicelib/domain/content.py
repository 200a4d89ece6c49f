"""What a message says, judged apart from any contact: the findings the content rules make on a text.

The engine judges a contact's message through the content rule kind (``rules/content.py``). Templates are
judged before any contact exists (at preview and at approval), and ``./gateway template lint`` judges a
file: both ask this module, with the packs of the jurisdictions that may receive the text.

Without a contact there is no history: ``initial`` says whether the text is to be judged as a collector's
initial communication (default: a subsequent one; the send is judged again with the ledger's history).
``purpose`` opens a pack's allow-list (a ``legal_notice`` may cite an actual judgment); ``agency`` says
whether a collection agency sends it (the rules that bind debt collectors alone).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from chalicelib.domain.content_text import fold
from chalicelib.domain.model import Channel, Purpose, RecipientRole
from chalicelib.domain.policy import Pack, PolicySet
from chalicelib.domain.rules.content import ContentRule


class UnknownJurisdictionError(ValueError):
    """A jurisdiction names no pack and no country a pack covers."""


@dataclass(frozen=True)
class ContentFinding:
    """One content rule the text breaks: which, why in law, and where (the matched text, masked)."""

    rule: str
    citation: str
    span: str
    message: str
    category: str = ""  # a forbidden category, "forbidden" (a pack's own pattern) or "required"

    def to_json(self) -> dict[str, str]:
        return {"rule": self.rule, "citation": self.citation, "span": self.span, "message": self.message}


def _packs(policies: PolicySet, name: str) -> list[Pack]:
    """A pack by id, or by a country code the jurisdiction packs of the whole country; unknown: an error,
    since judging a text by no pack would find nothing (fail open)."""
    by_id = [p for p in policies.packs if p.id == name]
    country = [p for p in policies.applicable([name.upper()], []) if p.kind == "jurisdiction"]
    if not by_id and not country:
        raise UnknownJurisdictionError(f"no policy pack is named or covers {name!r}")
    return by_id or country


def findings(
    policies: PolicySet,
    text: str,
    *,
    channel: Channel,
    jurisdictions: Sequence[str] | None = None,
    role: RecipientRole = RecipientRole.DEBTOR,
    purpose: Purpose | None = None,
    agency: bool = False,
    initial: bool = False,
) -> list[ContentFinding]:
    """Every finding of the content rules of the named packs (every pack when None) for this channel.

    ``jurisdictions``: pack ids (``us-federal``) or country codes (``CN``: every jurisdiction pack of the
    country); a name that is neither raises ``UnknownJurisdictionError``."""
    packs = policies.packs if jurisdictions is None else [p for n in jurisdictions for p in _packs(policies, n)]
    rules = [  # the content rules that bind such a text
        rule
        for pack in packs
        for rule in pack.active_rules()
        if isinstance(rule, ContentRule)
        and channel in rule.channels
        and (rule.roles is None or role in rule.roles)
        and (agency or not rule.agency_only)
        and (initial or rule.communications == "any")
        and (purpose is None or rule.purposes is None or purpose in rule.purposes)
    ]
    if not rules:
        return []
    folded = fold(text)
    return [
        ContentFinding(rule=rule.id, citation=rule.citation, span=f.span, message=rule.message, category=f.category)
        for rule in rules
        for f in rule.judge(folded, purpose)
    ]
