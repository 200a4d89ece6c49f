"""Folding a reply's text before it is read: one spelling for what a person may type many ways.

NFKC folds full-width letters and digits; look-alike letters from other scripts and traditional
characters fold to one form; "don't" becomes "dont" and "non-stop" becomes "nonstop" before
punctuation, symbols and emoji split the text into clauses (a negation binds within its clause only).
"""

from __future__ import annotations

import re
import unicodedata

# Look-alike letters from other scripts that NFKC leaves alone (Cyrillic, Greek).
CONFUSABLES = str.maketrans("ЅТОРАЕСНКМХВІЈѕтораесхкміјΤΟΡΑΕΗΚΜΧΒΙ", "STOPAECHKMXBIJstopaecxkmijTOPAEHKMXBI")
# Traditional characters the word tables use, folded to simplified (退訂 -> 退订, 別再發 -> 别再发).
TRADITIONAL = str.maketrans(
    "訂閱別給發簡訊請聯繫絡還經錯認識騷擾話電號碼債務幫謝們個這嗎說來時異議盜錢帳戶貸擊絕煩讓訴撥護與關勿",
    "订阅别给发简讯请联系络还经错认识骚扰话电号码债务帮谢们个这吗说来时异议盗钱账户贷击绝烦让诉拨护与关勿",
)
_CONTRACTION = re.compile(r"(\w)n['’]t\b")  # don't -> dont, won't -> wont, isn't -> isnt
_JOINED = re.compile(r"(?<=\w)[-‐‑_.](?=\w)")  # opt-out -> optout, non-stop -> nonstop, s.t.o.p -> stop
_DIGIT_O = re.compile(r"(?<=[a-z])0|0(?=[a-z])")  # st0p -> stop
_CJK = re.compile(r"(?<=[\u3400-\u9fff]) +|(?<=[a-z0-9]) +(?=[\u3400-\u9fff])|(?<=[\u3400-\u9fff]) +(?=[a-z0-9])")


def _letters(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).translate(CONFUSABLES).casefold().translate(TRADITIONAL)
    return _DIGIT_O.sub("o", _JOINED.sub("", _CONTRACTION.sub(r"\1nt", text)))


def _is_break(char: str) -> bool:
    return unicodedata.category(char)[0] in "PSC" and char not in "'’"


def clauses(body: str) -> list[str]:
    """The reply's clauses, each lower-case, with single spaces and no space between Chinese characters."""
    text = "".join("\n" if _is_break(c) else c for c in _letters(body))
    found = (" ".join(part.replace("'", " ").replace("’", " ").split()) for part in text.split("\n"))
    return [_CJK.sub("", part) for part in found if part]


def words(body: str) -> list[str]:
    """Every word of the reply, clauses joined."""
    return " ".join(clauses(body)).split()


def joined(body: str) -> str:
    """Letters and digits alone: "S T O P", "s-t-o-p" and "Ｔ Ｄ" are one word."""
    return "".join(c for c in _letters(body) if c.isalnum())
