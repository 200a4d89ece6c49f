"""Where the recipient may be: candidate time zones and countries, with their sources.

The address is one location (chalicelib/domain/address.py: its most specific field decides), each phone
number another; a time window must hold at every location (Reg F comment 6(b)(1)(i)-2: Eastern mobile +
Pacific address gives 11:00-21:00 Eastern). A country adds all its zones only when no other source places
the person inside it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import timezone as phone_timezone

from chalicelib.domain import address, number_zones
from chalicelib.domain.model import Channel, ContactRequest

_UNKNOWN_ZONE = "Etc/Unknown"


@dataclass(frozen=True)
class Candidates:
    zones: tuple[str, ...]
    sources: dict[str, list[str]]  # zone -> sources that named it
    countries: tuple[str, ...]
    subdivisions: tuple[str, ...]  # "US-MA"
    address: address.Address = address.Address(locations=())

    def as_inputs(self) -> dict[str, object]:
        # zone_sources already says which field decided; the address's locations are written only when
        # something needs saying (a contradiction, an unused postal code): every audit event carries them.
        notes = {"address": self.address.as_inputs()} if self.address.notes else {}
        return {
            "zones": list(self.zones),
            "zone_sources": {z: sorted(s) for z, s in self.sources.items()},
            "countries": list(self.countries),
            "subdivisions": list(self.subdivisions),
            **notes,
        }


@cache
def _country_zones() -> dict[str, tuple[str, ...]]:
    text = resources.files("tzdata").joinpath("zoneinfo", "zone.tab").read_text("utf-8")
    zones: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            code, _coords, name = line.split("\t")[:3]
            zones.setdefault(code, []).append(name)
    return {code: tuple(names) for code, names in zones.items()}


@cache
def _subdivision_zones() -> dict[str, tuple[str, ...]]:
    raw = resources.files("chalicelib.domain").joinpath("subdivision_zones.json").read_text()
    return {key: tuple(zones) for key, zones in json.loads(raw).items()}


def country_zones(country: str) -> tuple[str, ...]:
    """Every zone tzdata's zone.tab gives the country ("US" -> 29 zones); empty if it names none."""
    return _country_zones().get(country, ())


def subdivision_zones(subdivision: str) -> tuple[str, ...]:
    """The zones of a subdivision ("US-FL") in subdivision_zones.json; empty if it has none."""
    return _subdivision_zones().get(subdivision, ())


@cache
def _subdivision_codes() -> dict[str, dict[str, str]]:
    raw = resources.files("chalicelib.domain").joinpath("subdivision_names.json").read_text()
    return dict(json.loads(raw))


@cache
def _nanp_places() -> tuple[int, dict[str, str]]:
    """+1 number prefix -> subdivision code, from phonenumbers' geocoding data (tools/data/area_codes.py)."""
    table = json.loads(resources.files("chalicelib.domain").joinpath("nanp_places.json").read_text())
    return int(table["longest"]), dict(table["prefixes"])


def _geographic(number: phonenumbers.PhoneNumber) -> bool:
    """Whether the number's type has a place (a fixed line; a mobile in a few countries, the NANP's)."""
    kind = phonenumbers.number_type(number)
    if kind == phonenumbers.PhoneNumberType.UNKNOWN:
        return False
    return bool(phonenumbers.is_number_type_geographical(kind, number.country_code or 0))


def _described_code(number: phonenumbers.PhoneNumber, geographic: bool | None = None) -> str:
    """The code phonenumbers' geocoder would describe a number's area with ("Boston, MA" -> "MA"), or "".

    The same steps as ``geocoder.description_for_number`` in English (geographic numbers only, longest
    prefix first), over a table of the +1 prefixes, so the cold start does not load all its geodata."""
    if not (_geographic(number) if geographic is None else geographic):
        return ""
    longest, prefixes = _nanp_places()
    digits = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)[1:]
    for length in range(min(longest, len(digits)), 0, -1):
        if digits[:length] in prefixes:
            return prefixes[digits[:length]]
    return ""


