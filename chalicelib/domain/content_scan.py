"""Finding forbidden content in a folded text: the categories' words, less what a negation or the pack's
allow-list sets aside.

A negatable category's match is set aside when a negation (or a warning: "beware", "谨防", "冒充") stands
before it in the same clause, within ``NEGATION_WORDS`` words (English) or ``ZH_NEGATION_CHARS``
characters (Chinese), and is not itself a figure of speech ("no choice but", "if you do not pay",
"别以为我们不敢"). Clauses end at sentence and clause punctuation and at "but" / "但".
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from chalicelib.domain import content_words as words
from chalicelib.domain.content_text import Folded

_HAN = re.compile(r"[\u3400-\u9fff]")
# Quoted words are reported speech: '"You will be arrested" is something we never say'.
_QUOTED = re.compile(
    r"\"[^\"]{1,200}\"|“[^”]{1,200}”|‘[^’]{1,200}’|(?<![a-z])'[^']{1,200}'(?![a-z])|「[^」]{1,200}」|『[^』]{1,200}』"
)
_SENTENCE = re.compile(r"[.!?。！？\n]")
_NEGATION = re.compile(words.NEGATION)
_NOT_NEGATION = re.compile(words.NOT_NEGATION)
_ZH_NEGATION = re.compile(words.ZH_NEGATION)
_ZH_NOT_NEGATION = re.compile(words.ZH_NOT_NEGATION)


@dataclass(frozen=True)
class Hit:
    """One forbidden match: its category (or "forbidden" for a pack's own pattern) and where it folded to."""

    category: str
    start: int
    end: int


class Words(NamedTuple):
    """A category's patterns, compiled; ``han``: Chinese ones, skipped for a text without Chinese."""

    category: str
    pattern: re.Pattern[str]
    han: bool = False


def compile_category(category: str) -> tuple[Words, ...]:
    """Two patterns a category: its Chinese words and the others, so a text runs only what it can match."""
    han = [p for p in words.WORDS[category] if _HAN.search(p)]
    latin = [p for p in words.WORDS[category] if not _HAN.search(p)]
    both = ((latin, False), (han, True))
    return tuple(Words(category, re.compile("|".join(f"(?:{p})" for p in ps)), h) for ps, h in both if ps)


def _negated(prefix: str, negation: re.Pattern[str], not_negation: re.Pattern[str]) -> bool:
    cancels = [(m.start(), m.end()) for m in not_negation.finditer(prefix)]
    for found in negation.finditer(prefix):
        if not any(start <= found.start() < end for start, end in cancels):
            return True
    return False


def set_aside(text: str, start: int, clause_starts: Sequence[int]) -> bool:
    """A negation or warning governs the match at ``start`` (see the module's docstring)."""
    clause = clause_starts[bisect.bisect_right(clause_starts, start) - 1]
    before = text[clause:start]
    if _HAN.match(text, start):
        window = before[-words.ZH_NEGATION_CHARS :]
        if _negated(window, _ZH_NEGATION, _ZH_NOT_NEGATION):
            return True
    window = " ".join(before.split()[-words.NEGATION_WORDS :])
    return _negated(f"{window} ", _NEGATION, _NOT_NEGATION)


def reported(text: str, start: int, quotes: Sequence[tuple[int, int]]) -> bool:
    """The match is quoted, and its sentence or the next one denies or warns against it."""
    for begin, end in quotes:
        if begin < start < end:
            before = [m.end() for m in _SENTENCE.finditer(text, 0, begin)]
            after = [m.end() for m in _SENTENCE.finditer(text, end)][:2]
            context = text[before[-1] if before else 0 : begin] + " " + text[end : after[-1] if after else len(text)]
            return _negated(f" {context} ", _NEGATION, _NOT_NEGATION) or bool(_ZH_NEGATION.search(context))
    return False


def scan(
    folded: Folded,
    patterns: Iterable[Words],
    allowed: Sequence[re.Pattern[str]] = (),
) -> list[Hit]:
    """Every match of the (category, pattern) pairs not set aside, in the order of the text."""
    text, hits = folded.text, []
    starts = folded.clause_starts
    quotes = [(m.start(), m.end()) for m in _QUOTED.finditer(text)]
    exempt = [(m.start(), m.end()) for pattern in allowed for m in pattern.finditer(text)]
    has_han = bool(_HAN.search(text))
    for category, pattern, han in patterns:
        if han and not has_han:
            continue
        for match in pattern.finditer(text):
            if match.end() == match.start() or any(s <= match.start() < e for s, e in exempt):
                continue
            negatable = category in words.NEGATABLE
            if negatable and (set_aside(text, match.start(), starts) or reported(text, match.start(), quotes)):
                continue
            hits.append(Hit(category, match.start(), match.end()))
    return sorted(hits, key=lambda hit: hit.start)
