"""Folding a message before the content rules read it, and masking what they found."""

from __future__ import annotations

import pytest

from chalicelib.domain.content_text import fold, mask


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("Ｙｏｕ ｗｉｌｌ ｂｅ ａｒｒｅｓｔｅｄ", "you will be arrested"),  # full-width
        ("You will be a r r e s t e d", "you will be arrested"),  # spaced out
        ("Wе wіll соntасt yоur еmрlоyеr", "we will contact your employer"),  # Cyrillic look-alikes
        ("We'll contact your em-ployer", "we will contact your employer"),
        ("We won't, they can't, you don't", "we will not, they can not, you do not"),
        ("j@il, b!tch, st0p", "jail, bitch, stop"),
        ("【安信銀行】我們不會聯繫您的單位", "【安信银行】我们不会联系您的单位"),  # traditional
        ("爆 通 讯 录", "爆通讯录"),
        ("Pay   now\n\nplease", "pay now please"),
        ("Irá a la CÁRCEL, señor", "ira a la carcel, senor"),  # accents on Latin letters
    ],
)
def test_a_text_folds_to_one_spelling(written, read):
    assert fold(written).text == read


def test_each_folded_character_points_back_at_what_was_written():
    folded = fold("You will be a r r e s t e d tomorrow")
    start = folded.text.index("arrested")
    assert folded.original(start, start + len("arrested")) == "a r r e s t e d"
    wide = fold("Ｙｏｕ ｗｉｌｌ ｂｅ ａｒｒｅｓｔｅｄ.")
    assert wide.original(12, 20) == "ａｒｒｅｓｔｅｄ"


def test_a_span_is_masked_but_for_the_first_character_of_each_word():
    assert mask("arrested") == "a*******"
    assert mask("contact your employer") == "c****** y*** e*******"
    assert mask("爆通讯录") == "爆***"
    assert mask("a r r e s t") == "a * * * * *" and mask("爆 通 讯 录") == "爆 * * *"
    assert fold("Pay or go to JAIL").masked(13, 17) == "J***"


def test_a_plain_ascii_text_is_only_lower_cased():
    folded = fold("Reply STOP to opt out")
    assert folded.text == "reply stop to opt out" and folded.origin == tuple(range(21))
