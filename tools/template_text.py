"""A template's text as the tools read it (Jinja2's sandbox, strict about undefined variables).

``./gateway template lint`` judges the literal text: every ``{{ expression }}`` becomes a neutral
placeholder and tags and comments are dropped, so a required element (an opt-out notice, the
debt-collector disclosure) must be in the words compliance approves, never in a variable's value, and
nothing a variable may hold is guessed. What the variables hold is judged at send, on the rendered text.
``./gateway whatif`` renders an inline template with the scenario's values, as a send would.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from jinja2 import StrictUndefined, TemplateError, meta
from jinja2.sandbox import SandboxedEnvironment

PLACEHOLDER = "▯"
_EXPRESSION = re.compile(r"\{\{.*?\}\}", re.DOTALL)
_TAG = re.compile(r"\{%.*?%\}|\{#.*?#\}", re.DOTALL)
_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)


class TemplateTextError(ValueError):
    """The text is not a template: a syntax error, or a variable it uses is not declared."""


def variables_used(text: str) -> set[str]:
    try:
        return set(meta.find_undeclared_variables(_ENV.parse(text)))
    except TemplateError as exc:
        raise TemplateTextError(f"text: {exc}") from None


def check(text: str, declared: Mapping[str, Any]) -> None:
    undeclared = sorted(variables_used(text) - set(declared))
    if undeclared:
        raise TemplateTextError(f"variables: {', '.join(undeclared)} used in the text but not declared")


def literal(text: str) -> str:
    """The words of the template alone: expressions as a neutral placeholder, tags and comments dropped."""
    return _TAG.sub("", _EXPRESSION.sub(PLACEHOLDER, text))


def render(text: str, variables: Mapping[str, Any]) -> str:
    try:
        return _ENV.from_string(text).render(**variables)
    except TemplateError as exc:
        raise TemplateTextError(f"template: {exc}") from None
