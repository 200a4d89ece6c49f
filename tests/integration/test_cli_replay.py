"""``./gateway replay --from --to --policies DIR --tenant T`` replays the tenant's trail and prints the report
the route's job stores."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from chalicelib import policy_store
from chalicelib.domain.policy import Pack
from chalicelib.services import policy_impact
from chalicelib.services.contacts import submit_contact
from tests.support import make_request, utc
from tools.cli.main import parser

MONDAY_NOON_BOSTON = utc(2026, 2, 2, 17)
BOSTON = {"debtor_id": "d-1", "to": "+16175550100", "location": {"country": "US", "subdivision": "MA"}}


def test_gateway_replay_on_the_trail_prints_the_report_of_the_job(gateway: Any, tmp_path: Path, capsys: Any) -> None:
    for day in (0, 2, 4):
        at = MONDAY_NOON_BOSTON + timedelta(days=day)
        submit_contact(make_request(**BOSTON, on_blocked="reject"), gateway.deps, at)
    document = yaml.safe_load((policy_store.SOURCE_DIR / "us-ma.yaml").read_text("utf-8"))
    document["rules"][1]["limit"] = 1
    (tmp_path / "us-ma.yaml").write_text(yaml.safe_dump(document), "utf-8")
    argv = ["replay", "--from", "2026-02-01", "--to", "2026-02-28", "--policies", str(tmp_path), "--tenant", "local"]
    args = parser().parse_args(argv)
    args.runtime = gateway
    capsys.readouterr()  # what the submits logged
    assert args.func(args) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["changed"]["count"] == 1 and printed["mode"] == "recorded"
    pack = Pack.model_validate(document)
    start, end = utc(2026, 2, 1), utc(2026, 3, 1)
    assert printed == policy_impact.replay_range("local", start, end, gateway.policies, [pack], gateway.deps.audit)
