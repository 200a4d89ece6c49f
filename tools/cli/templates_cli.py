"""``./gateway template create|version|preview|approve``: message templates over the API (docs/templates.md).

Drafting uses the submitter's key and approving the compliance officer's (``GATEWAY_API_KEY``, or locally the
keys ``make run`` wrote): the key that wrote a version may not approve it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
from pathlib import Path
from typing import Any

from tools.cli.client import CliError, GatewayClient


def _client(args: argparse.Namespace, role: str) -> GatewayClient:
    return GatewayClient.from_env(args.url, os.environ, getattr(args, "session", None), role=role)


def _pairs(items: list[str], what: str) -> dict[str, str]:
    pairs = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
            raise CliError(f"{what} {item!r}: write name=value")
        pairs[name] = value
    return pairs


def _values(items: list[str]) -> dict[str, Any]:
    """``--set amount=120.50 --set days=30``: whole numbers go as numbers, the rest as text."""
    return {k: int(v) if re.fullmatch(r"-?\d+", v) else v for k, v in _pairs(items, "--set").items()}


def _text(args: argparse.Namespace) -> str:
    if args.text_file:
        try:
            return Path(args.text_file).read_text(encoding="utf-8")
        except OSError as exc:
            raise CliError(f"cannot read {args.text_file}: {exc.strerror}") from None
    if args.text is None:
        raise CliError("give the version's text: --text or --text-file")
    return str(args.text)


def _print(answer: Any) -> int:
    print(json.dumps(answer, ensure_ascii=False, indent=2))
    return 0


def cmd_template_create(args: argparse.Namespace) -> int:
    body = {"name": args.name, "channel": args.channel, "description": args.description}
    if args.jurisdiction:
        body["jurisdictions"] = args.jurisdiction
    return _print(_client(args, "submitter").post("/v1/templates", body))


def cmd_template_version(args: argparse.Namespace) -> int:
    body = {"locale": args.locale, "text": _text(args), "variables": _pairs(args.var, "--var"), "subject": args.subject}
    return _print(_client(args, "submitter").post(f"/v1/templates/{args.template_id}/versions", body))


def cmd_template_preview(args: argparse.Namespace) -> int:
    path = f"/v1/templates/{args.template_id}/versions/{args.version}/preview"
    answer = _client(args, "compliance").post(path, {"variables": _values(args.set)})
    _print(answer)
    return 1 if answer.get("findings") else 0


def cmd_template_approve(args: argparse.Namespace) -> int:
    path = f"/v1/templates/{args.template_id}/versions/{args.version}/approve"
    return _print(_client(args, "compliance").post(path, {}))


def template_commands(sub: Any) -> Any:
    """The ``template`` group's subcommands, made once whichever module adds the first of them."""
    group = sub.choices.get("template")
    if group is None:
        group = sub.add_parser("template", help="message templates: create, draft versions, preview, approve")
        return group.add_subparsers(dest="template_command", required=True)
    return next(a for a in group._actions if isinstance(a, argparse._SubParsersAction))


def add_commands(sub: Any) -> None:
    commands = template_commands(sub)
    create = commands.add_parser("create", help="a new template: its name and channel")
    create.add_argument("--name", required=True)
    create.add_argument("--channel", choices=["sms", "email"], required=True)
    create.add_argument("--description")
    create.add_argument("--jurisdiction", action="append", help="a pack id whose content rules judge it (repeat)")
    create.set_defaults(func=cmd_template_create)
    version = commands.add_parser("version", help="draft a version: one locale's text and its typed variables")
    version.add_argument("template_id")
    version.add_argument("--locale", required=True, help="en, es, zh-CN, ...")
    version.add_argument("--text")
    version.add_argument("--text-file")
    version.add_argument("--subject", help="an email's subject")
    version.add_argument("--var", action="append", default=[], help="name=type, e.g. amount=amount (repeat)")
    version.set_defaults(func=cmd_template_version)
    preview = commands.add_parser("preview", help="render a version; exits 1 when it has content findings")
    preview.add_argument("template_id")
    preview.add_argument("version", type=int)
    preview.add_argument("--set", action="append", default=[], help="name=value (repeat)")
    preview.set_defaults(func=cmd_template_preview)
    approve = commands.add_parser("approve", help="approve a draft (a compliance key that did not write it)")
    approve.add_argument("template_id")
    approve.add_argument("version", type=int)
    approve.set_defaults(func=cmd_template_approve)
    for command in (create, version, preview, approve):
        command.add_argument("--url", help="the gateway (default: GATEWAY_URL, else the local stack)")
