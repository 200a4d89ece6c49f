"""Whatever a message holds, folding it keeps a faithful map back to what was written."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.content_text import fold

# Letters, digits, spaces, the symbols the fold reads inside words, quotes, accents, full-width forms,
# look-alikes and Chinese: the alphabet of the messages the rules are written for, and of their tricks.
ALPHABET = st.sampled_from(list("aeiostnrAEIO 19@!|$0-._'’\"“”ÁéñüＡｂ１аеоＳ銀行你爆 通讯錄，。!?\n\t"))


@settings(max_examples=300, deadline=None)
@given(st.text(ALPHABET, max_size=60))
def test_every_folded_character_maps_to_an_earlier_or_equal_original_one(text):
    folded = fold(text)
    assert len(folded.origin) == len(folded.text)
    assert all(0 <= i < len(text) for i in folded.origin)
    assert list(folded.origin) == sorted(folded.origin)  # the fold never reorders the text


@settings(max_examples=300, deadline=None)
@given(st.text(ALPHABET, min_size=1, max_size=60), st.data())
def test_any_span_of_the_folded_text_masks_without_error(text, data):
    folded = fold(text)
    if folded.text:
        start = data.draw(st.integers(0, len(folded.text) - 1))
        end = data.draw(st.integers(start + 1, len(folded.text)))
        original = folded.original(start, end)
        assert original and original in text
        masked = folded.masked(start, end)
        assert len(masked.split()) == len(original.split())


def test_folding_is_stable():
    once = fold("Ｗｅ ｗｏｎ'ｔ  c-a-l-l  y o u r  b o s s, 銀行").text
    assert fold(once).text == once
