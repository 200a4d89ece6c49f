"""The address index's key in the packaged template: its own generated secret under the data key, read by
every function that appends audit events (they index the addresses events name) and by no other."""

from __future__ import annotations

from typing import Any

from tools.infra import package

# The appender (the audit table's one writer of events, docs/decisions/0029) indexes; the API searches.
APPENDERS = {"APIHandler", "AuditStream"}


def _statements(template: dict[str, Any], function: dict[str, Any]) -> list[dict[str, Any]]:
    role = template["Resources"][function["Properties"]["Role"]["Fn::GetAtt"][0]]
    return [s for p in role["Properties"]["Policies"] for s in p["PolicyDocument"]["Statement"]]


def test_the_secret_is_generated_and_encrypted_under_the_data_key(template) -> None:
    secret = template["Resources"]["AddressIndexSecret"]
    assert secret["Type"] == "AWS::SecretsManager::Secret"
    assert secret["Properties"]["KmsKeyId"] == {"Ref": "DataKey"}
    assert "GenerateSecretString" in secret["Properties"]


def test_every_function_that_appends_audit_events_reads_it_and_no_other(template) -> None:
    readers = set()
    for logical, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        grants = [s for s in _statements(template, resource) if s.get("Resource") == [{"Ref": "AddressIndexSecret"}]]
        variables = resource["Properties"]["Environment"]["Variables"]
        if grants:
            readers.add(logical)
            assert [g["Action"] for g in grants] == [["secretsmanager:GetSecretValue"]]
            assert variables["ADDRESS_INDEX_SECRET_ARN"] == {"Ref": "AddressIndexSecret"}
        else:
            assert "ADDRESS_INDEX_SECRET_ARN" not in variables
        assert "ADDRESS_INDEX_SECRET" not in variables  # the value never
    assert readers == APPENDERS
    assert {package.FUNCTIONS[f] for f in package.ADDRESS_INDEXERS} == APPENDERS
