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

import functools
import hashlib
import re
from collections.abc import Iterator, Mapping
from enum import StrEnum
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateSyntaxError, UndefinedError, nodes
from jinja2.sandbox import SandboxedEnvironment, SecurityError

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


# Each node a template may hold; anything else (loops, calls, attributes, macros, includes) is refused.
ALLOWED_NODES = (
    nodes.Template,
    nodes.Output,
    nodes.TemplateData,
    nodes.Name,
    nodes.Const,
    nodes.If,
    nodes.Not,
    nodes.And,
    nodes.Or,
    nodes.Filter,
)

_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)


def _walk(node: nodes.Node) -> Iterator[nodes.Node]:
    yield node
    for child in node.iter_child_nodes():
        yield from _walk(child)


def _has_arguments(node: nodes.Filter) -> bool:
    return bool(node.args or node.kwargs or node.dyn_args or node.dyn_kwargs)


def check_text(text: str, variables: Mapping[str, object], field: str = "text") -> None:
    """A text that parses, uses only the allowed language and only the variables it declares."""
    try:
        tree = _ENV.parse(text)
    except TemplateSyntaxError as exc:
        raise TemplateTextError(field, f"line {exc.lineno}: {exc.message}") from None
    for node in _walk(tree):
        if not isinstance(node, ALLOWED_NODES):
            raise TemplateTextError(field, f"templates may not use {type(node).__name__.lower()} here")
        if isinstance(node, nodes.Filter) and (node.name not in FILTERS or _has_arguments(node)):
            raise TemplateTextError(field, f"a filter is one of {', '.join(sorted(FILTERS))}, without arguments")
        if isinstance(node, nodes.Name) and node.name not in variables:
            raise TemplateTextError(field, f"uses {node.name!r}, which is not among the declared variables")


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


@functools.lru_cache(maxsize=256)
def _compiled(text: str, names: frozenset[str]) -> Template:
    """A checked text, compiled once per function instance: a campaign renders the same few texts."""
    check_text(text, dict.fromkeys(names))
    return _ENV.from_string(text)


def render(
    text: str, declared: Mapping[str, Variable], given: Mapping[str, Any], locale: str, field: str = "variables"
) -> str:
    """The text with its variables filled in; any problem names the field of the variable or the text."""
    values = values_for(declared, given, locale, field)
    compiled = _compiled(text, frozenset(declared))
    try:
        rendered = compiled.render(values)
    except UndefinedError as exc:
        raise TemplateVariableError(field, str(exc)) from None
    except (SecurityError, TypeError, ValueError, ArithmeticError) as exc:  # the text's fault, never a 500
        raise TemplateTextError("text", f"does not render: {exc}") from None
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


def _outline(node: nodes.Node) -> str:
    if isinstance(node, nodes.TemplateData):
        return node.data
    if isinstance(node, nodes.Name):
        return f"[{node.name}]"
    if isinstance(node, nodes.Filter) and node.node is not None:
        return _outline(node.node)
    if isinstance(node, nodes.If):  # every branch: what any of them says is judged
        branches = [*node.body, *(n for elif_ in node.elif_ for n in elif_.body), *node.else_]
        return "".join(_outline(n) for n in branches)
    if isinstance(node, nodes.Template | nodes.Output):
        return "".join(_outline(n) for n in node.iter_child_nodes())
    return ""


def outline(text: str) -> str:
    """The text as approval judges it: every branch's words, each variable as ``[name]``. Whatever values
    a contact brings, the words the template itself says are all in here."""
    return _outline(_ENV.parse(text))
