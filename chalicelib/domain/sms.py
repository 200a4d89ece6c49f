"""How many SMS segments a text costs, counted as carriers count them (3GPP TS 23.038 and 23.040).

A text is GSM-7 when every character is in the default alphabet or its extension table (an extension
character costs two septets: the escape and itself); otherwise it goes as UCS-2, in UTF-16 code units (a
character outside the Basic Multilingual Plane, an emoji, costs two). One segment holds 160 septets or 70
units; a longer text is split into segments of 153 septets or 67 units, the rest of each taken by the
concatenation header. A split never cuts an escape pair or a surrogate pair: that character starts the
next segment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

# (one segment alone, each segment of a longer text)
LIMITS = {"GSM-7": (160, 153), "UCS-2": (70, 67)}

Encoding = Literal["GSM-7", "UCS-2"]


@dataclass(frozen=True)
class Segments:
    encoding: Encoding
    count: int
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)


def encoding_of(text: str) -> Encoding:
    return "GSM-7" if all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text) else "UCS-2"


def _cost(char: str, encoding: Encoding) -> int:
    if encoding == "GSM-7":
        return 2 if char in GSM7_EXTENSION else 1
    return 2 if ord(char) > 0xFFFF else 1


def segments(text: str) -> Segments:
    """The encoding a carrier sends ``text`` in and how many segments it bills (at least one)."""
    encoding = encoding_of(text)
    single, each = LIMITS[encoding]
    costs = [_cost(c, encoding) for c in text]
    units = sum(costs)
    if units <= single:
        return Segments(encoding, 1, units)
    count, used = 1, 0
    for cost in costs:
        if used + cost > each:  # a pair never straddles two segments
            count, used = count + 1, 0
        used += cost
    return Segments(encoding, count, units)
