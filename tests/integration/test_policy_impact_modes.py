"""The replay's mode, wherever a replay runs: the route's body (``mode``, by default ``recorded``), the job and
its report, ``./gateway replay --mode`` on the trail, and on an export bundle offline.

The month: Boston texts on Monday 2 February 2026 at noon, Wednesday 4 at 20:30 and Friday 6 at noon; the
third is deferred by Massachusetts' cap (2 in 7 days). The proposed pack denies after 20:00: Wednesday's text
is denied, and counterfactually Friday's is then allowed (tests/unit/test_policy_impact_counterfactual.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from chalicelib import policy_store
from chalicelib.domain.access import ACCESS_CHAIN
from chalicelib.domain.impact import Mode
from chalicelib.domain.policy import Pack
from chalicelib.services import policy_impact
from chalicelib.services.contacts import submit_contact
from chalicelib.services.export_bundle import ExportSpec, write_export_bundle
from tests.fakes import InMemoryObjects, unit_of_work
from tests.support import make_request, queued_exports, run_export_worker, utc
from tools.cli.main import parser
from tools.cli.replay_cli import replay_bundle

INSTANTS = (utc(2026, 2, 2, 17), utc(2026, 2, 5, 1, 30), utc(2026, 2, 6, 17))
BOSTON = {"debtor_id": "d-1", "to": "+16175550100", "location": {"country": "US", "subdivision": "MA"}}
START, END = utc(2026, 2, 1), utc(2026, 3, 1)
JSON = {"Content-Type": "application/json"}


def stricter() -> dict[str, Any]:
    document = yaml.safe_load((policy_store.SOURCE_DIR / "us-ma.yaml").read_text("utf-8"))
    document["rules"][0].update({"allowed": {"default": ["08:00-20:00"]}, "permanent": True})
    return dict(document)


def body(**changes: Any) -> dict[str, Any]:
    return {"from": "2026-02-01", "to": "2026-02-28", "packs": {"us-ma": yaml.safe_dump(stricter())}, **changes}


@pytest.fixture
def month(gateway: Any) -> None:
    for at in INSTANTS:
        submit_contact(make_request(**BOSTON, on_blocked="reject"), gateway.deps, at)


def ask(client: Any, gateway: Any, payload: dict[str, Any]) -> dict[str, Any]:
    response = client.http.post("/v1/policy-impact", headers=JSON, body=json.dumps(payload))
    assert response.status_code == 202, response.body
    impact_id = json.loads(response.body)["impact_id"]
    run_export_worker(client, queued_exports(gateway))
    return dict(json.loads(client.http.get(f"/v1/policy-impact/{impact_id}").body))


@pytest.mark.parametrize(("mode", "changed"), [("recorded", 1), ("counterfactual", 2)])
def test_the_job_replays_in_the_mode_asked_and_says_which(client, gateway, month, mode, changed):
    done = ask(client, gateway, body(mode=mode))
    assert done["status"] == "done" and done["mode"] == mode
    report = done["report"]
    assert report["mode"] == mode and report["changed"]["count"] == changed
    proposed = [Pack.model_validate(stricter())]
    expected = policy_impact.replay_range(
        "local", START, END, gateway.policies, proposed, gateway.deps.audit, Mode(mode)
    )
    assert report == expected


def test_a_job_asked_without_a_mode_replays_as_recorded(client, gateway, month):
    done = ask(client, gateway, body())
    assert done["mode"] == done["report"]["mode"] == "recorded"


def test_the_mode_asked_is_audited(client, gateway, month, ring):
    ask(client, gateway, body(mode="counterfactual"))
    [event] = [e for e in gateway.audit.for_person("local", ACCESS_CHAIN) if e["type"] == "policy_impact_requested"]
    assert event["data"]["mode"] == "counterfactual"


@pytest.mark.parametrize("mode", ["as-happened", "", 1, None])
def test_an_unknown_mode_is_a_problem_naming_the_field(client, mode):
    response = client.http.post("/v1/policy-impact", headers=JSON, body=json.dumps(body(mode=mode)))
    assert response.status_code in (400, 422), response.body
    assert response.headers["Content-Type"] == "application/problem+json"
    assert json.loads(response.body)["errors"][0]["field"] == "mode"


def test_gateway_replay_mode_counterfactual_prints_the_counterfactual_report(gateway, month, tmp_path, capsys):
    (tmp_path / "us-ma.yaml").write_text(yaml.safe_dump(stricter()), "utf-8")
    argv = ["replay", "--from", "2026-02-01", "--to", "2026-02-28", "--policies", str(tmp_path), "--tenant", "local"]
    args = parser().parse_args([*argv, "--mode", "counterfactual"])
    args.runtime = gateway
    capsys.readouterr()
    assert args.func(args) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["mode"] == "counterfactual" and printed["changed"]["count"] == 2
    assert parser().parse_args(argv).mode == "recorded"


def test_gateway_replay_refuses_an_unknown_mode(capsys):
    with pytest.raises(SystemExit) as exited:
        parser().parse_args(["replay", "--policies", "policies", "--mode", "as-happened"])
    assert exited.value.code == 2 and "--mode" in capsys.readouterr().err


@pytest.mark.parametrize("masked", [True, False])
def test_the_offline_counterfactual_replay_of_a_bundle_reports_what_the_online_one_does(policies, tmp_path, masked):
    deps = unit_of_work(policies, export_files=InMemoryObjects(root=tmp_path))
    for at in INSTANTS:
        submit_contact(make_request(**BOSTON, on_blocked="reject"), deps, at)
    spec = ExportSpec(start=START, end=END, formats=("jsonl",), masked=masked, reason=None if masked else "check")
    write_export_bundle("local", "ex_1", spec, deps, utc(2026, 3, 2), prefix="b/")
    proposed = [Pack.model_validate(stricter())]
    offline = replay_bundle(Path(tmp_path, "b"), policies, proposed, START, END, Mode.COUNTERFACTUAL)
    assert offline.pop("bundle") == {"export_id": "ex_1", "masked": masked}
    online = policy_impact.replay_range("local", START, END, policies, proposed, deps.audit, Mode.COUNTERFACTUAL)
    assert offline == online and online["changed"]["count"] == 2
