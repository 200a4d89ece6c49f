"""The content rule kind: what a message must say, and must not.

A rule names categories of forbidden content (``content_words``), its own ``forbidden`` patterns, and
required elements (``required_any``: one of them; ``required_all``: each of them). It may be limited to
recipient roles, to messages a collection agency sends, or to a collector's initial communication. All
patterns run on the folded text (``content_text``): case, full-width forms, spacing, look-alikes and
traditional characters folded; ``required_any`` and ``forbidden`` also on the text as written, as before.
Its violations are ``permanent``: no waiting satisfies them, so the decision is ``deny``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, PrivateAttr, field_validator

from chalicelib.domain.content_scan import Words, compile_category, scan
from chalicelib.domain.content_text import Folded, fold
from chalicelib.domain.content_words import Category
from chalicelib.domain.model import Channel, ContactRequest, Purpose, RecipientRole, Result
from chalicelib.domain.rules.base import BaseRule, Context

# An earlier communication with the debtor about the account: what makes this one "subsequent".
_COMMUNICATED = frozenset({Result.SENT, Result.DELIVERED, Result.CONVERSATION})


def _compiles(value: tuple[str, ...]) -> tuple[str, ...]:
    for pattern in value:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"pattern {pattern!r} does not compile: {exc}") from exc
    return value


class Allow(BaseModel):
    """Words a pack lets pass for some purposes (a lawful notice of an actual judgment: 法院判决)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    pattern: str
    purposes: tuple[Purpose, ...] | None = None  # None: whatever the purpose

    @field_validator("pattern")
    @classmethod
    def _pattern_compiles(cls, value: str) -> str:
        return _compiles((value,))[0]


@dataclass(frozen=True)
class Finding:
    """What one rule found: a category (or "required"), the masked span and the detail for the decision."""

    category: str
    span: str
    detail: str


class ContentRule(BaseRule):
    """A message must carry the required elements and none of the forbidden content."""

    kind: Literal["content"]
    permanent: bool = True
    channels: tuple[Channel, ...] = (Channel.SMS, Channel.EMAIL)
    required_any: tuple[str, ...] = ()  # regular expressions, case-insensitive: one must match
    required_all: tuple[str, ...] = ()  # each must match
    forbidden: tuple[str, ...] = ()
    categories: tuple[Category, ...] = ()
    allow: tuple[Allow, ...] = ()
    roles: tuple[RecipientRole, ...] | None = None  # None: every recipient role
    agency_only: bool = False  # only messages a collection agency asks for (``request.agency``)
    communications: Literal["any", "initial"] = "any"
    _compiled: Any = PrivateAttr(default=None)

    @field_validator("required_any", "required_all", "forbidden")
    @classmethod
    def _patterns_compile(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _compiles(value)

    def model_post_init(self, context: Any, /) -> None:
        self._compiled = _Compiled.of(self)

    def applies(self, request: ContactRequest) -> bool:
        return (
            super().applies(request)
            and (self.roles is None or request.recipient_role in self.roles)
            and (not self.agency_only or request.agency is not None)
        )

    def judge(self, folded: Folded, purpose: Purpose | None = None) -> list[Finding]:
        """Every finding on this folded text: required elements missing, then forbidden content."""
        compiled: _Compiled = self._compiled
        found = [Finding("required", "", "the message lacks the required text")] if compiled.lacks(folded) else []
        allowed = [a for a, purposes in compiled.allow if purposes is None or purpose in purposes]
        for hit in scan(folded, compiled.forbidden, allowed):
            span = folded.masked(hit.start, hit.end)
            found.append(Finding(hit.category, span, f"{hit.category.replace('_', ' ')}: «{span}»"))
        return found

    @property
    def timeless(self) -> bool:
        return True

    def violation(self, ctx: Context, at: datetime) -> str | None:
        request = ctx.request
        if self.communications == "initial" and _communicated_before(ctx):
            return None
        found = self.judge(folded_message(ctx), request.purpose)
        return "; ".join(f.detail for f in found) or None

    def boundaries(self, ctx: Context, start: datetime, end: datetime) -> Iterable[datetime]:
        return ()


_FOLDED: dict[str, Folded] = {}  # per process: a text's folding is pure, and a text is often judged again
_FOLDED_KEPT = 1024  # texts; cleared whole when full


def folded_message(ctx: Context) -> Folded:
    """The request's subject and body, folded once per evaluation (every content rule reads it), and kept
    for the next decision on the same text (a replay judges each message under two policy sets)."""
    memo = ctx.memo.get("content-folded")
    if not isinstance(memo, Folded):
        message = ctx.request.message
        text = f"{message.subject or ''}\n{message.body}" if message else ""
        memo = _FOLDED.get(text)
        if memo is None:
            if len(_FOLDED) >= _FOLDED_KEPT:
                _FOLDED.clear()
            memo = _FOLDED[text] = fold(text)
        ctx.memo["content-folded"] = memo
    return memo


def _communicated_before(ctx: Context) -> bool:
    """The history shows this collector communicated with the debtor about the account already.

    The history is the ledger's recent window: an older communication is not seen, and the message is
    judged as initial (the fuller disclosure), the stricter reading."""
    request = ctx.request
    return any(
        record.account_id == request.account_id
        and record.recipient_role is RecipientRole.DEBTOR
        and record.agency == request.agency
        and record.result in _COMMUNICATED
        for record in ctx.history
    )


@dataclass(frozen=True)
class _Compiled:
    """A rule's patterns, compiled once when the pack loads."""

    any_of: tuple[re.Pattern[str], ...]
    all_of: tuple[re.Pattern[str], ...]
    forbidden: tuple[Words, ...]
    allow: tuple[tuple[re.Pattern[str], tuple[Purpose, ...] | None], ...]

    @classmethod
    def of(cls, rule: ContentRule) -> _Compiled:
        def flags(patterns: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
            return tuple(re.compile(p, re.IGNORECASE) for p in patterns)

        own = tuple(Words("forbidden", p) for p in flags(rule.forbidden))
        return cls(
            any_of=flags(rule.required_any),
            all_of=flags(rule.required_all),
            forbidden=(*(w for c in rule.categories for w in compile_category(c)), *own),
            allow=tuple((re.compile(a.pattern, re.IGNORECASE), a.purposes) for a in rule.allow),
        )

    def lacks(self, folded: Folded) -> bool:
        def found(pattern: re.Pattern[str]) -> bool:
            return bool(pattern.search(folded.text) or pattern.search(folded.source))

        return bool(self.any_of and not any(found(p) for p in self.any_of)) or not all(found(p) for p in self.all_of)
