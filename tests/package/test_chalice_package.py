"""The policy set reaches the Lambda: it is inside the zip ``chalice package`` builds."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from chalicelib import policy_store

ROOT = Path(__file__).resolve().parents[2]


def test_deployment_zip_carries_the_validated_policy_bundle(tmp_path: Path, policies) -> None:
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(ROOT / "app.py", project)
    shutil.copytree(ROOT / "chalicelib", project / "chalicelib", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / ".chalice", project / ".chalice", ignore=shutil.ignore_patterns("deployments"))
    policy_store.publish(bundle=project / "chalicelib" / "policy_bundle.json")
    (project / "requirements.txt").write_text("")  # third-party wheels are not what this test is about
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1"}
    chalice = Path(sys.executable).with_name("chalice")
    subprocess.run(
        [str(chalice), "package", "--stage", "prod", "out"], cwd=project, env=env, check=True, capture_output=True
    )

    with zipfile.ZipFile(project / "out" / "deployment.zip") as package:
        bundle = json.loads(package.read("chalicelib/policy_bundle.json"))
        names = set(package.namelist())
    assert "app.py" in names and "chalicelib/domain/subdivision_zones.json" in names
    assert bundle["version"] == policies.version
    extracted = tmp_path / "policy_bundle.json"
    extracted.write_text(json.dumps(bundle))
    assert policy_store.load_bundle(extracted).version == policies.version
    template = json.loads((project / "out" / "sam.json").read_text())
    assert any(r["Type"] == "AWS::Serverless::Function" for r in template["Resources"].values())
