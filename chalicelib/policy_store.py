"""Reading policy packs: YAML sources in ``policies/``, and the policy bundle the Lambda package carries.

``policies/*.yaml`` is the authoring source. ``./gateway policy publish`` validates it and writes
``chalicelib/policy_bundle.json``, which Chalice zips with ``chalicelib/`` (see
docs/decisions/0001-policy-bundle.md). The function loads and re-validates the bundle at cold start:
a broken or missing bundle stops it from starting.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from chalicelib.domain.policy import PolicyError, PolicySet, build_policy_set

POLICY_BUNDLE_PATH = Path(__file__).with_name("policy_bundle.json")
SOURCE_DIR = Path(__file__).resolve().parent.parent / "policies"


def pack_files(paths: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        files += sorted(path.glob("*.yaml")) if path.is_dir() else [path]
    return files


def read_documents(paths: Iterable[Path]) -> dict[str, Any]:
    import yaml  # the sources only: a function reads the JSON bundle

    documents: dict[str, Any] = {}
    for file in pack_files(paths):
        try:
            documents[file.name] = yaml.safe_load(file.read_text("utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise PolicyError(f"{file.name}: cannot read: {exc}") from exc
    if not documents:
        raise PolicyError("no policy packs found")
    return documents


def load_sources(paths: Iterable[Path] = (SOURCE_DIR,)) -> PolicySet:
    return build_policy_set(read_documents(paths))


def publish(source: Path = SOURCE_DIR, bundle: Path = POLICY_BUNDLE_PATH) -> PolicySet:
    """Validate the packs and write the bundle atomically; the bundle keeps the raw documents."""
    documents = read_documents([source])
    policy_set = build_policy_set(documents)
    payload = {"version": policy_set.version, "documents": documents}
    # A temporary name of its own: two publishers at once (two local stacks, a test run) each replace
    # the bundle whole, and neither renames the other's file away.
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=bundle.parent, suffix=".tmp", delete=False) as tmp:
        tmp.write(json.dumps(payload, indent=1, sort_keys=True, ensure_ascii=False))
    Path(tmp.name).chmod(0o644)  # readable by the Lambda runtime's user once packaged
    Path(tmp.name).replace(bundle)
    return policy_set


def load_policy_bundle(bundle: Path = POLICY_BUNDLE_PATH) -> PolicySet:
    try:
        payload = json.loads(bundle.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise PolicyError(f"policy bundle {bundle.name} is unreadable: {exc}") from exc
    policy_set = build_policy_set(payload["documents"])
    if policy_set.version != payload.get("version"):
        raise PolicyError("policy bundle version does not match its content")
    return policy_set


def markdown_table(policy_set: PolicySet) -> str:
    """Every pack and rule with its citation and confidence: the table in policies/README.md."""
    lines = [
        "| Pack | Rule | Kind | Channels | Citation | Confidence | On |",
        "|---|---|---|---|---|---|---|",
    ]
    for pack in policy_set.packs:
        for rule in pack.rules:
            channels = ", ".join(c.value for c in rule.channels)
            cells = [
                pack.id,
                f"`{rule.id}`",
                rule.kind,
                channels,
                rule.citation,
                rule.confidence,
                "yes" if rule.enabled else "no",
            ]
            lines.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def retention_table(policy_set: PolicySet) -> str:
    """How long each pack keeps the audit trail after the last activity, and on what basis."""
    lines = ["| Pack | Years | Basis | Confidence |", "|---|---|---|---|"]
    for pack in policy_set.packs:
        source = pack.retention_source
        cells = [
            pack.id,
            str(pack.retention_years),
            source.citation if source else "-",
            source.confidence if source else "-",
        ]
        lines.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
    return "\n".join(lines) + "\n"
