"""Local dates and instants in a zone, and the day types quiet-hours rules use.

A zone's local calendar (a day's type, the instant a local wall-clock time falls on) is pure and is
computed once per process: the engine asks for the same few days of the same few zones again and again.
Public holidays come from public_holidays.json (``python -m tools.data.public_holidays``), the calendars the
packs name for the years around now; any other calendar or year from the ``holidays`` library, imported then
(it imports every country it knows: a quarter of a cold start).
"""

from __future__ import annotations

import json
from collections.abc import Container, Iterator
from datetime import UTC, date, datetime, time, timedelta
from functools import cache, lru_cache
from importlib import resources
from zoneinfo import ZoneInfo

_CALENDAR_DAYS = 1 << 16  # local days kept per process (a few hundred zones x a year, and more)


_DATES: dict[ZoneInfo, dict[datetime, date]] = {}  # per zone, an instant's local date


def local_date(at: datetime, zone: ZoneInfo) -> date:
    """Kept per process: a history's records are dated again by every decision that reads it, and a search
    asks for the dates of the same few instants (``now``, a day's start) rule after rule."""
    known = _DATES.get(zone)
    found = None if known is None else known.get(at)
    return found if found is not None else record_dates([at], zone)[0]


def record_dates(ats: list[datetime], zone: ZoneInfo) -> list[date]:
    """``local_date`` of each instant; those dated before are looked up without a Python step each."""
    known = _DATES.setdefault(zone, {})
    found: list[date | None] = list(map(known.get, ats))
    if None not in found:
        return found  # type: ignore[return-value]
    if len(known) >= _CALENDAR_DAYS:
        known.clear()
    for i, at in enumerate(ats):
        if found[i] is None:
            found[i] = known[at] = at.astimezone(zone).date()
    return found  # type: ignore[return-value]


@lru_cache(maxsize=_CALENDAR_DAYS)
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


def day_start(day: date, zone: ZoneInfo) -> datetime:
    """The instant local ``day`` begins in ``zone`` (its midnight, or the end of a DST gap at midnight)."""
    return instant(day, time(0), zone)


def days_between(start: datetime, end: datetime, zone: ZoneInfo) -> Iterator[date]:
    """Every local date from the one holding ``start`` to the one holding ``end``."""
    day, last = local_date(start, zone), local_date(end, zone)
    while day <= last:
        yield day
        day += timedelta(days=1)


@cache
def _listed() -> dict[str, dict[str, str]]:
    raw = json.loads(resources.files("chalicelib.domain").joinpath("public_holidays.json").read_text())
    return dict(raw["calendars"])


@cache
def _calendar(country: str, subdivision: str | None, year: int) -> Container[date]:
    listed = _listed().get(f"{country}-{subdivision}" if subdivision else country, {}).get(str(year))
    if listed is not None:
        return frozenset(date(year, int(day[:2]), int(day[2:])) for day in listed.split())
    import holidays as holiday_calendars  # a calendar the table lacks: the library, imported now

    return holiday_calendars.country_holidays(country, subdiv=subdivision, years=year)


def is_public_holiday(day: date, country: str, subdivision: str | None = None) -> bool:
    return day in _calendar(country, subdivision, day.year)


@lru_cache(maxsize=_CALENDAR_DAYS)
def day_type(day: date, country: str | None, subdivision: str | None = None) -> str:
    """``holiday``, ``saturday``, ``sunday`` or ``weekday``: the keys of quiet-hours windows."""
    if country and is_public_holiday(day, country, subdivision):
        return "holiday"
    return {5: "saturday", 6: "sunday"}.get(day.weekday(), "weekday")


@lru_cache(maxsize=256)
def parse_clock(text: str) -> time:
    if text == "24:00":
        return time.max
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))
