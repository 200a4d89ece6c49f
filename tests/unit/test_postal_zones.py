"""The postal table (chalicelib/domain/postal_zones.json) against the package it is built from, and its rules."""

from __future__ import annotations

import json

import pytest
import zipcodes

from chalicelib.domain import postal
from chalicelib.domain.zones import is_known_zone, subdivision_zones
from tools.data import postal_zones


def test_every_zip_in_the_table_has_the_state_and_zone_zipcodes_gives_it_and_any_reviewed() -> None:
    rows = {row["zip_code"]: row for row in zipcodes.list_all()}
    checked = 0
    for prefix, (_palette, marks) in postal._table()["US"].items():
        for n, mark in enumerate(marks):
            if mark == postal.ABSENT:
                continue
            place = postal.lookup("US", f"{prefix}{n:02d}")
            row = rows[f"{prefix}{n:02d}"]
            reviewed = postal_zones.reviewed_zone(row)
            assert place == postal.PostalPlace(f"US-{row['state']}", (row["timezone"], *filter(None, [reviewed])))
            checked += 1
    assert checked == sum(1 for row in rows.values() if row["timezone"] and is_known_zone(row["timezone"]))


def test_a_zip_zipcodes_gives_no_iana_zone_is_not_in_the_table() -> None:
    military = next(row["zip_code"] for row in zipcodes.list_all() if row["state"] == "AE")
    assert postal.lookup("US", military) is None


def test_the_committed_tables_are_what_the_builder_makes_from_the_installed_packages() -> None:
    table, extra = postal_zones.build()
    stale = "stale: run python -m tools.data.postal_zones"
    assert json.loads(postal_zones.TABLE.read_text()) == json.loads(json.dumps(table)), stale
    assert json.loads(postal_zones.EXTRA.read_text()) == extra, stale


def test_every_zone_a_postal_code_names_is_bounded_by_its_subdivisions_zones() -> None:
    """A subdivision alone is never a wider window than any of its postal codes."""
    for subdivision, zones in postal._table()["places"]:
        if subdivision:
            listed = (*subdivision_zones(subdivision), *postal.extra_zones(subdivision))
            for zone in zones:
                assert zone in listed or postal_zones.between_clocks(zone, listed), (subdivision, zone)


@pytest.mark.parametrize(
    ("code", "expected"),
    [("02139", "US-MA"), ("02139-4307", "US-MA"), ("021394307", "US-MA"), (" 32501 ", "US-FL")],
)
def test_zip_and_zip_plus_four_are_read_by_their_first_five_digits(code: str, expected: str) -> None:
    place = postal.lookup("US", code)
    assert place is not None and place.subdivision == expected


@pytest.mark.parametrize(
    ("country", "code"),
    [
        ("US", "1234"),
        ("US", "ABCDE"),
        ("US", "00000"),
        ("US", "02139-43"),
        ("CA", "D1A"),
        ("CA", "M5V 1"),
        ("CA", "123456"),
        ("AU", "123"),
        ("AU", "20000"),
        ("GB", "SW1A 1AA"),
        ("CN", "830000"),
    ],
)
def test_unknown_or_malformed_codes_have_no_place(country: str, code: str) -> None:
    assert postal.lookup(country, code) is None


def test_the_table_is_not_read_at_import() -> None:
    import subprocess
    import sys

    code = "import chalicelib.domain.postal as p, chalicelib.domain.zones; print(p._table.cache_info().currsize)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "0"
