"""``./gateway submit FILE.jsonl``: a campaign posted 500 at a time through the batch API, decided by the
batch worker, summarised; posting the file again queues nothing twice."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests

from chalicelib.domain.access import Role
from chalicelib.http import models as api
from tests.integration.aws import sent_sms
from tests.support import CLI_URL, NOON_ATLANTA, ChaliceAdapter, batch_sms, deliver, waiting
from tools.cli import campaign
from tools.cli.main import main


@pytest.fixture
def session(client: Any, gateway: Any, ring: Any, monkeypatch: pytest.MonkeyPatch) -> requests.Session:
    """The CLI's session, routed to the app; whatever a batch queued is decided before the next request,
    as the batch worker would."""

    def drain(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        if response.request.method == "GET":
            while waiting(gateway):
                deliver(gateway)

    gateway.clock = lambda: NOON_ATLANTA
    routed = requests.Session()
    routed.mount(CLI_URL, ChaliceAdapter(client))
    routed.hooks["response"].append(drain)
    monkeypatch.setenv("GATEWAY_URL", CLI_URL)
    monkeypatch.setenv("GATEWAY_API_KEY", ring.key(Role.SUBMITTER))
    monkeypatch.setattr(campaign.time, "sleep", lambda seconds: None)
    return routed


def write(tmp_path: Path, requests_: list[dict[str, Any]]) -> Path:
    path = tmp_path / "campaign.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in requests_), encoding="utf-8")
    return path


def test_a_campaign_is_posted_in_batches_of_500_and_summarised(session, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(campaign, "BATCH", 2)  # three batches from five requests
    people = [batch_sms(f"d-{i}") for i in range(4)] + [
        batch_sms("d-4", location={"country": "US", "subdivision": "MA"})
    ]
    path = write(tmp_path, people)
    assert main(["submit", str(path)], session=session) == 0
    out = capsys.readouterr().out
    posted = json.loads(out.splitlines()[0])
    assert posted["requests"] == 5 and len(posted["batches"]) == 3
    assert "by status: sent 5" in out
    assert "us-federal,us-ma" in out and len(sent_sms()) == 5
    # the same file again: the same batches, nothing queued or sent twice
    assert main(["submit", str(path)], session=session) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[0])["batches"] == posted["batches"]
    assert len(sent_sms()) == 5


def test_the_summary_counts_refusals_by_rule(session, tmp_path, capsys):
    no_notice = {"body": "Pay today."}  # Reg F 1006.6(e): every text tells how to opt out
    path = write(tmp_path, [batch_sms("d-1"), batch_sms("d-2", message=no_notice)])
    assert main(["submit", str(path)], session=session) == 0
    out = capsys.readouterr().out
    assert "by status: blocked 1, sent 1" in out
    assert "us-federal/opt-out-notice" in out.split("top reasons:")[1]


def test_an_invalid_line_refuses_its_batch_with_the_request_named(session, tmp_path, capsys):
    path = write(tmp_path, [batch_sms("d-1"), batch_sms("d-2", to="+1555")])
    assert main(["submit", str(path)], session=session) == 2
    assert "contacts[1].to" in capsys.readouterr().err
    assert main(["submit", str(path), "--accept-valid"], session=session) == 0
    assert "by status: invalid 1, sent 1" in capsys.readouterr().out


def test_a_file_that_is_not_json_lines_is_one_line_and_exit_2(session, tmp_path, capsys):
    path = tmp_path / "campaign.jsonl"
    path.write_text('{"debtor_id": \n', encoding="utf-8")
    assert main(["submit", str(path)], session=session) == 2
    assert capsys.readouterr().err.startswith("error: ")


def test_the_shipped_campaign_is_valid_and_covers_every_jurisdiction_and_channel(policies):
    requests_, _ = campaign.read_campaign(campaign.CAMPAIGN)
    assert len(requests_) >= 3000
    for line in requests_:
        api.BatchItemIn.model_validate_json(json.dumps(line))
    places = {(r["location"]["country"], r["location"].get("subdivision")) for r in requests_}
    countries = {c for pack in policies.packs for c in pack.applies_to.countries if c != "*"}
    assert countries <= {country for country, _ in places}
    assert {r["channel"] for r in requests_} == {"sms", "email", "voice"}
    opted_out = {json.loads(line)["debtor_id"] for line in campaign.OPT_OUTS.read_text().splitlines()}
    assert opted_out & {r["debtor_id"] for r in requests_ if r["channel"] == "sms"}


def test_fixing_one_line_and_posting_again_sends_only_the_fixed_request(
    session, gateway, tmp_path, capsys, monkeypatch
):
    monkeypatch.setattr(campaign, "BATCH", 3)
    people = [batch_sms(f"d-{i}") for i in range(5)]
    broken = [*people[:4], {**people[4], "to": "+1555"}]
    assert main(["submit", str(write(tmp_path, broken))], session=session) == 2  # the second batch is refused
    capsys.readouterr()
    while waiting(gateway):  # the first batch was queued: the worker decides it
        deliver(gateway)
    assert len(sent_sms()) == 3
    assert main(["submit", str(write(tmp_path, people))], session=session) == 0
    assert "by status: sent 5" in capsys.readouterr().out
    assert len(sent_sms()) == 5  # the first batch's three were not sent again


def test_identical_lines_are_separate_requests(session, tmp_path, capsys):
    path = write(tmp_path, [batch_sms("d-1"), batch_sms("d-1")])
    assert main(["submit", str(path)], session=session) == 0
    assert "by status: sent 2" in capsys.readouterr().out and len(sent_sms()) == 2
