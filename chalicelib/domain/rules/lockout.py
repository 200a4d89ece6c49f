"""The lockout rule kind: after a counted event, nothing for a number of local days."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import Field

from chalicelib.domain import localtime
from chalicelib.domain.model import ContactRecord, Direction
from chalicelib.domain.rules.base import Context, in_every_zone
from chalicelib.domain.rules.counted import CountedRule, unresolved_detail


class LockoutRule(CountedRule):
    """After a counted event, nothing for ``days`` local calendar days, the event's day being day 1."""

    kind: Literal["lockout"]
    days: int = Field(ge=1, le=366)
    directions: tuple[Direction, ...] = (Direction.OUTBOUND, Direction.INBOUND)

    def _last(self, ctx: Context, zone: ZoneInfo, at: datetime) -> tuple[date, ContactRecord] | None:
        """The latest counted event up to ``at``'s day; on one day, a known result before a pending one."""
        counted = self.in_zone(ctx, zone)
        end = bisect_right(counted.ordinals, localtime.local_date(at, zone).toordinal())
        if not end:
            return None
        start = bisect_left(counted.ordinals, counted.ordinals[end - 1])  # that day's events, in history order
        day = counted.dated[start:end]
        return next((pair for pair in day if not pair[1].unresolved), day[0])

    def violation(self, ctx: Context, at: datetime) -> str | None:
        for zone in ctx.zones:
            found = self._last(ctx, zone, at)
            if found is not None and (localtime.local_date(at, zone) - found[0]).days < self.days:
                last, record = found
                until = last + timedelta(days=self.days)
                pending = unresolved_detail(record, zone) if record.unresolved else ""
                return f"locked after {last.isoformat()} until {until.isoformat()} in {zone.key}{pending}"
        return None

    def next_allowed(self, ctx: Context, at: datetime, limit: datetime) -> datetime | None:
        """The first local day from ``at``'s on that is ``days`` or more after the latest event up to it."""

        def next_in(zone: ZoneInfo, at: datetime) -> datetime | None:
            ordinals = self.by_date(ctx, zone)[0]
            today = day = localtime.local_date(at, zone).toordinal()
            while (last := self.last_up_to(ordinals, day)) is not None and day - last < self.days:
                day = last + self.days
                if localtime.day_start(date.fromordinal(day), zone) > limit:
                    return None
            return at if day == today else localtime.day_start(date.fromordinal(day), zone)

        return in_every_zone(ctx.zones, at, limit, next_in)

    def inputs(self, ctx: Context, at: datetime) -> dict[str, object]:
        found = {z.key: self._last(ctx, z, at) for z in ctx.zones}
        return {zone: str(pair[0] if pair else None) for zone, pair in found.items()}
