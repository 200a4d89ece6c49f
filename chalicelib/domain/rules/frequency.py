"""The frequency rule kind: at most N counted contacts in a window of local days."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from operator import itemgetter
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import Field

from chalicelib.domain import localtime
from chalicelib.domain.model import ContactRecord
from chalicelib.domain.rules.base import Context, in_every_zone
from chalicelib.domain.rules.counted import CountedRule, unresolved_note

_SECOND = itemgetter(1)


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

    def _spans(self, day: date) -> list[tuple[int, int]]:
        """``_windows`` as date ordinals, in the same order."""
        if self.period == "rolling_days":
            last = day.toordinal() + self.days - 1
            return [(last - self.days + 1 - o, last - o) for o in range(self.days)]
        if self.period == "calendar_day":
            return [(day.toordinal(), day.toordinal())]
        return [(lo.toordinal(), hi.toordinal()) for lo, hi in self._windows(day)]

    def _fullest(self, ordinals: list[int], day: date) -> tuple[int, int]:
        """The slice of the date-ordered counted records in the first fullest window that holds ``day``."""
        if not ordinals:
            return (0, 0)
        best: tuple[int, int] | None = None
        for lo, hi in self._spans(day):
            found = (bisect_left(ordinals, lo), bisect_right(ordinals, hi))
            if best is None or found[1] - found[0] > best[1] - best[0]:
                best = found
        return best or (0, 0)

    def _worst(self, ctx: Context, zone: ZoneInfo, at: datetime) -> list[ContactRecord]:
        """The counted records of the fullest window that holds ``at`` (once per local day and evaluation)."""
        day = localtime.local_date(at, zone)
        counted = self.in_zone(ctx, zone)
        key = (self.period, self.days, day)
        found = counted.found.get(key)
        if found is None:  # shared by the rules counting the same records in the same windows
            first, last = self._fullest(counted.ordinals, day)
            found = counted.found[key] = list(map(_SECOND, counted.dated[first:last]))
        return found  # type: ignore[return-value]

    def next_allowed(self, ctx: Context, at: datetime, limit: datetime) -> datetime | None:
        """The first local day from ``at``'s on whose fullest window is under the limit, in every zone."""
        if self.consent_exempts and ctx.preferences.consents:
            return super().next_allowed(ctx, at, limit)  # a consent's edges fall inside days: scan them

        def next_in(zone: ZoneInfo, at: datetime) -> datetime | None:
            today = localtime.local_date(at, zone)
            day = self._first_open_day(ctx, zone, today.toordinal())
            if day is None:
                return None
            return at if day == today.toordinal() else localtime.day_start(date.fromordinal(day), zone)

        return in_every_zone(ctx.zones, at, limit, next_in)

    def _first_open_day(self, ctx: Context, zone: ZoneInfo, day: int) -> int | None:
        """The first local day (an ordinal) from ``day`` on whose fullest window is under the limit; None with
        a limit of 0. Past the last counted day and a window's length every window is empty."""
        if not self.limit:
            return None
        if self.period in ("rolling_days", "calendar_day"):
            starts, ends = self._full_days(ctx, zone)
            found = bisect_right(starts, day) - 1
            return ends[found] + 1 if found >= 0 and day <= ends[found] else day
        ordinals = self.by_date(ctx, zone)[0]
        while self._count(ordinals, day) >= self.limit:
            day += 1
        return day

    def _count(self, ordinals: list[int], day: int) -> int:
        first, end = self._fullest(ordinals, date.fromordinal(day))
        return end - first

    def _full_days(self, ctx: Context, zone: ZoneInfo) -> tuple[list[int], list[int]]:
        """The days some window of ``days`` consecutive days holding them has ``limit`` records, as runs of
        days (their first and last days, ordinals, in order; runs that touch are one): ``limit``
        consecutive records within ``days`` days fill every such window that holds them all, and each day
        of those windows is full."""
        counted = self.in_zone(ctx, zone)
        key = ("full", self.limit, self.period, self.days)
        found = counted.found.get(key)
        if found is None:
            ordinals, span = counted.ordinals, self.days if self.period == "rolling_days" else 1
            starts: list[int] = []
            ends: list[int] = []
            for i in range(len(ordinals) - self.limit + 1):
                oldest, newest = ordinals[i], ordinals[i + self.limit - 1]
                if newest - oldest >= span:
                    continue
                first, last = newest - span + 1, oldest + span - 1  # both grow with i: the runs come in order
                if ends and first <= ends[-1] + 1:
                    ends[-1] = last if last > ends[-1] else ends[-1]
                else:
                    starts.append(first)
                    ends.append(last)
            found = counted.found[key] = (starts, ends)
        return found  # type: ignore[return-value]

    def _consented(self, ctx: Context, at: datetime) -> bool:
        return self.consent_exempts and any(c.active(ctx.request, at) for c in ctx.preferences.consents)

    def counted(self, ctx: Context, record: ContactRecord) -> bool:
        return super().counted(ctx, record) and not self._consented(ctx, record.at)

    def _named(self, ctx: Context, counted: tuple[bool, ...]) -> tuple[object, ...]:
        found = super()._named(ctx, counted)
        return (*found, self.id) if self.consent_exempts and ctx.preferences.consents else found  # its own

    def _select(self, ctx: Context, counted: tuple[bool, ...]) -> list[ContactRecord]:
        found = super()._select(ctx, counted)
        if self.consent_exempts and ctx.preferences.consents:
            found = [r for r in found if not self._consented(ctx, r.at)]
        return found

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
