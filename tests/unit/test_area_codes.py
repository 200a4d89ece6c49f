"""The +1 prefix table stands in for phonenumbers' geocoder: it must say what the geocoder says."""

from __future__ import annotations

import json
import random

import phonenumbers
import pytest
from phonenumbers import geocoder

from chalicelib.domain import zones
from tools.data import area_codes


def _geocoder_code(number: phonenumbers.PhoneNumber) -> str:
    names = {n: c for country in json.loads(area_codes.NAMES.read_text()).values() for n, c in country.items()}
    description = geocoder.description_for_number(number, "en")
    return description.rsplit(", ", 1)[1] if ", " in description else names.get(description, "")


def test_the_committed_table_is_the_one_this_phonenumbers_builds():
    committed = json.loads(area_codes.TABLE.read_text())
    assert committed == area_codes.build(), "phonenumbers changed: run python -m tools.data.area_codes"


def _numbers(seed: int, count: int) -> list[phonenumbers.PhoneNumber]:
    rng = random.Random(seed)
    prefixes = sorted(json.loads(area_codes.TABLE.read_text())["prefixes"])
    areas = sorted({p[1:4] for p in prefixes if len(p) >= 4})
    picked = [f"+1{a}{rng.randint(200, 999)}{rng.randint(0, 9999):04d}" for a in areas for _ in range(3)]
    picked += [f"+1{rng.randint(200, 999)}{rng.randint(200, 999)}{rng.randint(0, 9999):04d}" for _ in range(count)]
    # one number under every prefix of the table, the 6- and 7-digit exceptions included
    picked += [f"+{p}{rng.randint(0, 10 ** (11 - len(p)) - 1):0{11 - len(p)}d}" for p in prefixes]
    picked += ["+18005550100", "+18885550100", "+19005550100", "+12125550100", "+14165550100", "+18765550100"]
    return [phonenumbers.parse(n) for n in picked]


@pytest.mark.parametrize("seed", [1, 2])
def test_the_table_describes_numbers_as_the_geocoder_does(seed):
    numbers = _numbers(seed, 1500)
    differ = [
        phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.E164)
        for n in numbers
        if zones._described_code(n) != _geocoder_code(n)
    ]
    assert len(numbers) > 3500 and differ == []


def test_cold_imports_leave_the_geocoders_data_unloaded():
    import subprocess
    import sys

    code = "import sys, app; print('phonenumbers.geodata' in sys.modules, 'phonenumbers.geocoder' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
