"""Reading an inbound SMS reply: opt-out, opt-in, help, or something for a human.

Case-, width-, space- and punctuation-insensitive (NFKC folds full-width letters and digits), with
the carrier keywords, the TCPA per-se revocation words (47 CFR 64.1200(a)(10)), the Chinese ones
(退订, TD, T, 取消) and phrases a reasonable person would read as "stop".
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum


class Reply(StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"
    UNRECOGNISED = "unrecognised"


OPT_OUT_WORDS = frozenset(
    {"stop", "stopall", "quit", "end", "revoke", "optout", "cancel", "unsubscribe", "退订", "td", "t", "取消"}
)
OPT_IN_WORDS = frozenset({"start", "unstop"})
HELP_WORDS = frozenset({"help", "info", "帮助"})
OPT_OUT_PHRASES = (
    r"\bstop (texting|messaging|contacting|calling|sending)\b",
    r"\bplease stop\b",
    r"\b(do not|don t|dont) (text|message|contact|call)\b",  # punctuation is folded: don't -> don t
    r"\bno more (texts|messages)\b",
    r"\bleave me alone\b",
    r"\bremove me\b",
    r"\bunsubscribe me\b",
    r"\bopt me out\b",
    r"不要再发",
    r"别再发",
)


def _folded(body: str) -> str:
    text = unicodedata.normalize("NFKC", body).casefold()
    text = "".join(" " if unicodedata.category(c)[0] in "PSZC" else c for c in text)
    return " ".join(text.split())


def classify(body: str) -> Reply:
    text = _folded(body)
    compact = text.replace(" ", "")
    if compact in OPT_OUT_WORDS:
        return Reply.OPT_OUT
    if compact in OPT_IN_WORDS:
        return Reply.OPT_IN
    if compact in HELP_WORDS:
        return Reply.HELP
    if any(re.search(p, text) for p in OPT_OUT_PHRASES):
        return Reply.OPT_OUT
    return Reply.UNRECOGNISED
