"""The domain is pure: no AWS, no Chalice, no environment, no clock."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

DOMAIN = Path(__file__).resolve().parents[2] / "chalicelib" / "domain"
FORBIDDEN_MODULES = {"boto3", "botocore", "chalice", "os", "time", "requests", "socket"}
FORBIDDEN_CALLS = {("datetime", "now"), ("datetime", "utcnow"), ("date", "today"), ("time", "time")}


def _violations(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] in FORBIDDEN_MODULES]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in FORBIDDEN_MODULES:
            found.append(node.module or "")
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if (node.value.id, node.attr) in FORBIDDEN_CALLS or (node.value.id, node.attr) == ("os", "environ"):
                found.append(f"{node.value.id}.{node.attr}")
    return found


@pytest.mark.parametrize("module", sorted(DOMAIN.glob("*.py")), ids=lambda p: p.name)
def test_domain_module_reaches_for_no_aws_environment_or_clock(module: Path) -> None:
    assert _violations(module.read_text()) == []


def test_the_checker_catches_what_it_forbids() -> None:
    bad = "\n".join(
        ["import boto3", "from chalice import Chalice", "import os", "x = os.environ", "y = datetime.now()"]
    )
    assert set(_violations(bad)) == {"boto3", "chalice", "os", "os.environ", "datetime.now"}
