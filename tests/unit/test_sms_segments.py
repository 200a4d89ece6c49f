"""SMS segments as carriers bill them: GSM-7 160/153 septets (extension characters cost two), else UCS-2
70/67 code units (a character outside the BMP costs two); a pair never straddles two segments."""

from __future__ import annotations

import pytest

from chalicelib.domain.sms import segments


@pytest.mark.parametrize(
    ("text", "encoding", "count"),
    [
        ("a" * 160, "GSM-7", 1),
        ("a" * 161, "GSM-7", 2),
        ("a" * 306, "GSM-7", 2),
        ("a" * 307, "GSM-7", 3),
        ("€" * 80, "GSM-7", 1),  # 160 septets: the euro sign is in the extension table
        ("€" * 81, "GSM-7", 2),
        ("a" * 159 + "[", "GSM-7", 2),  # 161 septets
        ("Pay £120 @ 5% by 2026-03-02. Reply STOP to opt out.", "GSM-7", 1),
        ("中" * 70, "UCS-2", 1),
        ("中" * 71, "UCS-2", 2),
        ("中" * 134, "UCS-2", 2),
        ("中" * 135, "UCS-2", 3),
        ("a" * 69 + "’", "UCS-2", 1),  # one curly apostrophe makes the whole text UCS-2
        ("a" * 70 + "’", "UCS-2", 2),
        ("😀" * 35, "UCS-2", 1),  # 70 code units
        ("😀" * 36, "UCS-2", 2),
    ],
)
def test_segments_are_counted_as_carriers_count_them(text, encoding, count):
    found = segments(text)
    assert (found.encoding, found.count) == (encoding, count)


def test_an_extension_character_at_a_segment_boundary_starts_the_next_segment():
    # 152 septets, then "{" (2): 154 would not fit in the first segment of 153, so it moves on whole.
    text = "a" * 152 + "{" + "a" * 152
    assert segments(text).units == 306
    assert segments(text).count == 3  # 152 | 2 + 151 | 1: a naive 306/153 would say 2


def test_a_surrogate_pair_at_a_segment_boundary_starts_the_next_segment():
    text = "a" * 66 + "😀" + "中" * 66  # 66 + 2 + 66 = 134 units, but the emoji cannot split at 67
    assert segments(text).units == 134
    assert segments(text).count == 3
