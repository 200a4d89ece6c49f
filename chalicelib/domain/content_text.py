"""Folding a message before the content rules read it: one spelling for what a writer may type many ways.

Each folded character remembers the original character it came from, so a finding can point at (and
mask) the words the writer actually typed. The folds, in order:

- NFKC (full-width ``ＡＢＣ`` and ``１２３``), look-alike letters of other scripts (Cyrillic ``а``), case,
  accents on Latin letters (``cárcel`` -> ``carcel``);
- traditional Chinese to simplified (``銀行`` -> ``银行``, ``通訊錄`` -> ``通讯录``), character by character
  with zhconv's single-character table (``traditional_chars.json``), read only for a text with Chinese;
- contractions spelled out (``won't`` -> ``will not``, ``we'll`` -> ``we will``);
- symbols and digits inside words read as the letters they stand for (``j@il``, ``b!tch``, ``st0p``);
- hyphens and dots inside words dropped (``em-ployer``), letters spaced out joined (``a r r e s t``),
  spaces between Chinese characters dropped (``爆 通 讯 录``), other runs of spaces made one.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, cached_property
from importlib import resources

from chalicelib.domain.content_words import CLAUSE_BREAK

# Look-alike letters that NFKC leaves alone: Cyrillic and Greek capitals and small letters.
CONFUSABLES = str.maketrans(
    "АВЕЅІЈКМНОРСТХУаеіјоорсхуѕԁһӏΑΒΕΗΙΚΜΝΟΡΤΧΥΖοαιρτνυκ",
    "ABESIJKMHOPCTXYaeijoopcxysdhlABEHIKMNOPTXYZoaiptvuk",
)
_HAN = re.compile(r"[\u3400-\u9fff]")
_CLAUSE = re.compile(CLAUSE_BREAK)
_MASK = "*"


@dataclass(frozen=True)
class Folded:
    """The folded text, and for each of its characters the index of the original one."""

    source: str
    text: str
    origin: tuple[int, ...]

    def original(self, start: int, end: int) -> str:
        """The original text that folded into ``text[start:end]``."""
        if start >= end:
            return ""
        return self.source[self.origin[start] : self.origin[end - 1] + 1]

    def masked(self, start: int, end: int) -> str:
        return mask(self.original(start, end))

    @cached_property
    def clause_starts(self) -> tuple[int, ...]:
        """Where each clause of the folded text starts (a negation binds within its clause only)."""
        return (0, *(m.end() for m in _CLAUSE.finditer(self.text)))


def mask(span: str) -> str:
    """The first character of each word kept, the rest starred: enough to find it, not to repeat it.

    A word of one character is starred too, but for the first: spaced-out letters stay hidden."""
    words = span.split()
    return " ".join(w[0] + _MASK * (len(w) - 1) if len(w) > 1 or i == 0 else _MASK for i, w in enumerate(words))


_Text = tuple[str, list[int]]  # a text being folded, and each character's origin


def _sub(folding: _Text, pattern: re.Pattern[str], repl: Callable[[re.Match[str]], str]) -> _Text:
    """``pattern.sub`` keeping origins: a replacement takes the origin of its match's start."""
    text, origin = folding
    if not pattern.search(text):
        return folding
    parts: list[str] = []
    origins: list[int] = []
    last = 0
    for match in pattern.finditer(text):
        parts.append(text[last : match.start()])
        origins += origin[last : match.start()]
        replacement = repl(match)
        parts.append(replacement)
        origins += _origins(match, replacement, origin)
        last = match.end()
    parts.append(text[last:])
    return "".join(parts), origins + origin[last:]


