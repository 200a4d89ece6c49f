"""The contact-history PDF: what a regulator or the consumer reads in it, checked through the extracted text."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from typing import Any, cast

import pytest
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from chalicelib.services.report_pdf import (
    ContactRow,
    ReportHeader,
    category,
    daily_counts,
    timeline,
    write_contact_history,
)
from tests.support import utc

CHINESE = "您的账单已逾期，回复退订停止接收"
QUIET_HOURS = {"rule": "quiet-hours", "citation": "12 CFR 1006.6(b)(1)(i)", "message": "before 8am in America/Chicago"}


def _row(n: int, at: datetime, **overrides: Any) -> ContactRow:
    fields: dict[str, Any] = {
        "contact_id": f"c-{n:04d}",
        "at": at,
        "local_times": ("2026-11-28 09:15 America/New_York",),
        "channel": "sms",
        "to_masked": "+1404•••0100",
        "message": f"Reminder {n}: your balance is past due.",
        "outcome": "allow",
        "status": "sent",
        "reasons": (),
    }
    return ContactRow(**{**fields, **overrides})


def _header(**overrides: Any) -> ReportHeader:
    fields: dict[str, Any] = {
        "tenant": "acme",
        "debtor_id": "debtor-42",
        "account_id": None,
        "generated_at": utc(2026, 12, 1, 8, 0),
        "export_id": "exp-0001",
        "first_at": utc(2026, 11, 28, 14, 15),
        "last_at": utc(2026, 11, 30, 16, 0),
        "policy_versions": ("reg-f@2026-01",),
    }
    return ReportHeader(**{**fields, **overrides})


def _pdf(rows: list[ContactRow], header: ReportHeader | None = None, omitted: int = 0) -> bytes:
    out = io.BytesIO()
    write_contact_history(out, header or _header(), rows, omitted=omitted)
    return out.getvalue()


def _pages(data: bytes) -> list[str]:
    """Each page's text, whitespace collapsed: cells come out one per line and wrapped text breaks anywhere.

    reportlab writes "•" in Helvetica as WinAnsi code 0x7F (an unused code, which PDF shows as a bullet);
    poppler extracts it as "•", pypdf as "\\x7f".
    """
    texts = (page.extract_text().replace("\x7f", "•") for page in PdfReader(io.BytesIO(data)).pages)
    return [" ".join(text.split()) for text in texts]


def _text(data: bytes) -> str:
    return " ".join(_pages(data))


def _fonts(data: bytes) -> set[str]:
    """The base font of every font in the pages' resources."""
    names: set[str] = set()
    for page in PdfReader(io.BytesIO(data)).pages:
        fonts = cast(DictionaryObject, cast(DictionaryObject, page["/Resources"])["/Font"])
        names |= {str(cast(DictionaryObject, font.get_object())["/BaseFont"]) for font in fonts.values()}
    return names


def _three_contacts() -> list[ContactRow]:
    return [
        _row(1, utc(2026, 11, 28, 14, 15)),
        _row(2, utc(2026, 11, 29, 13, 0), channel="email", to_masked="j•••e@example.com", message=CHINESE),
        _row(3, utc(2026, 11, 30, 16, 0), outcome="deny", status="blocked", reasons=(QUIET_HOURS,), local_times=()),
    ]


def test_lists_each_contact_with_time_address_message_decision_and_reasons() -> None:
    text = _text(_pdf(_three_contacts()))
    assert "2026-11-28 14:15:00 c-0001 2026-11-28 09:15 America/New_York sms" in text
    assert "+1404•••0100" in text and "j•••e@example.com" in text
    assert "Reminder 1: your balance is past due." in text
    assert "allow / sent" in text and "deny / blocked" in text
    assert "quiet-hours — before 8am in America/Chicago (12 CFR 1006.6(b)(1)(i))" in text


def test_lists_contacts_oldest_first_whatever_the_input_order() -> None:
    rows = _three_contacts()
    text = _text(_pdf([rows[2], rows[0], rows[1]]))
    assert text.index("c-0001") < text.index("c-0002") < text.index("c-0003")


def test_renders_a_chinese_message_with_the_cid_font() -> None:
    data = _pdf(_three_contacts())
    assert CHINESE in _text(data)
    assert "/STSong-Light" in _fonts(data)


def test_shows_markup_in_user_text_literally() -> None:
    row = _row(
        1, utc(2026, 11, 28, 14, 15), message="Pay <b>now</b> & save", reasons=({**QUIET_HOURS, "message": "<x>"},)
    )
    text = _text(_pdf([row]))
    assert "Pay <b>now</b> & save" in text
    assert "quiet-hours — <x>" in text


def test_truncates_messages_over_500_characters() -> None:
    row = _row(1, utc(2026, 11, 28, 14, 15), message="a" * 500 + "TAIL")
    text = _text(_pdf([row])).replace(" ", "")  # the long word wraps
    assert "a" * 500 + "…" in text
    assert "a" * 501 not in text and "TAIL" not in text


def test_header_names_the_debtor_the_export_and_the_policies() -> None:
    page = _pages(_pdf(_three_contacts()))[0]
    for expected in ("Contact history", "acme", "debtor-42", "all debts", "exp-0001", "reg-f@2026-01"):
        assert expected in page
    assert "2026-12-01 08:00:00 UTC" in page
    assert "2026-11-28 14:15:00 to 2026-11-30 16:00:00 UTC" in page


def test_header_names_the_account_when_the_report_is_for_one_debt() -> None:
    assert "acct-7" in _pages(_pdf(_three_contacts(), _header(account_id="acct-7")))[0]


