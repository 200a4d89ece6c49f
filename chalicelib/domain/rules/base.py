"""What every rule kind shares: the context it judges and the base it extends.

Each kind judges one instant and names the instants where its verdict can change. A rule's verdict is
constant between two consecutive boundaries it names (and holds from a boundary on), so the earliest
instant a rule allows from ``t`` on is ``t`` itself or one of its boundaries after ``t``: ``next_allowed``
finds it. A kind may answer that directly from its own arithmetic (quiet hours, frequency, lockout); the
engine iterates the rules' answers to a fixed point (see ``engine.next_allowed``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.domain import localtime
from chalicelib.domain.model import (
    Channel,
    ContactRecord,
    ContactRequest,
    Purpose,
)
from chalicelib.domain.preferences import Preferences


@dataclass(frozen=True)
class Context:
    """What a rule may look at: the request, where the person may be, their recent history."""

    request: ContactRequest
    zones: tuple[ZoneInfo, ...]
    history: tuple[ContactRecord, ...]
    country: str | None = None  # the pack's holiday calendar
    subdivision: str | None = None
    preferences: Preferences = Preferences()
    memo: dict[object, object] = field(default_factory=dict, compare=False, hash=False)


class BaseRule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    id: str = Field(pattern=r"^[a-z0-9-]+/[a-z0-9-]+$")
    citation: str = Field(min_length=1)
    message: str = Field(min_length=1)
    confidence: Literal["high", "medium", "low", "unverified"] = "high"
    enabled: bool = True
    note: str | None = None
    channels: tuple[Channel, ...] = tuple(Channel)
    purposes: tuple[Purpose, ...] | None = None  # None: every purpose
    min_days_past_due: int | None = None
    max_days_past_due: int | None = None
    permanent: bool = False  # no waiting can satisfy it: deny instead of defer

    @property
    def is_permanent(self) -> bool:
        return self.permanent

    @property
    def timeless(self) -> bool:
        """Whether the verdict is the same at every instant (a kind that names no boundaries)."""
        return False

    def applies(self, request: ContactRequest) -> bool:
        dpd = request.days_past_due
        return (
            self.enabled
            and request.channel in self.channels
            and (self.purposes is None or request.purpose in self.purposes)
            # Days past due unknown: the rule applies (a restriction must not lapse for want of data).
            and (self.min_days_past_due is None or dpd is None or dpd >= self.min_days_past_due)
            and (self.max_days_past_due is None or dpd is None or dpd <= self.max_days_past_due)
        )

    def violation(self, ctx: Context, at: datetime) -> str | None:
        raise NotImplementedError

    def boundaries(self, ctx: Context, start: datetime, end: datetime) -> Iterable[datetime]:
        return midnights(ctx.zones, start, end)

    def inputs(self, ctx: Context, at: datetime) -> dict[str, object]:
        return {}

    def next_allowed(self, ctx: Context, at: datetime, limit: datetime) -> datetime | None:
        """The earliest instant from ``at`` on (``at`` included, ``limit`` at most) this rule allows; None if
        none. This one scans the rule's own boundaries a day at a time: right for any kind."""
        if self.violation(ctx, at) is None:
            return at
        start = at
        while start < limit:
            stop = min(start + timedelta(days=1), limit)
            for instant in sorted({b for b in self.boundaries(ctx, start, stop) if start < b <= stop}):
                if self.violation(ctx, instant) is None:
                    return instant
            start = stop
        return None


def midnights(zones: Iterable[ZoneInfo], start: datetime, end: datetime) -> Iterator[datetime]:
    for zone in zones:
        for day in localtime.days_between(start, end, zone):
            yield localtime.instant(day + timedelta(days=1), time(0), zone)


def in_every_zone(
    zones: Iterable[ZoneInfo], at: datetime, limit: datetime, next_in: Callable[[ZoneInfo, datetime], datetime | None]
) -> datetime | None:
    """The earliest instant from ``at`` on that every zone allows, given each zone's own answer ``next_in``
    (the earliest it allows from an instant on): each answer moves the instant on until none does."""
    zones = tuple(zones)
    if len(zones) == 1:  # its own answer is the earliest: asking again at it would return it
        found = next_in(zones[0], at)
        return None if found is None or found > limit else found
    while True:
        moved = False
        for zone in zones:
            found = next_in(zone, at)
            if found is None or found > limit:
                return None
            if found != at:
                at, moved = found, True
        if not moved:
            return at
