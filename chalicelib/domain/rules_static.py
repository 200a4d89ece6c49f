"""Rule kinds whose verdict does not change with time: who may be contacted, what a message must say.

Their violations are ``permanent``: no waiting satisfies them, so the decision is ``deny``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Literal

from pydantic import Field, field_validator

from chalicelib.domain.model import Channel, Purpose, RecipientRole
from chalicelib.domain.rules import BaseRule, Context


class RecipientRule(BaseRule):
    """Only the debtor, or a third party only to acquire location information, a bounded number of times."""

    kind: Literal["recipient"]
    permanent: bool = True
    third_parties: Literal["never", "location_only"] = "never"
    location_contacts_per_address: int = Field(default=1, ge=0)

    def violation(self, ctx: Context, at: datetime) -> str | None:
        request = ctx.request
        if request.recipient_role is RecipientRole.DEBTOR:
            return None
        if self.third_parties == "never":
            return "only the debtor may be contacted about the debt"
        if request.purpose is not Purpose.LOCATION_INFORMATION:
            return "a third party may be contacted only to acquire location information"
        earlier = sum(1 for r in ctx.history if r.recipient_role is RecipientRole.THIRD_PARTY and r.to == request.to)
        if earlier >= self.location_contacts_per_address:
            return f"this third party was already contacted {earlier} time(s) for location information"
        return None

    def boundaries(self, ctx: Context, start: datetime, end: datetime) -> Iterable[datetime]:
        return ()


class ContentRule(BaseRule):
    """A message must carry one of the required texts (an opt-out notice) and none of the forbidden ones."""

    kind: Literal["content"]
    permanent: bool = True
    channels: tuple[Channel, ...] = (Channel.SMS, Channel.EMAIL)
    required_any: tuple[str, ...] = ()  # regular expressions, case-insensitive
    forbidden: tuple[str, ...] = ()

    @field_validator("required_any", "forbidden")
    @classmethod
    def _patterns_compile(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"pattern {pattern!r} does not compile: {exc}") from exc
        return value

    def violation(self, ctx: Context, at: datetime) -> str | None:
        message = ctx.request.message
        text = f"{message.subject or ''}\n{message.body}" if message else ""
        if self.required_any and not any(re.search(p, text, re.IGNORECASE) for p in self.required_any):
            return "the message lacks the required text"
        for pattern in self.forbidden:
            if re.search(pattern, text, re.IGNORECASE):
                return "the message contains forbidden wording"
        return None

    def boundaries(self, ctx: Context, start: datetime, end: datetime) -> Iterable[datetime]:
        return ()
