"""The content rule kind: what a message must say, and must not.

Its violations are ``permanent``: no waiting satisfies them, so the decision is ``deny``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Literal

from pydantic import field_validator

from chalicelib.domain.model import Channel
from chalicelib.domain.rules.base import BaseRule, Context


class ContentRule(BaseRule):
    """A message must carry one of the required texts (an opt-out notice) and none of the forbidden ones."""

    kind: Literal["content"]
    permanent: bool = True
    channels: tuple[Channel, ...] = (Channel.SMS, Channel.EMAIL)
    required_any: tuple[str, ...] = ()  # regular expressions, case-insensitive
    forbidden: tuple[str, ...] = ()

    @field_validator("required_any", "forbidden")
    @classmethod
    def _patterns_compile(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"pattern {pattern!r} does not compile: {exc}") from exc
        return value

    @property
    def timeless(self) -> bool:
        return True

    def violation(self, ctx: Context, at: datetime) -> str | None:
        message = ctx.request.message
        text = f"{message.subject or ''}\n{message.body}" if message else ""
        if self.required_any and not any(re.search(p, text, re.IGNORECASE) for p in self.required_any):
            return "the message lacks the required text"
        for pattern in self.forbidden:
            if re.search(pattern, text, re.IGNORECASE):
                return "the message contains forbidden wording"
        return None

    def boundaries(self, ctx: Context, start: datetime, end: datetime) -> Iterable[datetime]:
        return ()
