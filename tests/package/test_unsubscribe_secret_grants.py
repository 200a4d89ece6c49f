"""The unsubscribe secret in the packaged template: a Secrets Manager secret under the data key, readable
only by the functions that sign or check unsubscribe links, and its value in no function's environment."""

from __future__ import annotations

import json
from typing import Any

from tools.infra import package

SIGNERS = {"APIHandler", "DispatchWorker", "BatchWorker"}  # send email or answer the unsubscribe link


def _functions(template: dict[str, Any]) -> dict[str, Any]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == "AWS::Serverless::Function"}


def _secret_grants(template: dict[str, Any], function: dict[str, Any]) -> list[dict[str, Any]]:
    role = template["Resources"][function["Properties"]["Role"]["Fn::GetAtt"][0]]
    statements = [s for p in role["Properties"]["Policies"] for s in p["PolicyDocument"]["Statement"]]
    return [s for s in statements if any(str(a).startswith("secretsmanager:") for a in _listed(s["Action"]))]


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_the_secret_is_generated_and_encrypted_under_the_data_key(template) -> None:
    secret = template["Resources"]["UnsubscribeSecret"]
    assert secret["Type"] == "AWS::SecretsManager::Secret"
    assert secret["Properties"]["KmsKeyId"] == {"Ref": "DataKey"}
    assert "GenerateSecretString" in secret["Properties"]


def test_only_the_signing_and_checking_functions_may_read_the_secret(template) -> None:
    readers = set()
    for logical, function in _functions(template).items():
        # The address index's own secret has its own readers (tests/package/test_address_index_secret.py).
        grants = [s for s in _secret_grants(template, function) if s["Resource"] != [{"Ref": "AddressIndexSecret"}]]
        if not grants:
            continue
        readers.add(logical)
        for statement in grants:
            assert statement["Action"] == ["secretsmanager:GetSecretValue"], (logical, statement)
            assert statement["Resource"] == [{"Ref": "UnsubscribeSecret"}], (logical, statement)
    assert readers == SIGNERS


def test_the_functions_get_the_secrets_name_never_its_value(template) -> None:
    for logical, function in _functions(template).items():
        variables = function["Properties"]["Environment"]["Variables"]
        assert "UNSUBSCRIBE_SECRET" not in variables, logical
        assert "resolve:secretsmanager" not in json.dumps(variables), logical
        if logical in SIGNERS:
            assert variables["UNSUBSCRIBE_SECRET_ARN"] == {"Ref": "UnsubscribeSecret"}, logical
        else:
            assert "UNSUBSCRIBE_SECRET_ARN" not in variables, logical


def test_the_policy_files_grant_the_secret_as_access_says() -> None:
    readers = {f for f, access in package.ACCESS.items() if "UnsubscribeSecret" in access}
    assert {package.FUNCTIONS[f] for f in readers} == SIGNERS
    for function in readers:
        written = json.loads(package.policy_file(function).read_text())
        assert written == package.policy(function)