def _origins(match: re.Match[str], replacement: str, origin: list[int]) -> list[int]:
    """A replacement that only drops characters keeps each one's origin; any other spans the whole match."""
    matched, kept = match.group(), list[int]()
    for index, char in enumerate(matched):
        if len(kept) < len(replacement) and char == replacement[len(kept)]:
            kept.append(origin[match.start() + index])
    if len(kept) == len(replacement):
        return kept
    first, last = origin[match.start()], origin[max(match.end() - 1, match.start())]
    return [first] * (len(replacement) - 1) + [last] if replacement else []


def _unaccented(char: str) -> str:
    """A Latin letter without its accents (``á`` -> ``a``, ``ñ`` -> ``n``); anything else as it is."""
    bare = "".join(c for c in unicodedata.normalize("NFD", char) if not unicodedata.combining(c))
    return bare if bare.isascii() else char


def _letters(text: str) -> _Text:
    if text.isascii():
        return text.lower(), list(range(len(text)))
    chars, origin = [], []
    for index, char in enumerate(text):
        folded = _unaccented(unicodedata.normalize("NFKC", char).translate(CONFUSABLES).casefold())
        chars.append(folded)
        origin += [index] * len(folded)
    return "".join(chars), origin


@cache
def _traditional() -> dict[int, int]:
    """zhconv's single-character conversions to simplified (``tools/data/traditional_chars.py``)."""
    table = json.loads(resources.files("chalicelib.domain").joinpath("traditional_chars.json").read_text("utf-8"))
    return str.maketrans(table["traditional"], table["simplified"])


def _simplified(folding: _Text) -> _Text:
    text, origin = folding
    if not _HAN.search(text):
        return folding
    return text.translate(_traditional()), origin


_CONTRACTION_WORDS = {"won": "will not", "can": "can not", "n": " not", "ll": " will", "re": " are", "m": " am"}
_CONTRACTION_WORDS |= {"ve": " have", "d": " would"}
_CONTRACTIONS = re.compile(r"\b(won|can)['’]t\b|(n)['’]t\b|['’](ll|re|m|ve|d)\b")
_LEET = (
    (re.compile(r"(?<=[a-z])[@4](?=[a-z])|@(?=[a-z]{2})"), "a"),
    (re.compile(r"(?<=[a-z])[!1|](?=[a-z])"), "i"),
    (re.compile(r"(?<=[a-z])0(?=[a-z]|\b)|\b0(?=[a-z])"), "o"),
    (re.compile(r"(?<=[a-z])3(?=[a-z])"), "e"),
    (re.compile(r"(?<=[a-z])\$|\$(?=[a-z])"), "s"),
)
_LEET_CHARS = re.compile(r"[@4!1|03$]")
_JOINED = re.compile(r"(?<=[a-z])[-‐‑_.](?=[a-z])")
_SPACED = re.compile(r"(?<![a-z0-9])[a-z](?: [a-z](?![a-z0-9])){2,}")
_HAN_SPACE = re.compile(r"(?<=[\u3400-\u9fff】【]) +(?=[\u3400-\u9fff】【])")
_SPACES = re.compile(r"\s{2,}|[^\S ]")  # what is not already one space


def _contraction(match: re.Match[str]) -> str:
    return _CONTRACTION_WORDS[match.group(1) or match.group(2) or match.group(3)]


def _constant(text: str) -> Callable[[re.Match[str]], str]:
    return lambda _: text


def fold(text: str) -> Folded:
    folding = _simplified(_letters(text))
    if "'" in folding[0] or "’" in folding[0]:
        folding = _sub(folding, _CONTRACTIONS, _contraction)
    if _LEET_CHARS.search(folding[0]):
        for pattern, replacement in _LEET:
            folding = _sub(folding, pattern, _constant(replacement))
    folding = _sub(folding, _JOINED, _constant(""))
    folding = _sub(folding, _SPACED, lambda m: m.group().replace(" ", ""))
    folding = _sub(folding, _HAN_SPACE, _constant(""))
    folding = _sub(folding, _SPACES, _constant(" "))
    return Folded(source=text, text=folding[0], origin=tuple(folding[1]))