def test_totals_count_each_channel_by_category() -> None:
    page = _pages(_pdf(_three_contacts()))[0]
    assert "email 1 0 0 1" in page
    assert "sms 1 0 1 2" in page
    assert "all 2 0 1 3" in page


def test_the_timeline_chart_has_a_legend_of_the_series_that_occur() -> None:
    page = _pages(_pdf(_three_contacts()))[0]
    assert "Contacts per day (UTC)" in page
    assert "sms sent" in page and "sms blocked" in page and "email sent" in page
    assert "sms deferred" not in page


def test_a_300_row_report_spans_several_pages_and_lists_every_contact() -> None:
    start = utc(2026, 9, 1, 13, 0)
    rows = [_row(n, start + timedelta(hours=5 * n), message=f"Reminder {n}. " * (n % 12 + 1)) for n in range(300)]
    pages = _pages(_pdf(rows))
    assert len(pages) > 5
    text = _text(_pdf(rows))
    assert all(f"c-{n:04d}" in text and f"Reminder {n}." in text for n in range(300))
    assert all(f"page {i}" in page and "exp-0001" in page for i, page in enumerate(pages, start=1))
    assert sum(page.count("When (UTC)") for page in pages) >= len(pages) - 1  # the header row repeats on each page


def test_notes_contacts_left_out_of_the_table() -> None:
    note = "37 further contacts are not listed here; the CSV and JSON Lines files hold every event."
    assert note in _text(_pdf(_three_contacts(), omitted=37))
    assert "further contacts" not in _text(_pdf(_three_contacts()))


def test_no_contacts_still_gives_a_valid_pdf() -> None:
    data = _pdf([], _header(first_at=None, last_at=None))
    assert data.startswith(b"%PDF")
    text = _text(data)
    assert "No contacts in this period." in text
    assert "Period covered no contacts" in text and "all 0 0 0 0" in text
    assert "When (UTC)" not in text


def test_the_same_inputs_give_the_same_bytes() -> None:
    assert _pdf(_three_contacts()) == _pdf(_three_contacts())


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("sent", "sent"),
        ("permitted", "sent"),
        ("unknown", "sent"),
        ("failed", "sent"),
        ("conversation", "sent"),
        ("unanswered", "sent"),
        ("voicemail", "sent"),
        ("not_connected", "sent"),
        ("scheduled", "deferred"),
        ("blocked", "blocked"),
        ("refused", "blocked"),
    ],
)
def test_category_counts_every_attempt_as_sent(status: str, expected: str) -> None:
    assert category(status) == expected


def test_daily_counts_group_by_utc_day_channel_and_category() -> None:
    new_york = timezone(timedelta(hours=-5))
    base = _row(0, utc(2026, 11, 28, 14, 0))
    rows = [
        base,
        replace(base, status="scheduled"),
        replace(base, channel="voice", status="voicemail"),
        replace(base, at=datetime(2026, 11, 28, 21, 30, tzinfo=new_york)),  # 02:30 UTC on the 29th
        replace(base, at=utc(2026, 11, 29, 9, 0), status="refused"),
    ]
    assert daily_counts(rows) == {
        date(2026, 11, 28): {("sms", "sent"): 1, ("sms", "deferred"): 1, ("voice", "sent"): 1},
        date(2026, 11, 29): {("sms", "sent"): 1, ("sms", "blocked"): 1},
    }


def test_a_row_without_a_final_status_is_counted_by_its_decision() -> None:
    base = _row(0, utc(2026, 11, 28, 14, 0), status="")
    rows = [replace(base, outcome="deny"), replace(base, outcome="defer"), replace(base, outcome="allow")]
    assert daily_counts(rows) == {
        date(2026, 11, 28): {("sms", "blocked"): 1, ("sms", "deferred"): 1, ("sms", "sent"): 1}
    }
    text = _text(_pdf(rows))
    assert "deny" in text and "deny /" not in text


def test_timeline_keeps_days_up_to_62_days_and_fills_the_gaps() -> None:
    days = {date(2026, 1, 1): {("sms", "sent"): 2}, date(2026, 3, 4): {("sms", "blocked"): 1}}  # 62 days apart
    line = timeline(days)
    assert line.unit == "day"
    assert len(line.buckets) == 63
    assert line.buckets[date(2026, 1, 2)] == {}
    assert line.buckets[date(2026, 3, 4)] == {("sms", "blocked"): 1}


def test_timeline_buckets_by_iso_week_beyond_62_days() -> None:
    days = {
        date(2026, 1, 1): {("sms", "sent"): 2},  # a Thursday: week of Monday 2025-12-29
        date(2026, 1, 4): {("sms", "sent"): 1, ("email", "deferred"): 1},  # the Sunday of that week
        date(2026, 3, 5): {("sms", "blocked"): 1},  # 63 days after the first
    }
    line = timeline(days)
    assert line.unit == "week"
    assert next(iter(line.buckets)) == date(2025, 12, 29)
    assert all(day.weekday() == 0 for day in line.buckets)
    assert line.buckets[date(2025, 12, 29)] == {("sms", "sent"): 3, ("email", "deferred"): 1}
    assert line.buckets[date(2026, 3, 2)] == {("sms", "blocked"): 1}
    assert len(line.buckets) == 10


def test_a_report_longer_than_62_days_says_its_chart_is_weekly() -> None:
    rows = [_row(1, utc(2026, 1, 1, 12, 0)), _row(2, utc(2026, 6, 1, 12, 0))]
    page = _pages(_pdf(rows))[0]
    assert "Contacts per ISO week (UTC" in page
