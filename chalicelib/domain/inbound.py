"""Reading an inbound SMS reply as the person means it: opt-out, cease, wrong party, dispute, opt-in, help.

Over-contact is the violation: between opt-out and "something for a human", opt out (a lost message
is late; a message after STOP is a violation). A reply that contains a revocation word counts even when
it says more, except under a clear negation (reply_words). Every result names the words that decided it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import cache

from chalicelib.domain import reply_text
from chalicelib.domain.reply_words import (
    CEASE,
    DISPUTE,
    FILLER,
    HELP_WORDS,
    IDIOM_AFTER,
    IDIOM_BEFORE,
    NEGATION,
    NOT_NEGATION,
    OPT_IN_WORDS,
    OPT_OUT,
    OPT_OUT_WORDS,
    WRONG_PARTY,
    ZH_FILLER,
    ZH_NEGATION,
)


class Reply(StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"
    UNRECOGNISED = "unrecognised"
    CEASE = "cease"
    WRONG_PARTY = "wrong_party"
    DISPUTE = "dispute"


REVOCATIONS = frozenset({Reply.OPT_OUT, Reply.CEASE})
_CALLS = re.compile(r"call|phon|电话|打")


@dataclass(frozen=True)
class Classification:
    """What a reply means, the words that decided it, and a revocation a negation or idiom set aside."""

    reply: Reply
    matched: str | None = None
    set_aside: str | None = None

    @property
    def about_calls(self) -> bool:
        """The person named calls ("stop calling me", 别打电话): the number's voice opt-out too."""
        return self.matched is not None and bool(_CALLS.search(self.matched))


@cache
def _tables() -> tuple[tuple[Reply, tuple[re.Pattern[str], ...]], ...]:
    """The patterns, compiled on the first reply read: a function that reads none never pays for them."""
    return (
        (Reply.CEASE, tuple(re.compile(p) for p in CEASE)),
        (Reply.OPT_OUT, tuple(re.compile(p) for p in OPT_OUT)),
        (Reply.WRONG_PARTY, tuple(re.compile(p) for p in WRONG_PARTY)),
        (Reply.DISPUTE, tuple(re.compile(p) for p in DISPUTE)),
    )


def _set_aside(clause: str, match: re.Match[str]) -> bool:
    before, after = clause[: match.start()], clause[match.end() :]
    if NOT_NEGATION.search(before):
        return False
    if re.match(r"[\u3400-\u9fff]", match.group()):
        return bool(ZH_NEGATION.search(before))
    return bool(NEGATION.search(before) or IDIOM_AFTER.match(after) or IDIOM_BEFORE.search(before))


def _context(clause: str, match: re.Match[str]) -> str:
    """The match and the two words after it: "stop calling me", enough to tell what was revoked."""
    tail = clause[match.end() :].split()[:2]
    return " ".join([match.group(), *tail]) if match.group().isascii() else match.group()


def _find(clauses: list[str]) -> tuple[dict[Reply, str], str | None]:
    found: dict[Reply, str] = {}
    set_aside: str | None = None
    for reply, patterns in _tables():
        for clause in clauses:
            for pattern in patterns:
                for match in pattern.finditer(clause):
                    if _set_aside(clause, match):
                        set_aside = set_aside or clause
                    else:
                        found.setdefault(reply, _context(clause, match))
    return found, set_aside


def _only(words: list[str], joined: str, keywords: frozenset[str]) -> str | None:
    """The keyword when the reply is that keyword alone, with filler: "Stop please", "S T O P", "取消吧"."""
    if joined in keywords or ZH_FILLER.sub("", joined) in keywords:
        return joined if joined in keywords else ZH_FILLER.sub("", joined)
    hits = [w for w in words if w in keywords]
    return " ".join(hits) if hits and all(w in keywords or w in FILLER for w in words) else None


def classify_reply(body: str) -> Classification:
    clauses, joined = reply_text.clauses(body), reply_text.joined(body)
    words = " ".join(clauses).split()
    keyword = _only([w for w in words if w != "t"], joined, OPT_OUT_WORDS) or (joined if joined == "t" else None)
    found, set_aside = _find(clauses)
    if Reply.CEASE in found:
        return Classification(Reply.CEASE, found[Reply.CEASE])
    if keyword or Reply.OPT_OUT in found:
        return Classification(Reply.OPT_OUT, keyword or found[Reply.OPT_OUT])
    for reply in (Reply.WRONG_PARTY, Reply.DISPUTE):
        if reply in found:
            return Classification(reply, found[reply])
    for reply, keywords in ((Reply.OPT_IN, OPT_IN_WORDS), (Reply.HELP, HELP_WORDS)):
        if matched := _only(words, joined, keywords):
            return Classification(reply, matched)
    return Classification(Reply.UNRECOGNISED, None, set_aside)


def classify(body: str) -> Reply:
    return classify_reply(body).reply
