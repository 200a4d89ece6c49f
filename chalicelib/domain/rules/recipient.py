"""The recipient rule kind: who may be contacted about the debt.

Its violations are ``permanent``: no waiting satisfies them, so the decision is ``deny``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Literal

from pydantic import Field

from chalicelib.domain.model import Purpose, RecipientRole
from chalicelib.domain.rules.base import BaseRule, Context


class RecipientRule(BaseRule):
    """Only the debtor, or a third party only to acquire location information, a bounded number of times."""

    kind: Literal["recipient"]
    permanent: bool = True
    third_parties: Literal["never", "location_only"] = "never"
    location_contacts_per_address: int = Field(default=1, ge=0)

    @property
    def timeless(self) -> bool:
        return True

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
