"""The public-holiday table the engine reads is the ``holidays`` library's answer for every pack's calendar."""

from __future__ import annotations

from datetime import date

import holidays

from chalicelib.domain import localtime
from tools.data import public_holidays


def test_every_calendar_a_pack_names_is_listed_for_every_year() -> None:
    listed = localtime._listed()
    years = {str(y) for y in range(public_holidays.FIRST_YEAR, public_holidays.LAST_YEAR + 1)}
    assert public_holidays.calendars()  # the packs name some
    for country, subdivision in public_holidays.calendars():
        assert set(listed[public_holidays.key(country, subdivision)]) == years


def test_the_table_answers_as_the_library_does_on_every_day() -> None:
    for country, subdivision in public_holidays.calendars():
        for year in (2025, 2026, 2027, 2035):
            library = holidays.country_holidays(country, subdiv=subdivision, years=year)
            table = localtime._calendar(country, subdivision, year)
            start = date(year, 1, 1).toordinal()
            for ordinal in range(start, date(year, 12, 31).toordinal() + 1):
                day = date.fromordinal(ordinal)
                assert (day in table) == (day in library), (country, subdivision, day)


def test_a_calendar_the_table_lacks_comes_from_the_library() -> None:
    assert localtime.is_public_holiday(date(2026, 7, 14), "FR")  # Bastille Day: no pack reads France's calendar
    assert localtime.is_public_holiday(date(2040, 12, 25), "US")  # past the table's years
    assert not localtime.is_public_holiday(date(2040, 12, 24), "US")
