"""The regulators' worked examples in policies/examples/, judged by the same code as ./gateway whatif."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tools import whatif

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "policies" / "examples").glob("*.yaml"))


def test_there_are_examples_for_every_jurisdiction_with_numbers():
    names = " ".join(p.name for p in EXAMPLES)
    for prefix in ("regf-6b1i", "regf-14b2i", "cn-", "au-", "ca-qc", "ph-", "us-ma", "us-fl", "us-wv", "us-dc"):
        assert prefix in names


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_decides_as_the_regulator_says(path: Path, policies):
    document = yaml.safe_load(path.read_text("utf-8"))
    expected = document["expect"]
    result = whatif.run(document, policies)
    assert result["outcome"] == expected["outcome"]
    not_before = expected["not_before"]
    assert result["not_before"] == (not_before.isoformat().replace("+00:00", "Z") if not_before else None)
    assert [r["rule"] for r in result["reasons"]] == expected["rules"]


def test_an_invalid_scenario_is_one_clear_line(policies):
    with pytest.raises(whatif.ScenarioError, match=r"^request\.(debtor_id|channel): "):
        whatif.run({"at": "2026-03-02T14:00:00Z", "request": {"channel": "pigeon"}}, policies)
    with pytest.raises(whatif.ScenarioError, match="unknown pack ids"):
        document = yaml.safe_load(EXAMPLES[0].read_text("utf-8"))
        whatif.run({**document, "policies": ["atlantis"]}, policies)


def test_the_policies_readme_tables_every_pack_and_rule(policies):
    from chalicelib import policy_store

    readme = (EXAMPLES[0].parents[1] / "README.md").read_text("utf-8")
    assert policy_store.markdown_table(policies) in readme, "run ./gateway policy table and update policies/README.md"
    assert policy_store.retention_table(policies) in readme, "run ./gateway policy table and update policies/README.md"
