"""The delivery rule kind: an address that failed permanently N times within a window is suppressed.

Repeated permanent failures say the address is wrong, and may belong to someone else (a third party, whom
15 U.S.C. 1692c(b) forbids telling about the debt); a collector told that an electronic message failed no
longer has 12 CFR 1006.42(b)'s safe harbour for it. The receipts handler counts the failures on the
address's own ledger, for every debtor of the tenant, and suppresses the address once the packs that applied
to the failed contact say so (``threshold_reached``); from then on this rule denies every contact to it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Literal

from pydantic import Field

from chalicelib.domain.model import Channel
from chalicelib.domain.rules.base import BaseRule, Context

SOURCE = "delivery-failures"  # the opt-out source of an address this rule suppressed


class DeliveryRule(BaseRule):
    """``permanent_failures`` permanent failures to one address within ``window_days`` suppress it (deny)."""

    kind: Literal["delivery"]
    channels: tuple[Channel, ...] = (Channel.SMS, Channel.EMAIL)
    permanent_failures: int = Field(ge=1, le=100)
    window_days: int = Field(ge=1, le=366)
    permanent: bool = True  # no waiting lifts a suppression: an officer does, through the preferences API

    def threshold_reached(self, failures: Iterable[datetime], now: datetime) -> bool:
        """Whether these permanent failures (the provider's times) suppress the address at ``now``."""
        since = now - timedelta(days=self.window_days)
        return sum(1 for at in failures if since <= at <= now) >= self.permanent_failures

    def violation(self, ctx: Context, at: datetime) -> str | None:
        found = next(
            (o for o in ctx.preferences.opt_outs if o.source == SOURCE and o.covers(ctx.request)),
            None,
        )
        if found is None:
            return None
        since = found.at.isoformat().replace("+00:00", "Z") if found.at else "before"
        return f"this address failed permanently {self.permanent_failures} times and is suppressed since {since}"

    def boundaries(self, ctx: Context, start: datetime, end: datetime) -> Iterable[datetime]:
        return ()
