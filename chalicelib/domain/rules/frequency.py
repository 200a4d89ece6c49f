"""The frequency rule kind: at most N counted contacts in a window of local days."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import Field

from chalicelib.domain import localtime
from chalicelib.domain.model import ContactRecord
from chalicelib.domain.rules.base import Context
from chalicelib.domain.rules.counted import CountedRule, unresolved_note


class FrequencyRule(CountedRule):
    """At most ``limit`` counted events in any window of local calendar days holding the contact."""

    kind: Literal["frequency"]
    limit: int = Field(ge=0)
    consent_exempts: bool = False  # calls with the person's direct prior consent neither count nor are capped
    period: Literal["rolling_days", "calendar_day", "calendar_week", "calendar_month"]
    days: int = Field(default=1, ge=1, le=366)

    def _windows(self, day: date) -> list[tuple[date, date]]:
        if self.period == "rolling_days":
            return [(day - timedelta(days=o), day - timedelta(days=o - self.days + 1)) for o in range(self.days)]
        if self.period == "calendar_week":
            monday = day - timedelta(days=day.weekday())
            return [(monday, monday + timedelta(days=6))]
        if self.period == "calendar_month":
            first = day.replace(day=1)
            return [(first, (first + timedelta(days=32)).replace(day=1) - timedelta(days=1))]
        return [(day, day)]

    def _worst(self, ctx: Context, zone: ZoneInfo, at: datetime) -> list[ContactRecord]:
        """The counted records of the fullest window that holds ``at``."""
        dated = self.dated(ctx, zone)
        day = localtime.local_date(at, zone)
        return max(([r for d, r in dated if lo <= d <= hi] for lo, hi in self._windows(day)), key=len)

    def _consented(self, ctx: Context, at: datetime) -> bool:
        return self.consent_exempts and any(c.active(ctx.request, at) for c in ctx.preferences.consents)

    def counted(self, ctx: Context, record: ContactRecord) -> bool:
        return super().counted(ctx, record) and not self._consented(ctx, record.at)

    def violation(self, ctx: Context, at: datetime) -> str | None:
        if self._consented(ctx, at):
            return None
        for zone in ctx.zones:
            records = self._worst(ctx, zone, at)
            if len(records) >= self.limit:
                note = unresolved_note(records)
                return f"{len(records)} counted in the window (limit {self.limit}) in {zone.key}{note}"
        return None

    def inputs(self, ctx: Context, at: datetime) -> dict[str, object]:
        return {z.key: len(self._worst(ctx, z, at)) for z in ctx.zones}

    def boundaries(self, ctx: Context, start: datetime, end: datetime) -> Iterable[datetime]:
        yield from super().boundaries(ctx, start, end)
        if self.consent_exempts:
            for consent in ctx.preferences.consents:
                yield from (consent.start, consent.until)
