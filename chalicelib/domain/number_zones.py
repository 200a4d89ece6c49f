"""Every time zone a phone number's prefix may be in, from the tables tools/data/number_zones.py builds.

phonenumbers names one zone for an area code that spans two (850: Tallahassee Eastern, Pensacola Central).
The tables name every zone of every place a prefix serves, one file per calling code so that a +1 lookup
reads only the +1 table (84 KB), and never phonenumbers' geocoder.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

_CODES = ("1", "61", "62", "86")


@cache
def _table(code: str) -> tuple[int, dict[str, tuple[str, ...]], frozenset[str]]:
    raw = json.loads(resources.files("chalicelib.domain").joinpath(f"number_zones_{code}.json").read_text())
    sets = [tuple(zones) for zones in raw["zone_sets"]]
    prefixes = {prefix: sets[n] for prefix, n in raw["prefixes"].items()}
    return int(raw["longest"]), prefixes, frozenset(raw["countries"])


def covers(calling_code: int, country: str | None) -> bool:
    """Whether the tables list every geographic prefix of the country (US, CA, AU, ID, CN)."""
    code = str(calling_code)
    return code in _CODES and country in _table(code)[2]


def prefix_zones(e164: str) -> tuple[str, ...] | None:
    """The zones of the longest listed prefix of ``e164`` ("+18505550123"); None where none is listed."""
    digits = e164.removeprefix("+")
    code = next((c for c in _CODES if digits.startswith(c)), None)
    if code is None:
        return None
    longest, prefixes, _countries = _table(code)
    for length in range(min(longest, len(digits)), len(code) - 1, -1):
        if digits[:length] in prefixes:
            return prefixes[digits[:length]]
    return None
