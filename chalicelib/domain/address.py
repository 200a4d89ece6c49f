"""The address is one location: its zones come from its most specific field, the coarser ones only check.

Fields from finest to coarsest: ``timezone``, ``postal_code``, ``subdivision``, ``country``. A field that
agrees with a finer one (the finer one's zones are among its own, and both name the same subdivision)
adds nothing. A field that agrees with none is a location of its own: the person may be at either, so
both count and every window must hold in both (Reg F comment 6(b)(1)(i)-2). The looser field is never
trusted over the finer one, nor the finer one over a field it contradicts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from chalicelib.domain import postal
from chalicelib.domain.model import Location


@dataclass(frozen=True)
class Field:
    name: str  # "location.postal_code"
    value: str
    zones: tuple[str, ...]
    checks: frozenset[str]  # the zones a finer field may name and agree with this one
    subdivision: str | None = None  # "CA-ON": the subdivision this field places the address in


@dataclass(frozen=True)
class Address:
    locations: tuple[tuple[Field, ...], ...]  # each: its most specific field first, then those it agrees with
    notes: tuple[str, ...] = ()  # contradictions and fallbacks, for the decision's inputs and reasons
    sources: dict[str, list[str]] = field(default_factory=dict)  # zone -> the fields that name it

    @property
    def known(self) -> bool:
        return bool(self.locations)

    def as_inputs(self) -> dict[str, object]:
        return {
            "locations": [[f"{f.name}={f.value}" for f in location] for location in self.locations],
            "notes": list(self.notes),
        }


def _agrees(finer: Field, coarser: Field) -> bool:
    same_place = finer.subdivision is None or coarser.subdivision is None or finer.subdivision == coarser.subdivision
    return same_place and set(finer.zones) <= coarser.checks


def _subdivision_field(loc: Location, listed: tuple[str, ...]) -> Field | None:
    code = f"{loc.country}-{loc.subdivision}"
    zones = tuple(dict.fromkeys([*listed, *postal.extra_zones(code)]))
    checks = frozenset(zones) | frozenset(postal.named_zones(code))
    return Field("location.subdivision", code, zones, checks, code) if zones else None


def _postal_field(loc: Location, notes: list[str]) -> Field | None:
    code, country = loc.postal_code or "", loc.country or ""
    if not code:
        return None
    place = postal.lookup(country, code) if country and postal.has_table(country) else None
    if place is None:
        why = "no country" if not country else "unknown or malformed" if postal.has_table(country) else "no table"
        notes.append(f"location.postal_code {code!r} not used ({why}): the coarser fields decide")
        return None
    return Field("location.postal_code", code, place.zones, frozenset(place.zones), place.subdivision)


def fields(
    loc: Location, subdivision_zones: tuple[str, ...], country_zones: tuple[str, ...], notes: list[str]
) -> list[Field]:
    """The address's fields that name zones, finest first; a postal code that cannot be used goes to notes."""
    found = [_postal_field(loc, notes)]
    if loc.timezone:
        found.insert(0, Field("location.timezone", loc.timezone, (loc.timezone,), frozenset((loc.timezone,))))
    if loc.country and loc.subdivision:
        found.append(_subdivision_field(loc, subdivision_zones))
    if loc.country and country_zones:
        checks = frozenset(country_zones) | postal.country_named_zones(loc.country)
        found.append(Field("location.country", loc.country, country_zones, checks))
    return [f for f in found if f is not None]


def locate(loc: Location, subdivision_zones: tuple[str, ...], country_zones: tuple[str, ...]) -> Address:
    """Group the fields into locations: each field joins every location whose finest field it agrees with.

    ``subdivision_zones`` and ``country_zones``: the listed zones of the location's subdivision and country."""
    notes: list[str] = []
    locations: list[list[Field]] = []
    for each in fields(loc, subdivision_zones, country_zones, notes):
        agreeing = [location for location in locations if _agrees(location[0], each)]
        for location in agreeing:
            location.append(each)
        if not agreeing:
            if locations:
                heads = ", ".join(f"{other[0].name}={other[0].value}" for other in locations)
                notes.append(f"{each.name}={each.value} contradicts {heads}: both are locations, both count")
            locations.append([each])
    sources: dict[str, list[str]] = {}
    for location in locations:
        for zone in location[0].zones:
            sources.setdefault(zone, []).append(location[0].name)
    return Address(
        locations=tuple(tuple(location) for location in locations),
        notes=tuple(notes),
        sources=sources,
    )