# New York City's area codes: the city has its own rules (6 RCNY 5-77) on top of the state's.
_NYC_AREA_CODES = frozenset({"212", "332", "347", "646", "718", "917", "929"})


def _number_places(number: phonenumbers.PhoneNumber, country: str | None, geographic: bool) -> list[str]:
    """Subdivision (``US-MA``) and locality (``US-NY-NYC``) of a +1 number, from its geography."""
    names = _subdivision_codes().get(country or "", {})
    if not names:
        return []
    code = _described_code(number, geographic) if number.country_code == 1 else ""
    places = [f"{country}-{code}"] if code in set(names.values()) else []
    national = str(number.national_number)
    if country == "US" and national[:3] in _NYC_AREA_CODES:
        places.append("US-NY-NYC")
    return places


@cache
def _zone_names() -> frozenset[str]:
    """The IANA names tzdata ships (not the host's TZPATH, which also has "localtime")."""
    return frozenset(resources.files("tzdata").joinpath("zones").read_text("utf-8").split())


def is_known_zone(name: str) -> bool:
    """An IANA zone name ("localtime" and file paths are not: they depend on the server)."""
    if name not in _zone_names():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def phone_number(to: str) -> phonenumbers.PhoneNumber | None:
    try:
        number = phonenumbers.parse(to, None)
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


def _phone_sources(request: ContactRequest, address_known: bool) -> tuple[list[str], str | None, list[str]]:
    """Zones, country and places the recipient's number points to (nothing for email). A number with no
    geography (most mobiles outside the NANP) says only its country: its zones count only with no address
    (or, through the country, with an address elsewhere)."""
    if request.channel is Channel.EMAIL:
        return [], None, []
    number = phone_number(request.to)
    if number is None:
        return [], None, []
    country = phonenumbers.region_code_for_number(number)
    geographic = _geographic(number)
    places = _number_places(number, country, geographic)
    if address_known and not geographic:
        return [], country, places
    zones = _number_zones(number, country, geographic)
    # A prefix the tables give every zone of its country (an Indonesian mobile) says no more than its
    # country either. NANP numbers keep their area codes' zones, as the Reg F commentary uses them.
    whole = number.country_code != 1 and set(country_zones(country or "")) <= set(zones)
    return ([] if address_known and whole else zones), country, places


def _number_zones(number: phonenumbers.PhoneNumber, country: str | None, geographic: bool) -> list[str]:
    """phonenumbers' zones for the number, with every zone of the places its prefix serves; a number with no
    geography (a mobile in most countries), or whose prefix the tables lack, may be anywhere in its country."""
    named = [z for z in phone_timezone.time_zones_for_number(number) if z != _UNKNOWN_ZONE]
    code = number.country_code or 0
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    listed = number_zones.prefix_zones(e164) if geographic else None
    if listed is None and (not geographic or number_zones.covers(code, country)):
        listed = country_zones(country or "")
    return list(dict.fromkeys([*named, *(listed or ())]))


def resolve(request: ContactRequest) -> Candidates:
    """Candidate zones and places of the recipient: the address is one location, each number another."""
    loc = request.location
    subdivision = f"{loc.country}-{loc.subdivision}" if loc.country and loc.subdivision else None
    where = address.locate(loc, subdivision_zones(subdivision or ""), country_zones(loc.country or ""))
    sources = {zone: list(names) for zone, names in where.sources.items()}
    phone_zones, phone_country, phone_places = _phone_sources(request, where.known)
    for zone in phone_zones:
        sources.setdefault(zone, []).append("phone_number")
    countries = tuple(dict.fromkeys(c for c in (loc.country, phone_country) if c))
    for country in countries:  # a country no other source places the person in: all its zones
        zones = _country_zones().get(country, ())
        if not set(zones) & set(sources):
            for zone in zones:
                sources.setdefault(zone, []).append("country")
    postal_places = [f.subdivision for location in where.locations for f in location if f.subdivision]
    return Candidates(
        zones=tuple(sources),
        sources=sources,
        countries=countries,
        subdivisions=tuple(dict.fromkeys([*([subdivision] if subdivision else []), *postal_places, *phone_places])),
        address=where,
    )
