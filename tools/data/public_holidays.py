"""Builds chalicelib/domain/public_holidays.json: the public holidays of every calendar a pack in policies/
names (``holidays: {country, subdivision}``), for the years around now. The gateway reads this small table
instead of importing ``holidays``, whose country registry imports all of its 250 countries (a quarter of a
cold start) to answer ``is this date a holiday`` for one of them. A calendar or year not listed falls back
to the library (localtime.py).

    python -m tools.data.public_holidays   # after upgrading holidays or adding a pack; a unit test checks it
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from tools import ROOT

TABLE = ROOT / "chalicelib" / "domain" / "public_holidays.json"
FIRST_YEAR, LAST_YEAR = 2024, 2035  # the library covers some countries to 2035 only


def calendars() -> list[tuple[str, str | None]]:
    """Every (country, subdivision) a pack in policies/ reads its holidays from."""
    found = set()
    for path in sorted((ROOT / "policies").glob("*.yaml")):
        named = (yaml.safe_load(path.read_text("utf-8")) or {}).get("holidays") or {}
        if named.get("country"):
            found.add((str(named["country"]), named.get("subdivision")))
    return sorted(found, key=lambda pair: (pair[0], pair[1] or ""))


def key(country: str, subdivision: str | None) -> str:
    return f"{country}-{subdivision}" if subdivision else country


def days(country: str, subdivision: str | None, year: int) -> list[str]:
    """The dates of the library's calendar of one year that fall in that year (a holiday observed the year
    before belongs to the earlier year's lookups only if that year's calendar has it), as ``MMDD``."""
    import holidays

    calendar = holidays.country_holidays(country, subdiv=subdivision, years=year)
    return sorted(f"{d:%m%d}" for d in calendar if d.year == year)


def build() -> dict[str, Any]:
    import holidays

    years = range(FIRST_YEAR, LAST_YEAR + 1)
    return {
        "holidays": holidays.__version__,
        "calendars": {
            key(country, sub): {str(year): " ".join(days(country, sub, year)) for year in years}
            for country, sub in calendars()
        },
    }


def main() -> None:
    TABLE.write_text(json.dumps(build(), indent=0, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
