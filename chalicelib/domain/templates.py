"""Message templates: a version's text, its typed variables, how it renders, and who may move it on.

A version is one locale's text (and an email's subject) with the variables it declares, each with a type.
A type ending in ``?`` (``agency?``) is optional: a contact may leave it out, and ``{% if agency %}`` tells.
It renders in Jinja2's sandbox with strict undefined variables, and only a small part of the language is
allowed: variables, ``if`` blocks on whether a value is given, and a few text filters without arguments
(no loops, calls, comparisons, attributes or includes), so a template cannot run long, reach into Python,
or read anything it was not given. A value is checked and formatted by its type before the text sees it.
docs/templates.md.

Maker-checker: the key that wrote a version never approves it; only an approved version sends; an approved
or retired version's text never changes (a change is a new version).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from chalicelib.domain.errors import GatewayError, InvalidFieldError
from chalicelib.domain.template_values import Variable as Variable  # named here too, with the templates
from chalicelib.domain.template_values import VariableType as VariableType
from chalicelib.domain.template_values import formatted

VARIABLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,39}$")
LOCALE = re.compile(r"^[a-z]{2,3}(-[A-Z][a-z]{3})?(-(?:[A-Z]{2}|\d{3}))?$")  # en, es, zh-CN, zh-Hant-TW
MAX_VARIABLES = 30
MAX_TEXT = 10_000
FILTERS = frozenset({"upper", "lower", "capitalize", "title", "trim"})


class VersionStatus(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    RETIRED = "retired"


class TemplateVariableError(InvalidFieldError):
    """A variable's value is missing, undeclared or of the wrong type (400 naming it)."""


class TemplateTextError(InvalidFieldError):
    """A text that does not parse, or uses what templates may not (400 naming ``text``)."""


class TemplateStateError(GatewayError):
    """The version is not in a state that allows the step (approve a retired one, retire one twice)."""


class MakerCheckerError(GatewayError):
    """The key that wrote the version asked to approve it."""


def check_text(text: str, variables: Mapping[str, object], field: str = "text") -> None:
    """A text that parses, uses only the allowed language and only the variables it declares."""
    from chalicelib.domain import template_syntax  # Jinja2 loads on the first template, not at cold start

    template_syntax.check_text(text, variables, field)


def check_declared(variables: Mapping[str, str]) -> dict[str, Variable]:
    """The declared variables, typed (``amount``, or ``amount?`` when optional); each problem names
    ``variables.<name>``."""
    if len(variables) > MAX_VARIABLES:
        raise TemplateVariableError("variables", f"at most {MAX_VARIABLES} variables")
    typed: dict[str, Variable] = {}
    for name, kind in variables.items():
        if not VARIABLE_NAME.fullmatch(name):
            raise TemplateVariableError(f"variables.{name}", "a name of lowercase letters, digits and '_'")
        try:
            typed[name] = Variable(VariableType(str(kind).removesuffix("?")), str(kind).endswith("?"))
        except ValueError:
            kinds = ", ".join(t.value for t in VariableType)
            raise TemplateVariableError(
                f"variables.{name}", f"a type among {kinds}, '?' after it if optional"
            ) from None
    return typed


def values_for(
    declared: Mapping[str, Variable], given: Mapping[str, Any], locale: str, field: str = "variables"
) -> dict[str, str]:
    """Every declared variable's value, checked and formatted by its type (an optional one left out: empty);
    ``field`` prefixes each name."""
    undeclared = sorted(set(given) - set(declared))
    if undeclared:
        raise TemplateVariableError(f"{field}.{undeclared[0]}", "is not a variable of this template version")
    values = {}
    for name, variable in declared.items():
        if name not in given or given[name] is None:
            if variable.optional:
                values[name] = ""
                continue
            raise TemplateVariableError(f"{field}.{name}", f"is missing: the template needs this {variable.type}")
        try:
            values[name] = formatted(variable.type, given[name], locale)
        except ValueError as exc:
            raise TemplateVariableError(f"{field}.{name}", f"must be {exc}") from None
    return values


def render(
    text: str, declared: Mapping[str, Variable], given: Mapping[str, Any], locale: str, field: str = "variables"
) -> str:
    """The text with its variables filled in; any problem names the field of the variable or the text."""
    from chalicelib.domain import template_syntax

    values = values_for(declared, given, locale, field)
    rendered = template_syntax.render(text, frozenset(declared), values, field)
    if len(rendered) > MAX_TEXT:
        raise TemplateVariableError(field, f"the rendered text is longer than {MAX_TEXT} characters")
    return rendered


def text_hash(text: str) -> str:
    """What the audit trail keeps of a rendered or drafted text: its SHA-256, not the text."""
    return hashlib.sha256(text.encode()).hexdigest()


def check_approval(version: Mapping[str, Any], approver: str) -> None:
    """A draft, approved by another key than the one that wrote it."""
    if version["status"] != VersionStatus.DRAFT:
        raise TemplateStateError(f"version {version['version']} is {version['status']}; only a draft is approved")
    if version["created_by"] == approver:
        raise MakerCheckerError("the key that wrote this version may not approve it: another compliance key must")


def check_retirement(version: Mapping[str, Any]) -> None:
    if version["status"] == VersionStatus.RETIRED:
        raise TemplateStateError(f"version {version['version']} is already retired")


def outline(text: str) -> str:
    """The text as approval judges it: every branch's words, each variable as ``[name]``. Whatever values
    a contact brings, the words the template itself says are all in here."""
    from chalicelib.domain import template_syntax

    return template_syntax.outline(text)
