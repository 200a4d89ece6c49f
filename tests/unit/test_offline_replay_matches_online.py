"""A regulator's offline replay of an export bundle, masked or not, reports what the online replay of the
same range reports: it needs no address and no message text, only what the decisions recorded."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from bench.support import make_request
from chalicelib import policy_store
from chalicelib.domain.policy import Pack, PolicySet
from chalicelib.services import dispatch, policy_impact
from chalicelib.services.contacts import submit_contact
from chalicelib.services.export_bundle import ExportSpec, write_export_bundle
from chalicelib.services.unit_of_work import UnitOfWork
from tests.fakes import InMemoryObjects, unit_of_work
from tests.support import utc
from tools.cli.main import main
from tools.cli.replay_cli import replay_bundle

MONDAY = utc(2026, 2, 2)
START, END = utc(2026, 2, 1), utc(2026, 3, 1)
BOSTON = {"debtor_id": "d-1", "to": "+16175550100", "location": {"country": "US", "subdivision": "MA"}}
ATLANTA = {"debtor_id": "d-2", "account_id": "a-9"}
# (hours after Monday 00:00 UTC, person, on_blocked)
MONTH: list[tuple[int, dict[str, Any], str]] = [
    (17, BOSTON, "reject"),
    (18, ATLANTA, "defer"),
    (24 + 3, ATLANTA, "defer"),  # 22:00 in Atlanta: scheduled for 08:00, sent by the dispatcher
    (48 + 17, BOSTON, "defer"),
    (96 + 17, BOSTON, "defer"),  # the third in a week: scheduled for Monday 9
    (7 * 24 + 20, BOSTON, "reject"),
]


def stricter_massachusetts() -> Pack:
    document = yaml.safe_load(Path(policy_store.SOURCE_DIR, "us-ma.yaml").read_text("utf-8"))
    document["rules"][1]["limit"] = 1
    return Pack.model_validate(document)


@pytest.fixture
def deps(policies: PolicySet, tmp_path: Path) -> UnitOfWork:
    deps = unit_of_work(policies, export_files=InMemoryObjects(root=tmp_path))
    for hours, person, on_blocked in MONTH:
        at = MONDAY + timedelta(hours=hours)
        dispatch.run_dispatcher(deps, at)
        submit_contact(make_request(**person, on_blocked=on_blocked), deps, at)
    for day in range(7, 14):
        dispatch.run_dispatcher(deps, MONDAY + timedelta(days=day, hours=14))
    return deps


def bundle(deps: UnitOfWork, tmp_path: Path, masked: bool) -> Path:
    spec = ExportSpec(start=START, end=END, formats=("jsonl",), masked=masked, reason=None if masked else "check")
    prefix = "masked/" if masked else "unmasked/"
    write_export_bundle("local", "ex_1", spec, deps, utc(2026, 3, 2), prefix=prefix)
    return tmp_path / prefix


def online(deps: UnitOfWork, policies: PolicySet) -> dict[str, Any]:
    return policy_impact.replay_range("local", START, END, policies, [stricter_massachusetts()], deps.audit)


def test_the_month_has_changes_to_compare(deps, policies):
    report = online(deps, policies)
    assert report["changed"]["count"] >= 1 and report["deferrals_moved"]["count"] >= 1
    assert report["decisions"] == 8 and report["not_replayable"]["count"] == 0  # two deferred, re-decided


@pytest.mark.parametrize("masked", [True, False])
def test_the_offline_replay_of_a_bundle_reports_what_the_online_replay_reports(deps, policies, tmp_path, masked):
    folder = bundle(deps, tmp_path, masked)
    if masked:
        assert "+16175550100" not in (folder / "events.jsonl").read_text("utf-8")
    offline = replay_bundle(folder, policies, [stricter_massachusetts()], START, END)
    assert offline.pop("bundle") == {"export_id": "ex_1", "masked": masked}
    assert offline == online(deps, policies)


def test_gateway_replay_bundle_prints_the_report(deps, policies, tmp_path, capsys):
    folder = bundle(deps, tmp_path, masked=True)
    pack = tmp_path / "proposed" / "us-ma.yaml"
    pack.parent.mkdir()
    pack.write_text(yaml.safe_dump(stricter_massachusetts().model_dump(mode="json")), "utf-8")
    argv = ["replay", "--bundle", str(folder), "--policies", str(pack.parent), "--from", "2026-02-01"]
    assert main([*argv, "--to", "2026-02-28"]) == 0
    printed = json.loads(capsys.readouterr().out)
    expected = online(deps, policy_store.load_policy_bundle())
    assert printed["changed"] == expected["changed"] and printed["totals"] == expected["totals"]


def test_gateway_replay_names_a_broken_proposed_pack(tmp_path, capsys):
    (tmp_path / "us-ma.yaml").write_text("id: us-ma\nrules: [", "utf-8")
    assert main(["replay", "--bundle", str(tmp_path), "--policies", str(tmp_path)]) == 2
    assert capsys.readouterr().err.startswith("replay: us-ma.yaml: cannot read")
