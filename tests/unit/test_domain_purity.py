"""The domain is pure: no AWS, no Chalice, no environment, no clock."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

DOMAIN = Path(__file__).resolve().parents[2] / "chalicelib" / "domain"
FORBIDDEN_MODULES = {"boto3", "botocore", "chalice", "os", "time", "requests", "socket"}
FORBIDDEN_CALLS = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
    ("time", "time"),
}


def _dotted(node: ast.expr) -> list[str]:
    """``a.b.c`` as ["a", "b", "c"]; [] when the chain does not start at a name."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    return [node.id, *reversed(parts)] if isinstance(node, ast.Name) else []


def _violations(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] in FORBIDDEN_MODULES]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in FORBIDDEN_MODULES:
            found.append(node.module or "")
        elif (
            isinstance(node, ast.ImportFrom)
            and node.module == "importlib"
            and any(a.name == "import_module" for a in node.names)
        ):
            found.append("importlib.import_module")
        elif isinstance(node, ast.Attribute) and len(chain := _dotted(node)) >= 2:
            if tuple(chain[-2:]) in FORBIDDEN_CALLS or chain[:2] == ["os", "environ"]:
                found.append(".".join(chain))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "__import__":
            found.append("__import__")
    return found


@pytest.mark.parametrize("module", sorted(DOMAIN.rglob("*.py")), ids=lambda p: str(p.relative_to(DOMAIN)))
def test_domain_module_reaches_for_no_aws_environment_or_clock(module: Path) -> None:
    assert _violations(module.read_text()) == []


def test_the_checker_catches_what_it_forbids() -> None:
    bad = "\n".join(
        ["import boto3", "from chalice import Chalice", "import os", "x = os.environ", "y = datetime.now()"]
    )
    assert set(_violations(bad)) == {"boto3", "chalice", "os", "os.environ", "datetime.now"}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import botocore.exceptions", "botocore.exceptions"),
        ("from time import monotonic", "time"),
        ("import time\nt = time.time()", "time.time"),
        ("from os import environ", "os"),
        ("import datetime\nx = datetime.datetime.now(datetime.UTC)", "datetime.datetime.now"),
        ("import datetime as dt\nx = dt.datetime.utcnow()", "dt.datetime.utcnow"),
        ("from datetime import date\nx = date.today()", "date.today"),
        ("from datetime import datetime\nx = datetime.today()", "datetime.today"),
        ("import chalice.app", "chalice.app"),
        ("m = __import__('os')", "__import__"),
    ],
)
def test_the_checker_catches_each_forbidden_form(source: str, expected: str) -> None:
    assert expected in _violations(source)


def test_the_checker_allows_the_datetime_time_class() -> None:
    ok = "from datetime import datetime, time\nx = time(8, 0)\ny = datetime.combine(d, time.max)"
    assert _violations(ok) == []


def test_every_domain_module_is_checked() -> None:
    names = {str(p.relative_to(DOMAIN)) for p in DOMAIN.rglob("*.py")}
    assert {"engine.py", "zones.py", "localtime.py", "policy.py", "audit.py", "events.py", "ledger.py"} <= names
    assert {"rules/__init__.py", "rules/base.py", "rules/quiet_hours.py", "rules/consent.py"} <= names


def test_the_ports_speak_only_of_domain_types_and_the_standard_library() -> None:
    import sys

    tree = ast.parse((DOMAIN / "ports.py").read_text())
    imported = [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    imported += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    outside = [
        m for m in imported if not m.startswith("chalicelib.domain.") and m.split(".")[0] not in sys.stdlib_module_names
    ]
    assert [m for m in outside if m != "__future__"] == []
