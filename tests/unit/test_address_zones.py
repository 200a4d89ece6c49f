"""The address is one location: its most specific field decides, coarser ones check, contradictions add.

Issue 21. Regulation F's examples first (comment 6(b)(1)(i)-2, with the address given by ZIP), then each
split US state, Canadian province and Australian state by postal code, then a pinned zone, contradictions,
unusable postal codes and numbers without geography.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
import zipcodes

from chalicelib.domain import zones
from chalicelib.domain.engine import evaluate
from chalicelib.domain.model import ContactRequest, Decision, Outcome
from chalicelib.domain.policy import PolicySet
from tests.support import make_request, utc

EASTERN_MOBILE = "+14045550100"  # Atlanta: America/New_York
TORONTO = "+14165550100"
AU_MOBILE = "+61412345678"  # 04: no geography


def voice(to: str = EASTERN_MOBILE, **location: Any) -> ContactRequest:
    return make_request(channel="voice", message=None, to=to, location=location)


def zones_of(request: ContactRequest) -> set[str]:
    return set(zones.resolve(request).zones)


def decide(policies: PolicySet, request: ContactRequest, now: datetime) -> Decision:
    return evaluate(request, [], policies, now=now)


# --- Reg F comment 6(b)(1)(i)-2 with the address given by ZIP -----------------------------------------


def test_eastern_mobile_with_a_san_francisco_zip_defers_1059_eastern_until_11_eastern(policies: PolicySet) -> None:
    decision = decide(policies, voice(country="US", postal_code="94103"), utc(2026, 3, 16, 14, 59))

    assert decision.outcome is Outcome.DEFER
    assert decision.not_before == utc(2026, 3, 16, 15, 0)  # 11:00 EDT, 08:00 PDT


def test_eastern_mobile_with_a_denver_zip_defers_0959_eastern_until_10_eastern(policies: PolicySet) -> None:
    decision = decide(policies, voice(country="US", postal_code="80202"), utc(2026, 3, 16, 13, 59))

    assert decision.not_before == utc(2026, 3, 16, 14, 0)  # 10:00 EDT, 08:00 MDT


# --- every split US state, by ZIP ------------------------------------------------------------------------


def _split_states() -> list[tuple[str, str, str]]:
    """(state, zone, a ZIP zipcodes puts on that zone) for each zone of each state whose ZIPs keep two clocks."""
    first: dict[tuple[str, str], str] = {}
    for row in zipcodes.list_all():
        if row["timezone"] and zones.is_known_zone(row["timezone"]):
            first.setdefault((row["state"], row["timezone"]), row["zip_code"])
    split = {state for state, _ in first if len(zones.subdivision_zones(f"US-{state}")) > 1}
    return [(state, zone, code) for (state, zone), code in sorted(first.items()) if state in split]


@pytest.mark.parametrize(("state", "zone", "code"), _split_states())
def test_a_zip_of_a_split_state_gives_its_own_zone_only(state: str, zone: str, code: str) -> None:
    assert zones_of(voice(to="+12025550100", country="US", subdivision=state, postal_code=code)) - {
        "America/New_York"  # the DC number's own zone, a location of its own
    } <= {zone}
    assert zone in zones_of(voice(country="US", subdivision=state, postal_code=code))


@pytest.mark.parametrize(
    ("code", "zone"),
    [
        ("32301", "America/New_York"),
        ("32501", "America/Chicago"),
        ("79901", "America/Denver"),
        ("75201", "America/Chicago"),
        ("97914", "America/Boise"),
        ("97201", "America/Los_Angeles"),
    ],
)  # Tallahassee, Pensacola, El Paso, Dallas, Ontario OR, Portland
def test_named_zips_of_split_states(code: str, zone: str) -> None:
    assert zones.resolve(voice(country="US", postal_code=code)).address.sources == {zone: ["location.postal_code"]}


# --- every split Canadian province and Australian state, by postal code ---------------------------------

CA_AU = [
    ("CA", "ON", "M5V 2T6", {"America/Toronto"}),  # Toronto
    ("CA", "ON", "P9N 1A1", {"America/Winnipeg"}),  # Kenora
    ("CA", "ON", "P0T 1C0", {"America/Toronto", "America/Winnipeg", "America/Atikokan"}),  # Atikokan's FSA
    ("CA", "QC", "H2X 1Y4", {"America/Toronto"}),  # Montreal
    ("CA", "QC", "G0G 1W0", {"America/Toronto", "America/Blanc-Sablon"}),  # Blanc-Sablon's FSA
    ("CA", "QC", "G4T 1A1", {"America/Halifax"}),  # Magdalen Islands
    ("CA", "BC", "V6B 1A1", {"America/Vancouver"}),  # Vancouver
    ("CA", "BC", "V1C 1A1", {"America/Edmonton"}),  # Cranbrook
    ("CA", "BC", "V1G", {"America/Dawson_Creek"}),  # Dawson Creek
    ("CA", "NL", "A1C 5M2", {"America/St_Johns"}),  # St. John's
    ("CA", "NL", "A2V 1A1", {"America/Goose_Bay"}),  # Labrador City
    ("CA", "NU", "X0B 0C0", {"America/Cambridge_Bay"}),  # Kitikmeot
    ("CA", "NU", "X0C 0G0", {"America/Rankin_Inlet", "America/Atikokan"}),  # Kivalliq, Coral Harbour
    ("CA", "SK", "S4P 3Y2", {"America/Regina"}),  # Regina
    ("CA", "SK", "S9V 0A1", {"America/Edmonton"}),  # Lloydminster, on Alberta's time
    ("AU", "NSW", "2000", {"Australia/Sydney"}),
    ("AU", "NSW", "2880", {"Australia/Broken_Hill", "Australia/Sydney"}),  # Broken Hill and outside Yancowinna
    ("AU", "NSW", "2898", {"Australia/Lord_Howe"}),
    ("AU", "WA", "6000", {"Australia/Perth"}),
    ("AU", "WA", "6443", {"Australia/Perth", "Australia/Eucla"}),
    ("AU", "SA", "5000", {"Australia/Adelaide"}),
    ("AU", "SA", "5690", {"Australia/Adelaide", "Australia/Eucla"}),
]


@pytest.mark.parametrize(("country", "subdivision", "code", "expected"), CA_AU)
def test_postal_code_of_a_split_province_or_state_gives_its_zones(
    country: str, subdivision: str, code: str, expected: set[str]
) -> None:
    request = voice(to="email@example.com", country=country, subdivision=subdivision, postal_code=code)
    request = request.model_copy(update={"channel": "email"})
    assert zones_of(request) == expected


def test_a_subdivision_alone_has_every_clock_of_its_postal_codes() -> None:
    assert "Australia/Lord_Howe" in zones.resolve(voice(AU_MOBILE, country="AU", subdivision="NSW")).zones
    sk = set(zones.resolve(voice("+13065550100", country="CA", subdivision="SK")).zones)
    assert {"America/Regina", "America/Edmonton", "America/Winnipeg"} <= sk


# --- a pinned zone narrows the address ---------------------------------------------------------------------


def test_toronto_zone_pins_an_ontario_address_to_toronto_only() -> None:
    request = voice(TORONTO, country="CA", subdivision="ON", timezone="America/Toronto")
    assert zones.resolve(request).zones == ("America/Toronto",)


def test_a_sunday_1300_toronto_call_is_not_held_by_central_time(policies: PolicySet) -> None:
    request = voice(TORONTO, country="CA", subdivision="ON", timezone="America/Toronto")
    assert decide(policies, request, utc(2026, 5, 10, 17, 0)).outcome is Outcome.ALLOW  # Sunday 13:00 EDT
    without = voice(TORONTO, country="CA", subdivision="ON")
    assert decide(policies, without, utc(2026, 5, 10, 17, 0)).not_before == utc(2026, 5, 10, 18, 0)


def test_a_sydney_address_keeps_its_0730_start_without_broken_hill(policies: PolicySet) -> None:
    request = voice(AU_MOBILE, country="AU", subdivision="NSW", timezone="Australia/Sydney")
    assert zones.resolve(request).zones == ("Australia/Sydney",)
    assert decide(policies, request, utc(2026, 6, 8, 21, 30)).outcome is Outcome.ALLOW  # Tue 07:30 AEST


def test_a_pinned_zone_narrows_a_postal_code_that_holds_it() -> None:
    request = voice(AU_MOBILE, country="AU", postal_code="2880", timezone="Australia/Broken_Hill")
    assert zones.resolve(request).zones == ("Australia/Broken_Hill",)


# --- fields that contradict each other: two locations, both windows --------------------------------------


def test_a_zip_of_another_state_adds_the_subdivisions_zones(policies: PolicySet) -> None:
    request = voice(country="US", subdivision="CA", postal_code="10001")
    candidates = zones.resolve(request)

    assert set(candidates.zones) == {"America/New_York", "America/Los_Angeles"}
    assert {"US-CA", "US-NY"} <= set(candidates.subdivisions)  # both states' packs apply
    assert "contradicts" in candidates.as_inputs()["address"]["notes"][0]  # type: ignore[index]
    decision = decide(policies, request, utc(2026, 3, 16, 14, 59))
    assert decision.not_before == utc(2026, 3, 16, 15, 0)
    assert [r.rule for r in decision.reasons][-1] == "gateway/address"


def test_a_zone_outside_the_subdivision_adds_the_subdivisions_zones() -> None:
    request = voice(TORONTO, country="CA", subdivision="QC", timezone="America/Winnipeg")
    assert set(zones.resolve(request).zones) >= {"America/Winnipeg", "America/Toronto", "America/Blanc-Sablon"}


def test_a_zone_outside_the_postal_code_adds_the_postal_codes_zone_only() -> None:
    request = voice(TORONTO, country="CA", subdivision="ON", postal_code="M5V 2T6", timezone="America/Vancouver")
    assert set(zones.resolve(request).zones) == {"America/Vancouver", "America/Toronto"}


def test_a_zone_the_engine_does_not_know_denies_and_never_widens(policies: PolicySet) -> None:
    request = voice(country="US", subdivision="GA", postal_code="30303", timezone="Mars/Olympus_Mons")
    decision = decide(policies, request, utc(2026, 3, 16, 16, 0))
    assert decision.outcome is Outcome.DENY
    assert [r.rule for r in decision.reasons] == ["gateway/no-time-zone"]


# --- an unknown or malformed postal code falls back to the subdivision, and says so ------------------------


@pytest.mark.parametrize(
    ("country", "subdivision", "code"),
    [
        ("US", "FL", "00000"),
        ("US", "FL", "3250"),
        ("US", "FL", "ABCDE"),
        ("CA", "ON", "D1A 1A1"),
        ("AU", "NSW", "289"),
        ("CN", "XJ", "830000"),
    ],
)
def test_an_unusable_postal_code_falls_back_to_the_subdivision(country: str, subdivision: str, code: str) -> None:
    without = zones.resolve(voice("+12025550100", country=country, subdivision=subdivision))
    got = zones.resolve(voice("+12025550100", country=country, subdivision=subdivision, postal_code=code))
    assert got.zones == without.zones
    assert f"location.postal_code {code!r} not used" in got.address.notes[0]


def test_a_postal_code_without_a_country_is_not_used() -> None:
    got = zones.resolve(voice(EASTERN_MOBILE, postal_code="32501"))
    assert "America/Chicago" not in got.sources or "location.postal_code" not in got.sources["America/Chicago"]
    assert "no country" in got.address.notes[0]


# --- a number without geography says only its country -------------------------------------------------------


def test_an_australian_mobile_adds_no_zone_to_a_known_address() -> None:
    assert zones.resolve(voice(AU_MOBILE, country="AU", postal_code="2000")).zones == ("Australia/Sydney",)


def test_an_australian_mobile_without_an_address_may_be_anywhere_in_australia() -> None:
    assert {"Australia/Perth", "Australia/Sydney", "Australia/Lord_Howe"} <= zones_of(voice(AU_MOBILE))


def test_a_foreign_mobile_adds_its_countrys_zones_to_an_address_elsewhere() -> None:
    got = zones_of(voice(AU_MOBILE, country="US", postal_code="02139"))
    assert {"America/New_York", "Australia/Perth", "Australia/Sydney"} <= got


def test_a_nanp_mobile_keeps_its_area_codes_zones() -> None:
    assert zones_of(voice(EASTERN_MOBILE, country="US", postal_code="94103")) == {
        "America/New_York",
        "America/Los_Angeles",
    }


# --- the edge: the API, what-if scenarios and the OpenAPI document accept it ------------------------------


def test_the_api_accepts_any_plausible_postal_code_and_rejects_other_text() -> None:
    from pydantic import ValidationError

    from chalicelib.http.models import LocationIn

    assert LocationIn(country="US", postal_code="02139-4307").postal_code == "02139-4307"
    assert LocationIn(country="US", postal_code="not-a-zip").postal_code == "not-a-zip"  # falls back later
    for bad in ("", "<script>", "1" * 17, "02139\n"):
        with pytest.raises(ValidationError):
            LocationIn(country="US", postal_code=bad)


def test_a_what_if_scenario_with_an_unknown_postal_code_says_it_fell_back(policies: PolicySet) -> None:
    from tools import whatif

    request = {"debtor_id": "d1", "account_id": "a1", "channel": "voice", "to": EASTERN_MOBILE}
    document = {
        "at": "2026-03-02T12:30:00Z",
        "request": {**request, "location": {"country": "US", "postal_code": "00000", "subdivision": "FL"}},
    }
    answer = whatif.run(document, policies)
    assert answer["outcome"] == "defer"
    assert set(answer["zones"]) == {"America/New_York", "America/Chicago"}
    assert "not used" in answer["reasons"][-1]["message"]


def test_the_openapi_document_describes_postal_code() -> None:
    import app
    from chalicelib.http import declared, openapi

    properties = openapi.document("test", declared(app.app))["components"]["schemas"]["LocationIn"]["properties"]
    assert "postal_code" in properties and "ZIP" in properties["postal_code"]["description"]


def test_phenix_city_keeps_both_clocks_and_alabama_alone_counts_eastern_too() -> None:
    """Alabama's law is Central; Phenix City keeps Eastern by custom (a second source found it)."""
    assert zones_of(voice("+12025550100", country="US", subdivision="AL", postal_code="36867")) == {
        "America/Chicago",
        "America/New_York",
    }
    assert "America/New_York" in zones.resolve(voice(country="US", subdivision="AL")).address.sources


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("10110", {"Asia/Jakarta"}),
        ("80361", {"Asia/Makassar"}),
        ("99351", {"Asia/Jayapura"}),
        ("75123", {"Asia/Jakarta", "Asia/Makassar"}),
    ],
)  # Jakarta, Bali, Papua, Kalimantan (both clocks)
def test_an_indonesian_postal_code_narrows_the_country_to_its_island_groups_clock(
    code: str, expected: set[str]
) -> None:
    assert zones_of(voice("+6281234567890", country="ID", postal_code=code)) == expected
    assert len(zones_of(voice("+6281234567890", country="ID"))) == 4


def test_an_indonesian_mobile_whose_prefix_spans_the_country_adds_no_zone_to_a_known_address() -> None:
    assert zones_of(voice("+6281234567890", country="ID", timezone="Asia/Jayapura")) == {"Asia/Jayapura"}
    assert len(zones_of(voice("+6281234567890"))) == 4


def test_an_address_with_nothing_to_say_adds_nothing_to_the_audited_inputs() -> None:
    assert "address" not in zones.resolve(voice(country="US", subdivision="GA", postal_code="30303")).as_inputs()
