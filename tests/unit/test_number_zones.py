"""A number's zones are every zone its number may be in.

phonenumbers names one zone for area codes that span two. Expected zones are compared as clocks (UTC
offsets over 2026-2027), so "America/Indiana/Knox" counts as Central and a renamed zone does not fail a test.
"""

from __future__ import annotations

import random
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import phonenumbers
import pytest
from phonenumbers import timezone as phone_timezone

from chalicelib.domain import number_zones
from chalicelib.domain.engine import evaluate
from chalicelib.domain.model import Outcome
from chalicelib.domain.policy import PolicySet
from chalicelib.domain.zones import country_zones, resolve
from tests.support import make_request, utc

EASTERN, CENTRAL, MOUNTAIN, PACIFIC = "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"
INSTANTS = [datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=6 * n) for n in range(4 * 730)]


@cache
def clock(zone: str) -> tuple[timedelta | None, ...]:
    info = ZoneInfo(zone)
    return tuple(at.astimezone(info).utcoffset() for at in INSTANTS)


def zones_of(to: str) -> list[str]:
    return list(resolve(make_request(channel="voice", message=None, to=to, location={})).zones)


def clocks_of(to: str) -> set[tuple[timedelta | None, ...]]:
    return {clock(zone) for zone in zones_of(to)}


# --- the over-contact of the issue: 07:30 in Pensacola ---------------------------------------------


def test_defers_a_call_to_850_until_8am_central_when_it_is_8_30_in_tallahassee(policies: PolicySet) -> None:
    request = make_request(channel="voice", message=None, to="+18505550123", location={})

    decision = evaluate(request, [], policies, now=utc(2026, 4, 7, 12, 30))  # 08:30 EDT / 07:30 CDT

    assert decision.outcome is Outcome.DEFER
    assert decision.not_before == utc(2026, 4, 7, 13, 0)  # 08:00 CDT
    assert sorted(decision.inputs["zones"]) == [CENTRAL, EASTERN]


def test_allows_a_call_to_850_at_8am_central(policies: PolicySet) -> None:
    request = make_request(channel="voice", message=None, to="+18505550123", location={})

    assert evaluate(request, [], policies, now=utc(2026, 4, 7, 13, 0)).outcome is Outcome.ALLOW


# --- every split area code: an exchange the geocoder does not name may be anywhere the code serves ----

SPLIT_AREA_CODES = {
    "850": (EASTERN, CENTRAL),  # Tallahassee / Pensacola
    "807": ("America/Toronto", "America/Winnipeg", "America/Atikokan"),  # Thunder Bay / Kenora / Atikokan
    "418": ("America/Toronto", "America/Halifax", "America/Blanc-Sablon"),  # Quebec City / Magdalen Is.
    "306": ("America/Regina", "America/Winnipeg", "America/Edmonton"),  # Regina / Creighton / Lloydminster
    "812": (EASTERN, CENTRAL),  # Indiana: Bloomington / Evansville
    "219": (EASTERN, CENTRAL),  # Indiana: Gary is Central
    "574": (EASTERN, CENTRAL),  # Indiana: South Bend / Knox (Starke County)
    "270": (EASTERN, CENTRAL),  # Kentucky: Bowling Green / Elizabethtown
    "606": (EASTERN, CENTRAL),  # Kentucky: Ashland / Wayne County
    "423": (EASTERN, CENTRAL),  # Tennessee: Chattanooga / Pikeville
    "931": (EASTERN, CENTRAL),  # Tennessee: Clarksville / Morgan and Rhea counties
    "541": (PACIFIC, MOUNTAIN),  # Oregon: Bend / Ontario
    "208": (MOUNTAIN, PACIFIC),  # Idaho: Boise / Coeur d'Alene
    "605": (CENTRAL, MOUNTAIN),  # South Dakota: Sioux Falls / Rapid City
    "701": (CENTRAL, MOUNTAIN),  # North Dakota: Fargo / Dickinson
    "308": (CENTRAL, MOUNTAIN),  # Nebraska: Grand Island / Scottsbluff
    "620": (CENTRAL, MOUNTAIN),  # Kansas: Wichita area / Syracuse
    "785": (CENTRAL, MOUNTAIN),  # Kansas: Topeka / Goodland
    "906": (EASTERN, CENTRAL),  # Michigan: Marquette / Iron Mountain
    "915": (MOUNTAIN, CENTRAL),  # Texas: El Paso; Central places the second source still lists under 915
    "806": (CENTRAL, MOUNTAIN),  # Texas: Lubbock; New Mexico places the second source lists under 806
    "432": (CENTRAL, MOUNTAIN),  # Texas: Midland; New Mexico places the second source lists under 432
}


@pytest.mark.parametrize("area", sorted(SPLIT_AREA_CODES))
def test_a_split_area_codes_unnamed_exchange_is_in_every_zone_of_the_area(area: str) -> None:
    expected = {clock(zone) for zone in SPLIT_AREA_CODES[area]}

    assert expected <= clocks_of(f"+1{area}5550123"), zones_of(f"+1{area}5550123")


