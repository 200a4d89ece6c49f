"""What every rule kind shares: the context it judges and the base it extends.

Each kind judges one instant and names the instants where its verdict can change. A rule's verdict is
constant between two consecutive boundaries it names, so the engine finds the earliest allowed instant
by checking boundaries in order (see ``engine.next_allowed``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
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
    model_config = ConfigDict(frozen=True, extra="forbid")

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


def midnights(zones: Iterable[ZoneInfo], start: datetime, end: datetime) -> Iterator[datetime]:
    for zone in zones:
        for day in localtime.days_between(start, end, zone):
            yield localtime.instant(day + timedelta(days=1), time(0), zone)
