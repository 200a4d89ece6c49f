"""Builds chalicelib/domain/postal_zones.json: the subdivision and time zones of a postal code.

US ZIP codes come from the ``zipcodes`` package (one zone per ZIP, as its data ships it; a test checks
every entry against it). Canada and Australia have no such package here: their rules below are the
places where a province or state spans clocks, by forward sortation area (FSA) and postcode, from the
provinces' and states' time laws as tzdata's zone.tab describes them. Where a code covers places on two
clocks, it gets both (fail closed). Indonesia's codes by island group. Every other pack's country has one
zone (China's pack keeps Beijing time), so its postal codes say nothing of time.

    python -m tools.data.postal_zones   # after upgrading zipcodes or editing the rules below
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.domain.postal import ABSENT, ALPHABET
from tools import ROOT

DOMAIN = ROOT / "chalicelib" / "domain"
TABLE = DOMAIN / "postal_zones.json"
# Small, read by every address with a subdivision: the big table is read only for a postal code.
EXTRA = DOMAIN / "postal_subdivision_zones.json"

_TOR, _WPG = "America/Toronto", "America/Winnipeg"
# FSA (or its first letter) -> province and zones; the longest listed prefix of an FSA applies.
# Ontario west of 90°W (Kenora and Rainy River districts) keeps Central time; Atikokan (P0T) keeps
# Eastern Standard all year; Thunder Bay's rural P0T and the far north's P0V mix both clocks.
# Quebec: Blanc-Sablon's Lower North Shore (G0G) keeps Atlantic Standard; the Magdalen Islands (G4T) keep
# Atlantic time. BC: the East Kootenays (V0A, V0B, V1A, V1C) keep Mountain time, Creston and the Peace
# River (V0C, V1G, V1J) Mountain Standard all year. Labrador (A0P, A0R, A2V) keeps Atlantic time, its south
# coast (A0K, shared with Newfoundland's Northern Peninsula) Newfoundland time. Saskatchewan's Lloydminster
# (S9V) keeps Alberta's time, Creighton (S0P) Central with DST. Nunavut: Baffin (X0A, with Resolute on
# Central), Kivalliq (X0C, with Coral Harbour on Eastern Standard), Kitikmeot (X0B).
CA_RULES: dict[str, tuple[str, tuple[str, ...]]] = {
    "A": ("NL", ("America/St_Johns",)),
    "A0K": ("NL", ("America/St_Johns", "America/Goose_Bay")),
    "A0P": ("NL", ("America/Goose_Bay", "America/St_Johns")),
    "A0R": ("NL", ("America/Goose_Bay", "America/St_Johns")),
    "A2V": ("NL", ("America/Goose_Bay",)),
    "B": ("NS", ("America/Halifax",)),
    "C": ("PE", ("America/Halifax",)),
    "E": ("NB", ("America/Moncton",)),
    "G": ("QC", (_TOR,)),
    "G0G": ("QC", (_TOR, "America/Blanc-Sablon")),
    "G4T": ("QC", ("America/Halifax",)),
    "H": ("QC", (_TOR,)),
    "J": ("QC", (_TOR,)),
    "K": ("ON", (_TOR,)),
    "L": ("ON", (_TOR,)),
    "M": ("ON", (_TOR,)),
    "N": ("ON", (_TOR,)),
    "P": ("ON", (_TOR,)),
    "P0T": ("ON", (_TOR, _WPG, "America/Atikokan")),
    "P0V": ("ON", (_WPG, _TOR)),
    "P0W": ("ON", (_WPG,)),
    "P0X": ("ON", (_WPG,)),
    "P8N": ("ON", (_WPG,)),
    "P8T": ("ON", (_WPG,)),
    "P9A": ("ON", (_WPG,)),
    "P9N": ("ON", (_WPG,)),
    "R": ("MB", (_WPG,)),
    "S": ("SK", ("America/Regina",)),
    "S0P": ("SK", ("America/Regina", _WPG)),
    "S9V": ("SK", ("America/Edmonton",)),
    "T": ("AB", ("America/Edmonton",)),
    "V": ("BC", ("America/Vancouver",)),
    "V0A": ("BC", ("America/Vancouver", "America/Edmonton")),
    "V0B": ("BC", ("America/Vancouver", "America/Edmonton", "America/Creston")),
    "V0C": ("BC", ("America/Vancouver", "America/Dawson_Creek", "America/Fort_Nelson")),
    "V1A": ("BC", ("America/Edmonton",)),
    "V1C": ("BC", ("America/Edmonton",)),
    "V1G": ("BC", ("America/Dawson_Creek",)),
    "V1J": ("BC", ("America/Dawson_Creek",)),
    "X0A": ("NU", ("America/Iqaluit", "America/Resolute")),
    "X0B": ("NU", ("America/Cambridge_Bay",)),
    "X0C": ("NU", ("America/Rankin_Inlet", "America/Atikokan")),
    "X0E": ("NT", ("America/Yellowknife",)),
    "X0G": ("NT", ("America/Yellowknife",)),
    "X1A": ("NT", ("America/Yellowknife",)),
    "Y": ("YT", ("America/Whitehorse",)),
}
# Australia Post's postcode ranges per state (first, last, state, zones); the narrowest range that holds a
# postcode applies. Broken Hill's 2880 also holds places outside Yancowinna County (the only NSW land on
# South Australia's time), so both clocks; Lord Howe Island (2898) keeps its own. Norfolk (2899), Christmas
# (6798) and Cocos (6799) Islands are external territories on their own clocks. Eucla's 6443 (WA) and
# Border Village's 5690 (SA) keep Central Western time by custom, beside their state's legal time.
_SYD = ("Australia/Sydney",)
AU_RANGES: tuple[tuple[int, int, str, tuple[str, ...]], ...] = (
    (200, 299, "ACT", _SYD),
    (800, 999, "NT", ("Australia/Darwin",)),
    (1000, 2999, "NSW", _SYD),
    (2600, 2618, "ACT", _SYD),
    (2900, 2920, "ACT", _SYD),
    (2880, 2880, "NSW", ("Australia/Broken_Hill", "Australia/Sydney")),
    (2898, 2898, "NSW", ("Australia/Lord_Howe",)),
    (2899, 2899, "", ("Pacific/Norfolk",)),
    (3000, 3999, "VIC", ("Australia/Melbourne",)),
    (8000, 8999, "VIC", ("Australia/Melbourne",)),
    (4000, 4999, "QLD", ("Australia/Brisbane",)),
    (9000, 9999, "QLD", ("Australia/Brisbane",)),
    (5000, 5999, "SA", ("Australia/Adelaide",)),
    (5690, 5690, "SA", ("Australia/Adelaide", "Australia/Eucla")),
    (6000, 6999, "WA", ("Australia/Perth",)),
    (6443, 6443, "WA", ("Australia/Perth", "Australia/Eucla")),
    (6798, 6798, "", ("Indian/Christmas",)),
    (6799, 6799, "", ("Indian/Cocos",)),
    (7000, 7999, "TAS", ("Australia/Hobart",)),
)
# Indonesia's five-digit codes by island group (no province: the gateway lists none for Indonesia). Java
# and Sumatra (1-6) keep Western time, Bali, Nusa Tenggara (8) and Sulawesi (90-96) Central, Maluku and
# Papua (97-99) Eastern; Kalimantan (7) has provinces on Western and Central time, so both.
_WIB, _WITA, _WIT = "Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"
ID_RANGES: tuple[tuple[int, int, str, tuple[str, ...]], ...] = (
    (10000, 69999, "", (_WIB,)),
    (70000, 79999, "", (_WIB, _WITA)),
    (80000, 89999, "", (_WITA,)),
    (90000, 96999, "", (_WITA,)),
    (97000, 99999, "", (_WIT,)),
)


# ZIPs where a second source (GeoNames, through ``make bench ONLY=window``) names another clock than
# ``zipcodes``: both count until one is shown wrong. Phenix City, Smiths Station, Lanett and Valley keep
# Eastern time by custom (the Columbus, GA area), Alabama's law Central: all of Russell and Chambers
# counties. GeoNames puts Vincennes, IN on Central (Knox County went back to Eastern in 2007).
REVIEWED_COUNTIES = {("AL", "Russell County"): "America/New_York", ("AL", "Chambers County"): "America/New_York"}
REVIEWED_ZIPS = {"36877": "America/New_York", "47591": "America/Chicago"}


def reviewed_zone(row: dict[str, Any]) -> str | None:
    """The zone a second source adds to a ``zipcodes`` row, if any."""
    return REVIEWED_ZIPS.get(row["zip_code"]) or REVIEWED_COUNTIES.get((row["state"], row["county"]))


def zip_places() -> dict[str, tuple[str, tuple[str, ...]]]:
    """ZIP -> (state, zones) for every ZIP whose zone ``zipcodes`` gives as an IANA name tzdata ships:
    its zone first, then any a reviewed second source adds."""
    import zipcodes

    from chalicelib.domain.zones import is_known_zone

    return {
        row["zip_code"]: (row["state"], (row["timezone"], *filter(None, [reviewed_zone(row)])))
        for row in zipcodes.list_all()
        if row["timezone"] and is_known_zone(row["timezone"])
    }


def _instants() -> Iterator[datetime]:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for hours in range(0, 5 * 366 * 24, 6):
        yield start + timedelta(hours=hours)


def between_clocks(zone: str, others: tuple[str, ...]) -> bool:
    """Whether a zone's clock is never ahead of all the others' nor behind all of them: a window that holds
    in every one of the others then holds in it too (Creston, on Mountain Standard all year, is between
    Vancouver and Edmonton)."""
    if not others:
        return False
    this, rest = ZoneInfo(zone), [ZoneInfo(other) for other in others]
    for at in _instants():
        offsets = [_offset(at, other) for other in rest]
        if not min(offsets) <= _offset(at, this) <= max(offsets):
            return False
    return True


def _offset(at: datetime, zone: ZoneInfo) -> timedelta:
    return at.astimezone(zone).utcoffset() or timedelta(0)


def _extra_zones(subdivision_zones: tuple[str, ...], zones: set[str]) -> list[str]:
    """The zones of a subdivision's postal codes whose clock its listed zones do not already bound."""
    extra: list[str] = []
    for zone in sorted(zones):
        if not between_clocks(zone, (*subdivision_zones, *extra)):
            extra.append(zone)
    return extra


