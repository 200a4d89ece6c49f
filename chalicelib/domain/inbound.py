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
    {"stop", "stopall", "quit", "end", "revoke", "optout", "cancel", "unsubscribe", "退订", "退訂", "td", "t", "取消"}
)
OPT_IN_WORDS = frozenset({"start", "unstop"})
HELP_WORDS = frozenset({"help", "info", "帮助"})
# Words that may stand beside a keyword without changing it: "stop please", "STOP STOP", "opt out now".
FILLER_WORDS = frozenset({"please", "pls", "it", "now", "thanks", "thank", "you", "all", "me", "out", "opt"})
OPT_OUT_PHRASES = (
    r"\bstop (texting|messaging|contacting|calling|sending)\b",
    r"\bplease stop\b",
    r"\b(do not|don t|dont) (text|message|contact|call) me\b",  # punctuation is folded: don't -> don t
    r"\bno more (texts|messages)\b",
    r"\bleave me alone\b",
    r"\bremove me\b",
    r"\bunsubscribe me\b",
    r"\bopt me out\b",
    r"不要再发",
    r"别再发",
)
# A phrase right after a negation, or in a question or condition, is not a request to stop.
NEGATED = re.compile(r"\b(don t|do not|dont|never|not) (\w+ )?$")
NOT_A_REQUEST = re.compile(r"\b(if|when|why|can you|could you|would you|did you)\b")
# Look-alike letters from other scripts that NFKC leaves alone (Cyrillic, Greek).
CONFUSABLES = str.maketrans("ЅТОРАЕСНКМХВІЈѕтораесхкміјΤΟΡΑΕΗΚΜΧΒΙ", "STOPAECHKMXBIJstopaecxkmijTOPAEHKMXBI")


def _folded(body: str) -> str:
    text = unicodedata.normalize("NFKC", body).translate(CONFUSABLES).casefold()
    text = "".join(" " if unicodedata.category(c)[0] in "PSZC" else c for c in text)
    return " ".join(text.split())


def _phrase_opt_out(text: str) -> bool:
    if NOT_A_REQUEST.search(text):
        return False
    for pattern in OPT_OUT_PHRASES:
        for match in re.finditer(pattern, text):
            if not NEGATED.search(text[: match.start()]):
                return True
    return False


def _keywords_only(text: str, keywords: frozenset[str]) -> bool:
    words = re.sub(r"\bopt out\b", "optout", text).split()
    if "".join(words) in keywords:  # "opt out", "S T O P"
        return True
    return any(w in keywords for w in words) and all(w in keywords or w in FILLER_WORDS for w in words)


def classify(body: str) -> Reply:
    text = _folded(body)
    if _keywords_only(text, OPT_OUT_WORDS - {"t"}) or text.replace(" ", "") in OPT_OUT_WORDS:
        return Reply.OPT_OUT
    if _keywords_only(text, OPT_IN_WORDS):
        return Reply.OPT_IN
    if _keywords_only(text, HELP_WORDS):
        return Reply.HELP
    if _phrase_opt_out(text):
        return Reply.OPT_OUT
    return Reply.UNRECOGNISED