@pytest.mark.parametrize(
    ("to", "zone"),
    [
        ("+18503320123", CENTRAL),  # Pensacola
        ("+18502220123", EASTERN),  # Tallahassee
        ("+18074670123", "America/Winnipeg"),  # Kenora
        ("+18073430123", "America/Toronto"),  # Thunder Bay
        ("+19155330123", MOUNTAIN),  # El Paso
    ],
)
def test_a_named_exchange_is_in_its_places_zone_alone(to: str, zone: str) -> None:
    assert clocks_of(to) == {clock(zone)}, zones_of(to)


# --- other plans whose countries span zones ----------------------------------------------------------


@pytest.mark.parametrize(
    ("to", "zone"),
    [
        ("+13068251234", "America/Edmonton"),  # "Lloydminster, SK": the city keeps Alberta's time
        ("+61880801234", "Australia/Broken_Hill"),  # 08 covers Broken Hill (NSW, on Adelaide time)
        ("+61889991234", "Australia/Darwin"),  # 08 covers Darwin: no daylight saving, unlike Adelaide
        ("+61255760000", "Australia/Lord_Howe"),  # "Forster/…/Lord Howe Island/…": every place of the list
        ("+61851001000", "Indian/Christmas"),  # an external territory GeoNames files under another country
        ("+62967123456", "Asia/Jayapura"),
        ("+869915551234", "Asia/Urumqi"),  # Urumqi: Xinjiang time as well as Beijing time
    ],
)
def test_a_numbers_zones_hold_the_zone_of_the_place_it_serves(to: str, zone: str) -> None:
    assert zone in zones_of(to)


def test_an_australian_area_code_has_every_zone_of_its_places() -> None:
    area_08 = number_zones.prefix_zones("+618") or ()

    assert {"Australia/Adelaide", "Australia/Perth", "Australia/Darwin", "Australia/Broken_Hill"} <= set(area_08)


def test_a_western_australian_block_gets_no_zone_of_the_east_or_of_the_islands() -> None:
    unnamed_wa = set(number_zones.prefix_zones("+6189") or ())

    assert "Australia/Perth" in unnamed_wa
    assert not unnamed_wa & {"Australia/Sydney", "Australia/Darwin", "Australia/Lord_Howe", "Indian/Cocos"}


@pytest.mark.parametrize("to", ["+628121234567", "+61412345678", "+18005550100"])
def test_a_number_without_geography_may_be_anywhere_in_its_country(to: str) -> None:
    country = phonenumbers.region_code_for_number(phonenumbers.parse(to))
    assert country is not None

    assert set(country_zones(country)) <= set(zones_of(to))


def test_defers_an_indonesian_mobile_at_19_30_jakarta_when_it_is_21_30_in_jayapura(policies: PolicySet) -> None:
    body = {"body": "Tagihan Anda jatuh tempo. Balas STOP untuk berhenti."}
    request = make_request(channel="sms", to="+628121234567", location={}, message=body)

    decision = evaluate(request, [], policies, now=utc(2026, 4, 7, 12, 30))  # Tuesday 19:30 WIB / 21:30 WIT

    assert decision.outcome is Outcome.DEFER
    assert decision.not_before == utc(2026, 4, 8, 1, 0)  # 08:00 WIB, when it is 10:00 WIT


# --- never narrower than phonenumbers -------------------------------------------------------------------


def _valid(prefix: str, rng: random.Random) -> str | None:
    """A valid number under ``prefix`` (11 to 13 digits), if a random one is."""
    for length in (11, 12, 13):
        tail = "".join(rng.choice("0123456789") for _ in range(length - len(prefix)))
        if phonenumbers.is_valid_number(phonenumbers.parse(f"+{prefix}{tail}")):
            return f"+{prefix}{tail}"
    return None


def _sample(seed: int) -> list[str]:
    """Numbers under listed prefixes of every table, and under random +1 area codes."""
    rng = random.Random(seed)
    listed = [p for code in ("1", "61", "62", "86") for p in sorted(number_zones._table(code)[1])]
    prefixes = rng.sample(listed, 1500) + [f"1{rng.randint(200, 999)}" for _ in range(300)]
    return [n for n in (_valid(p, rng) for p in prefixes) if n]


def test_a_numbers_zones_hold_every_zone_phonenumbers_names() -> None:
    numbers = _sample(21)
    named = {n: set(phone_timezone.time_zones_for_number(phonenumbers.parse(n))) for n in numbers}
    narrower = [n for n in numbers if not named[n] <= set(zones_of(n))]

    assert len(numbers) > 1000 and narrower == []


def test_a_nanp_lookup_reads_the_nanp_table_only() -> None:
    code = (
        "from chalicelib.domain import number_zones, zones\n"
        "from tests.support import make_request\n"
        "zones.resolve(make_request(to='+18505550123', location={}))\n"
        "print(number_zones._table.cache_info().currsize)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split()[-1] == "1"


def test_a_prefix_the_tables_lack_gets_no_zone_from_them() -> None:
    assert number_zones.prefix_zones("+442071234567") is None
