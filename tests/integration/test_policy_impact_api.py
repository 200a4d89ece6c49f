"""A compliance officer asks what a proposed pack would have changed: ``POST /v1/policy-impact`` answers 202,
the export queue's worker replays the range, ``GET /v1/policy-impact/{id}`` shows the report. Asking is
audited; the replay writes nothing to the trail. Only compliance keys may ask, and every bad body is a
problem naming its field."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
import yaml

from chalicelib import policy_store
from chalicelib.domain.access import ACCESS_CHAIN, Role
from chalicelib.domain.policy import Pack
from chalicelib.services import policy_impact
from chalicelib.services.contacts import submit_contact
from tests.support import make_request, queued_exports, run_export_worker, utc

MONDAY_NOON_BOSTON = utc(2026, 2, 2, 17)
BOSTON = {"debtor_id": "d-1", "to": "+16175550100", "location": {"country": "US", "subdivision": "MA"}}
JSON = {"Content-Type": "application/json"}


def us_ma(limit: int = 2) -> str:
    document = yaml.safe_load((policy_store.SOURCE_DIR / "us-ma.yaml").read_text("utf-8"))
    document["rules"][1]["limit"] = limit
    return str(yaml.safe_dump(document))


def body(**changes: Any) -> dict[str, Any]:
    return {"from": "2026-02-01", "to": "2026-02-28", "packs": {"us-ma": us_ma(limit=1)}, **changes}


def post(client: Any, payload: Any, headers: dict[str, str] | None = None) -> Any:
    return client.http.post("/v1/policy-impact", headers={**JSON, **(headers or {})}, body=json.dumps(payload))


@pytest.fixture
def month(gateway: Any) -> None:
    for day in (0, 2, 4):
        submit_contact(
            make_request(**BOSTON, on_blocked="reject"), gateway.deps, MONDAY_NOON_BOSTON + timedelta(days=day)
        )


def test_the_job_replays_the_month_and_shows_its_report(client, gateway, month):
    persons_before = gateway.audit.for_person("local", "d-1")
    response = post(client, body())
    assert response.status_code == 202, response.body
    impact_id = json.loads(response.body)["impact_id"]
    assert response.headers["Location"] == f"/v1/policy-impact/{impact_id}"
    queued = json.loads(client.http.get(f"/v1/policy-impact/{impact_id}").body)
    assert queued["status"] == "queued" and queued["packs"] == ["us-ma"] and "report" not in queued
    run_export_worker(client, queued_exports(gateway))
    done = json.loads(client.http.get(f"/v1/policy-impact/{impact_id}").body)
    assert done["status"] == "done"
    report = done["report"]
    assert report["mode"] == "recorded" and report["changed"]["count"] == 1
    assert report["totals"]["proposed"] == {"allow": 1, "defer": 2, "deny": 0}
    start, end = utc(2026, 2, 1), utc(2026, 3, 1)
    proposed = [Pack.model_validate(yaml.safe_load(us_ma(limit=1)))]
    assert report == policy_impact.replay_range("local", start, end, gateway.policies, proposed, gateway.deps.audit)
    assert gateway.audit.for_person("local", "d-1") == persons_before  # the replay wrote nothing


def test_asking_is_audited_with_who_asked_and_the_packs_digests(client, gateway, month, ring):
    impact_id = json.loads(post(client, body()).body)["impact_id"]
    [event] = [e for e in gateway.audit.for_person("local", ACCESS_CHAIN) if e["type"] == "policy_impact_requested"]
    assert event["contact_id"] == impact_id
    assert set(event["data"]["packs"]) == {"us-ma"} and len(event["data"]["packs"]["us-ma"]) == 64
    assert event["data"]["by"] and event["data"]["from"].startswith("2026-02-01")


@pytest.mark.parametrize("role", [Role.SUBMITTER, Role.REGULATOR, Role.ADMIN], ids=lambda r: r.value)
def test_only_compliance_keys_may_ask_or_read(client, ring, role):
    headers = ring.bearer(role)
    assert post(client, body(), headers).status_code == 403
    assert client.http.get("/v1/policy-impact/pi_20260201000000_0000000000", headers=headers).status_code == 403


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (body(to=None), "to"),
        (body(packs={}), "packs"),
        (body(packs={"us-ma": "rules: ["}), "packs.us-ma"),
        (body(packs={"us-ma": "id: us-ma\n"}), "packs.us-ma"),
        (body(packs={"us-xx": us_ma()}), "packs.us-xx"),
        (body(**{"from": "2026-03-01"}), "to"),
        (body(**{"from": "2024-01-01"}), "from"),
        (body(**{"from": "yesterday"}), "from"),
    ],
)
def test_a_bad_request_is_a_problem_naming_its_field(client, payload, field):
    response = post(client, payload)
    assert response.status_code in (400, 422), response.body
    assert response.headers["Content-Type"] == "application/problem+json"
    assert json.loads(response.body)["errors"][0]["field"] == field


def test_an_unknown_id_and_an_exports_id_are_not_found(client, gateway, month):
    assert client.http.get("/v1/policy-impact/pi_20260201000000_0000000000").status_code == 404
    export = client.http.post("/v1/exports", headers=JSON, body=json.dumps({"debtor_id": "d-1", "formats": ["jsonl"]}))
    export_id = json.loads(export.body)["export_id"]
    assert client.http.get(f"/v1/policy-impact/{export_id}").status_code == 404


def test_the_console_loads_the_policy_impact_page_and_has_its_strings_in_both_languages(client):
    public = {"Authorization": "none"}  # the console's files need no key
    page = client.http.get("/console", headers=public).body.decode()
    assert '<script src="console/impact.js" defer></script>' in page and 'id="impact-form"' in page
    script = client.http.get("/console/impact.js", headers=public)
    assert script.status_code == 200 and b'"v1/policy-impact"' in script.body
    english, chinese = (json.loads(client.http.get(f"/console/{n}.json", headers=public).body) for n in ("en", "zh"))
    used = {key for key in english if key.startswith("impact.")}
    assert len(used) >= 10 and used <= set(chinese)


def test_an_agency_is_not_told_the_replay_inputs_a_compliance_officer_reads(client, ring):
    agency = ring.bearer(Role.SUBMITTER, "agency-a")
    text = {"body": "Your payment is overdue. Reply STOP to opt out."}
    request = {**BOSTON, "account_id": "a-1", "channel": "sms", "message": text}
    submitted = json.loads(client.http.post("/v1/contacts", headers={**JSON, **agency}, body=json.dumps(request)).body)
    path = f"/v1/contacts/{submitted['contact_id']}"
    for key, shown in ((agency, False), (ring.bearer(Role.COMPLIANCE), True)):
        events = json.loads(client.http.get(path, headers=key).body)["events"]
        [decided] = [e["data"] for e in events if e["type"] == "decided"]
        assert ("replay" in decided) is shown


def test_packs_over_the_size_a_job_holds_are_a_problem_naming_packs(client):
    comment = "# " + "说明" * 22_000 + "\n"  # 132,000 bytes in UTF-8, 44,000 characters
    response = post(client, body(packs={"us-ma": comment + us_ma()}))
    assert response.status_code == 400, response.body
    assert json.loads(response.body)["errors"][0]["field"] == "packs"
