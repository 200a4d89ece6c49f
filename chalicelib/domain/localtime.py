"""Local dates and instants in a zone, and the day types quiet-hours rules use."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays as holiday_calendars


def local_date(at: datetime, zone: ZoneInfo) -> date:
    return at.astimezone(zone).date()


def instant(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of a local wall-clock time; a time skipped by DST maps to the end of the gap."""
    local = datetime.combine(day, clock, tzinfo=zone)
    utc = local.astimezone(UTC)
    if utc.astimezone(zone).replace(tzinfo=None) == local.replace(tzinfo=None):
        return utc
    # Inside a spring-forward gap: the first real instant whose wall clock is at or past ``clock``.
    # fold=1 reads the wall time with the later offset, giving an instant before the gap.
    candidate = local.replace(fold=1).astimezone(UTC)
    while candidate.astimezone(zone).replace(tzinfo=None) < local.replace(tzinfo=None):
        candidate += timedelta(minutes=1)
    return candidate


def days_between(start: datetime, end: datetime, zone: ZoneInfo) -> Iterator[date]:
    """Every local date from the one holding ``start`` to the one holding ``end``."""
    day, last = local_date(start, zone), local_date(end, zone)
    while day <= last:
        yield day
        day += timedelta(days=1)


@cache
def _calendar(country: str, subdivision: str | None, year: int) -> holiday_calendars.HolidayBase:
    return holiday_calendars.country_holidays(country, subdiv=subdivision, years=year)


def is_public_holiday(day: date, country: str, subdivision: str | None = None) -> bool:
    return day in _calendar(country, subdivision, day.year)


def day_type(day: date, country: str | None, subdivision: str | None = None) -> str:
    """``holiday``, ``saturday``, ``sunday`` or ``weekday``: the keys of quiet-hours windows."""
    if country and is_public_holiday(day, country, subdivision):
        return "holiday"
    return {5: "saturday", 6: "sunday"}.get(day.weekday(), "weekday")


def parse_clock(text: str) -> time:
    if text == "24:00":
        return time.max
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))
