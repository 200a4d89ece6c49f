"""The subdivision and time zones of a postal code, from the table tools/data/postal_zones.py builds.

US ZIP codes (5 digits or ZIP+4), Canadian postal codes (by their forward sortation area), Australian
postcodes and Indonesian postal codes (by island group). The table (110 KB) is read on the first address
that carries a postal code, never at import; the zones a subdivision's postal codes add to it are a small
file of their own.
"""

from __future__ import annotations

import json
import re
import string
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

# A ZIP block (its first three digits) lists its places; each of its 100 ZIPs is one character, the index
# of its place in that list (no quote or backslash, so JSON keeps them as they are), or ABSENT.
ALPHABET = string.digits + string.ascii_letters + "!#$%&()*+,-/:;<=>?@[]^_{|}~"
ABSENT = "."
# Where a country's postal codes say nothing of time: it keeps one zone (its country field says it all).
_FORMATS = {
    "US": re.compile(r"(\d{5})(?:-?\d{4})?"),
    "CA": re.compile(r"([ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z])(?: ?\d[ABCEGHJ-NPRSTV-Z]\d)?"),
    "AU": re.compile(r"(\d{4})"),
    "ID": re.compile(r"(\d{5})"),
}


@dataclass(frozen=True)
class PostalPlace:
    subdivision: str | None  # "US-NY"; None for an external territory (Norfolk Island)
    zones: tuple[str, ...]


@cache
def _table() -> dict[str, Any]:
    return dict(json.loads(resources.files("chalicelib.domain").joinpath("postal_zones.json").read_text()))


def _place(index: int) -> PostalPlace:
    subdivision, zones = _table()["places"][index]
    return PostalPlace(subdivision=subdivision or None, zones=tuple(zones))


def _us(code: str) -> PostalPlace | None:
    block = _table()["US"].get(code[:3])
    if block is None:
        return None
    palette, marks = block
    mark = marks[int(code[3:])]
    return None if mark == ABSENT else _place(palette[ALPHABET.index(mark)])


def _ca(fsa: str) -> PostalPlace | None:
    rules: dict[str, int] = _table()["CA"]
    prefix = next((fsa[:n] for n in (3, 2, 1) if fsa[:n] in rules), None)
    return None if prefix is None else _place(rules[prefix])


def _ranges(country: str, code: str) -> PostalPlace | None:
    """The narrowest listed range of the country that holds the code."""
    number = int(code)
    ranges = [(hi - lo, place) for lo, hi, place in _table()[country] if lo <= number <= hi]
    return _place(min(ranges)[1]) if ranges else None


_LOOKUPS = {"US": _us, "CA": _ca, "AU": lambda code: _ranges("AU", code), "ID": lambda code: _ranges("ID", code)}


def has_table(country: str) -> bool:
    """Whether postal codes of the country are looked up (US, CA, AU, ID)."""
    return country in _LOOKUPS


def lookup(country: str, postal_code: str) -> PostalPlace | None:
    """The place of a postal code of the country; None if malformed or not in the table."""
    match = _FORMATS[country].fullmatch(postal_code.strip().upper()) if country in _FORMATS else None
    return _LOOKUPS[country](match.group(1)) if match else None


@cache
def _extra() -> dict[str, dict[str, tuple[str, ...]]]:
    raw = resources.files("chalicelib.domain").joinpath("postal_subdivision_zones.json").read_text()
    return {sub: {key: tuple(zones) for key, zones in kinds.items()} for sub, kinds in json.loads(raw).items()}


def extra_zones(subdivision: str) -> tuple[str, ...]:
    """Zones of the subdivision's postal codes whose clocks its listed zones do not bound (NSW: Lord Howe)."""
    return _extra().get(subdivision, {}).get("adds", ())


def named_zones(subdivision: str) -> tuple[str, ...]:
    """Every zone the subdivision's postal codes name beyond its listed ones (AK: Juneau, Nome, ...)."""
    return _extra().get(subdivision, {}).get("names", ())


def country_named_zones(country: str) -> frozenset[str]:
    """The zones the country's postal codes name beyond its subdivisions' listed ones (US: Puerto Rico's)."""
    return frozenset(z for sub, kinds in _extra().items() if sub.startswith(f"{country}-") for z in kinds["names"])
