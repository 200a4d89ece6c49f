"""The audit trail's writers in the packaged template: the stream appender and the daily pass hold
``dynamodb:PutItem`` on the audit table, no other function's role does, and none holds an update or delete."""

from __future__ import annotations

import json
from typing import Any

from tools.infra import package

WRITERS = {"AuditStream", "AuditDaily"}  # the appender; the retention re-put (docs/decisions/0029)


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _audit_actions(template: dict[str, Any], function: dict[str, Any]) -> set[str]:
    role = template["Resources"][function["Properties"]["Role"]["Fn::GetAtt"][0]]
    actions: set[str] = set()
    for policy in role["Properties"]["Policies"]:
        for statement in policy["PolicyDocument"]["Statement"]:
            if any("AuditTable" in json.dumps(r) for r in _listed(statement.get("Resource", []))):
                actions |= set(_listed(statement["Action"]))
    return actions


def test_only_the_appender_and_the_daily_pass_may_put_audit_items(template) -> None:
    functions = {k: r for k, r in template["Resources"].items() if r["Type"] == "AWS::Serverless::Function"}
    writers = {logical for logical, f in functions.items() if "dynamodb:PutItem" in _audit_actions(template, f)}
    assert writers == WRITERS
    for logical, function in functions.items():
        assert not _audit_actions(template, function) & {"dynamodb:UpdateItem", "dynamodb:DeleteItem"}, logical


def test_access_names_the_same_writers() -> None:
    writers = {f for f, access in package.ACCESS.items() if "dynamodb:PutItem" in access.get("AuditTable", ())}
    assert writers == set(package.AUDIT_WRITERS)
    assert {package.FUNCTIONS[f] for f in writers} == WRITERS