def build() -> tuple[dict[str, Any], dict[str, dict[str, list[str]]]]:
    """The postal table; per subdivision, the zones its postal codes name beyond its listed ones
    (``names``: a finer field naming one agrees with it), and those on a clock they do not bound (``adds``:
    the subdivision alone counts them too)."""
    from chalicelib.domain.zones import subdivision_zones

    places: list[tuple[str, tuple[str, ...]]] = []

    def index(country: str, state: str, zones: tuple[str, ...]) -> int:
        key = (f"{country}-{state}" if state else "", zones)
        if key not in places:
            places.append(key)
        return places.index(key)

    blocks: dict[str, tuple[list[int], list[str]]] = {}
    for code, (state, zip_zones) in sorted(zip_places().items()):
        palette, block = blocks.setdefault(code[:3], ([], [ABSENT] * 100))
        place = index("US", state, zip_zones)
        if place not in palette:
            palette.append(place)
        block[int(code[3:])] = ALPHABET[palette.index(place)]
    ca = {prefix: index("CA", state, zones) for prefix, (state, zones) in CA_RULES.items()}
    au = [[lo, hi, index("AU", state, zones)] for lo, hi, state, zones in AU_RANGES]
    id_ = [[lo, hi, index("ID", state, zones)] for lo, hi, state, zones in ID_RANGES]
    by_subdivision: dict[str, set[str]] = {}
    for subdivision, zones in places:
        by_subdivision.setdefault(subdivision, set()).update(zones)
    extra = {
        s: {"adds": _extra_zones(subdivision_zones(s), z), "names": sorted(z - set(subdivision_zones(s)))}
        for s, z in sorted(by_subdivision.items())
        if s and z - set(subdivision_zones(s))
    }
    return {
        "places": [[subdivision, list(zones)] for subdivision, zones in places],
        "US": {prefix: [palette, "".join(block)] for prefix, (palette, block) in blocks.items()},
        "CA": ca,
        "AU": au,
        "ID": id_,
    }, extra


def main() -> None:
    table, extra = build()
    TABLE.write_text(json.dumps(table, separators=(",", ":"), sort_keys=True) + "\n")
    EXTRA.write_text(json.dumps(extra, separators=(",", ":"), sort_keys=True) + "\n")
    print(f"{TABLE.name}: {len(table['places'])} places, {len(table['US'])} ZIP blocks, {TABLE.stat().st_size} bytes")
    print(f"{EXTRA.name}: zones added to subdivisions:", json.dumps({s: e["adds"] for s, e in extra.items()}))


if __name__ == "__main__":
    main()
