"""The part of templates that is Jinja2: parsing a text against the allowed language, compiling and rendering
it in the sandbox, and its outline. Imported on the first template a function instance meets, so that the
functions which never see one (and every cold start) do not load Jinja2 (chalicelib.domain.templates)."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping

from jinja2 import StrictUndefined, Template, TemplateSyntaxError, UndefinedError, nodes
from jinja2.sandbox import SandboxedEnvironment, SecurityError

from chalicelib.domain.templates import FILTERS, TemplateTextError, TemplateVariableError

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


@functools.lru_cache(maxsize=256)
def _compiled(text: str, names: frozenset[str]) -> Template:
    """A checked text, compiled once per function instance: a campaign renders the same few texts."""
    check_text(text, dict.fromkeys(names))
    return _ENV.from_string(text)


def render(text: str, names: frozenset[str], values: Mapping[str, str], field: str) -> str:
    """The checked text rendered with values already checked and formatted by their types."""
    compiled = _compiled(text, names)
    try:
        return compiled.render(values)
    except UndefinedError as exc:
        raise TemplateVariableError(field, str(exc)) from None
    except (SecurityError, TypeError, ValueError, ArithmeticError) as exc:  # the text's fault, never a 500
        raise TemplateTextError("text", f"does not render: {exc}") from None


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
    return _outline(_ENV.parse(text))
