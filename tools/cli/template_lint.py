"""``./gateway template lint FILE``: the content findings of a template, before anyone drafts it.

The file (YAML): ``locale``, ``text``, ``variables`` ({name: type}), ``channel`` (sms or email),
``jurisdiction`` (a pack id such as ``us-federal``, a country code such as ``CN``, or a list of them);
optional ``subject``, ``role`` (debtor or third_party), ``purpose``, ``agency`` (true when a collection
agency sends it) and ``communication`` (``initial`` or ``subsequent``, the default). Exit 0: no
finding; 1: findings, printed one a line; 2: the file is not a valid template.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chalicelib import policy_store
from chalicelib.domain.content import ContentFinding, UnknownJurisdictionError, findings
from chalicelib.domain.model import Channel, Purpose, RecipientRole
from chalicelib.domain.policy import PolicySet
from tools.template_text import TemplateTextError, check, literal


class LintError(ValueError):
    """The file is not a template that can be judged; the message names the field."""


class TemplateFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    locale: str = Field(min_length=2, max_length=16)
    text: str = Field(min_length=1, max_length=20_000)
    variables: dict[str, str] = Field(default_factory=dict)
    channel: Literal[Channel.SMS, Channel.EMAIL]
    jurisdiction: str | list[str]
    subject: str | None = None
    role: RecipientRole = RecipientRole.DEBTOR
    purpose: Purpose | None = None
    agency: bool = False
    communication: Literal["initial", "subsequent"] = "subsequent"


def load(text: str) -> TemplateFile:
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise LintError(f"not YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(document, dict):
        raise LintError("a template file is a mapping with locale, text, variables, channel, jurisdiction")
    try:
        template = TemplateFile.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise LintError(f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from None
    try:
        check(f"{template.subject or ''}\n{template.text}", template.variables)
    except TemplateTextError as exc:
        raise LintError(str(exc)) from None
    return template


def lint(template: TemplateFile, policies: PolicySet) -> list[ContentFinding]:
    words = literal(f"{template.subject or ''}\n{template.text}")
    return findings(
        policies,
        words,
        channel=template.channel,
        jurisdictions=[template.jurisdiction] if isinstance(template.jurisdiction, str) else template.jurisdiction,
        role=template.role,
        purpose=template.purpose,
        agency=template.agency,
        initial=template.communication == "initial",
    )


def cmd_template_lint(args: argparse.Namespace) -> int:
    try:
        raw = sys.stdin.read() if args.file == "-" else Path(args.file).read_text("utf-8")
        template = load(raw)
        found = lint(template, policy_store.load_sources())
    except UnknownJurisdictionError as exc:
        print(f"template lint: invalid template: jurisdiction: {exc}", file=sys.stderr)
        return 2
    except (OSError, UnicodeDecodeError) as exc:
        print(f"template lint: cannot read {args.file}: {exc}", file=sys.stderr)
        return 2
    except LintError as exc:
        print(f"template lint: invalid template: {exc}", file=sys.stderr)
        return 2
    for finding in found:
        where = f" «{finding.span}»" if finding.span else ""
        print(f"{finding.rule}{where}: {finding.message} [{finding.citation}]")
    print(f"{len(found)} finding(s)" if found else "no findings", file=sys.stderr)
    return 1 if found else 0


def add_commands(sub: Any) -> None:
    template = sub.add_parser("template", help="message templates").add_subparsers(
        dest="template_command", required=True
    )
    lint_cmd = template.add_parser("lint", help="print a template file's content findings (exit 1 on any)")
    lint_cmd.add_argument("file", help="template in YAML: locale, text, variables, channel, jurisdiction")
    lint_cmd.set_defaults(func=cmd_template_lint)
