"""The quiet-hours rule kind: contact only inside allowed local windows, in every candidate zone."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from functools import cached_property, lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import field_validator

from chalicelib.domain import localtime
from chalicelib.domain.rules.base import BaseRule, Context, in_every_zone, midnights

_WINDOW = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-(([01]\d|2[0-3]):[0-5]\d|24:00)$")


class QuietHoursRule(BaseRule):
    """Contact only inside the allowed local windows of each day type, in every candidate zone."""

    kind: Literal["quiet_hours"]
    allowed: dict[Literal["default", "weekday", "saturday", "sunday", "holiday"], tuple[str, ...]]

    @field_validator("allowed")
    @classmethod
    def _windows_well_formed(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        for windows in value.values():
            for window in windows:
                if not _WINDOW.fullmatch(window) or window[:5] >= window[6:]:
                    raise ValueError(f"window {window!r} is not HH:MM-HH:MM with start < end")
        if "default" not in value and len(value) < 4:
            raise ValueError("give 'default' or all of weekday, saturday, sunday, holiday")
        return value

    @cached_property
    def _clocks(self) -> dict[str, tuple[tuple[time, time], ...]]:
        """The windows of each day type as wall-clock times, parsed once."""
        return {
            str(kind): tuple((localtime.parse_clock(w[:5]), localtime.parse_clock(w[6:])) for w in texts)
            for kind, texts in self.allowed.items()
        }

    def _windows(self, ctx: Context, day: date) -> tuple[tuple[time, time], ...]:
        kind = localtime.day_type(day, ctx.country, ctx.subdivision)
        clocks = self._clocks
        return clocks.get(kind, clocks.get("default", ()))

    def windows_on(self, ctx: Context, day: date) -> tuple[tuple[time, time], ...]:
        """The allowed local windows of ``day`` (its day type's): what a person's standing shows."""
        return self._windows(ctx, day)

    def violation(self, ctx: Context, at: datetime) -> str | None:
        for zone in ctx.zones:
            local = at.astimezone(zone)
            clock = local.time().replace(tzinfo=None)
            if not any(s <= clock < e for s, e in self._windows(ctx, local.date())):
                return f"{local:%H:%M} on {local:%a %Y-%m-%d} in {zone.key} is outside the allowed hours"
        return None

    def boundaries(self, ctx: Context, start: datetime, end: datetime) -> Iterable[datetime]:
        yield from midnights(ctx.zones, start, end)
        for zone in ctx.zones:
            for day in localtime.days_between(start, end, zone):
                for begin, finish in self._windows(ctx, day):
                    yield localtime.instant(day, begin, zone)
                    if finish != time.max:
                        yield localtime.instant(day, finish, zone)

    def next_allowed(self, ctx: Context, at: datetime, limit: datetime) -> datetime | None:
        """The first instant from ``at`` on inside an allowed window of its local day, in every zone."""

        def next_in(zone: ZoneInfo, at: datetime) -> datetime | None:
            day = localtime.local_date(at, zone)
            while localtime.day_start(day, zone) <= limit:
                for begin, end in _intervals(self._windows(ctx, day), day, zone):
                    if end > at:
                        return max(begin, at)
                day += timedelta(days=1)
            return None

        return in_every_zone(ctx.zones, at, limit, next_in)

    def inputs(self, ctx: Context, at: datetime) -> dict[str, object]:
        return {z.key: at.astimezone(z).isoformat(timespec="minutes") for z in ctx.zones}


@lru_cache(maxsize=1 << 16)
def _intervals(
    windows: tuple[tuple[time, time], ...], day: date, zone: ZoneInfo
) -> tuple[tuple[datetime, datetime], ...]:
    """The allowed windows of one local day as instants: each holds from its start until before its end (a
    window to 24:00 ends as the next day begins)."""
    found = []
    for begin, finish in windows:
        end = localtime.day_start(day + timedelta(days=1), zone) if finish == time.max else None
        found.append((localtime.instant(day, begin, zone), end or localtime.instant(day, finish, zone)))
    return tuple(found)
