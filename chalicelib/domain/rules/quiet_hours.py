"""The quiet-hours rule kind: contact only inside allowed local windows, in every candidate zone."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, time
from typing import Literal

from pydantic import field_validator

from chalicelib.domain import localtime
from chalicelib.domain.rules.base import BaseRule, Context, midnights

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

    def _windows(self, ctx: Context, day: date) -> list[tuple[time, time]]:
        kind = localtime.day_type(day, ctx.country, ctx.subdivision)
        allowed: dict[str, tuple[str, ...]] = {str(k): v for k, v in self.allowed.items()}
        texts = allowed.get(kind, allowed.get("default", ()))
        return [(localtime.parse_clock(w[:5]), localtime.parse_clock(w[6:])) for w in texts]

    def windows_on(self, ctx: Context, day: date) -> list[tuple[time, time]]:
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

    def inputs(self, ctx: Context, at: datetime) -> dict[str, object]:
        return {z.key: at.astimezone(z).isoformat(timespec="minutes") for z in ctx.zones}
