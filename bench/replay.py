"""``make bench ONLY=replay``: policy impact replay, offline, on a generated month of 100,000 contacts.

The month: 10,000 people in the US (Massachusetts, Florida, Washington, New York City, Georgia, the District
of Columbia), Ontario, the UK and Australia, 10 contacts each (texts, calls, emails) at random instants of
February 2026, four in five of them in the day. Each contact's ``decided`` event carries the replay inputs
the gateway records (``domain.replay.recorded``: the history the person had by then, every earlier contact
of the month). The events are written as an export bundle's ``events.jsonl``; the replay reads it, builds
each case and decides it under the current packs and the proposed ones (``tools/cli/replay_cli.replay_bundle``,
what ``./gateway replay --bundle`` runs), the file's parsing included.

- ``replay_contacts_per_s``: proposed: us-federal with quiet hours ending at 20:00, so every US contact is
  decided under both sets (two evaluations).
- ``replay_contacts_per_s_one_state``: proposed: us-ma with 1 text or call a week; only Massachusetts'
  contacts are decided twice (a decision whose packs did not change is decided once).
- ``replay_contacts_per_s_counterfactual``: the first, in mode ``counterfactual`` (decision 0039): each set
  judged on the history it would have made.
"""

from __future__ import annotations

import json
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from chalicelib import policy_store
from chalicelib.domain import replay, zones
from chalicelib.domain.impact import Mode
from chalicelib.domain.model import Channel, ContactRecord, ContactRequest, Result
from chalicelib.domain.policy import Pack, PolicySet
from chalicelib.domain.preferences import Preferences
from tools.cli.replay_cli import replay_bundle

START = datetime(2026, 2, 1, tzinfo=UTC)
CONTACTS = 100_000
PER_PERSON = 10
# (number, location, offset of local noon from UTC in hours)
PLACES = [
    ("+16175550100", {"country": "US", "subdivision": "MA"}, 5),
    ("+13055550100", {"country": "US", "subdivision": "FL"}, 5),
    ("+12065550100", {"country": "US", "subdivision": "WA"}, 8),
    ("+12125550100", {"country": "US", "subdivision": "NY"}, 5),
    ("+14045550100", {"country": "US", "subdivision": "GA"}, 5),
    ("+12025550100", {"country": "US", "subdivision": "DC"}, 5),
    ("+14165550100", {"country": "CA", "subdivision": "ON"}, 5),
    ("+447700900100", {"country": "GB"}, 0),
    ("+61491570100", {"country": "AU", "subdivision": "NSW"}, -11),
]
TEXT = "Your payment on your account is overdue. Reply STOP to opt out."


def _request(person: int, rng: random.Random) -> tuple[ContactRequest, int]:
    number, location, offset = PLACES[person % len(PLACES)]
    channel = rng.choice([Channel.SMS, Channel.SMS, Channel.VOICE, Channel.EMAIL])
    to = f"p{person}@example.com" if channel is Channel.EMAIL else number[:-3] + f"{person % 1000:03d}"
    message = None if channel is Channel.VOICE else {"subject": "Your account", "body": TEXT}
    fields = {"tenant": "bench", "debtor_id": f"d-{person}", "account_id": f"a-{person % 3}", "channel": channel}
    request = ContactRequest.model_validate({**fields, "to": to, "location": location, "message": message})
    return request, offset


def _instant(rng: random.Random, offset: int) -> datetime:
    day = rng.randrange(28)
    local_hour = rng.uniform(9, 20) if rng.random() < 0.8 else rng.uniform(0, 24)
    return START + timedelta(days=day, hours=local_hour + offset)


def _person(person: int, rng: random.Random, policies: PolicySet) -> list[dict[str, Any]]:
    request, offset = _request(person, rng)
    where = zones.resolve(request)
    inputs = where.as_inputs()
    packs = [p.id for p in policies.applicable(where.countries, where.subdivisions, "bench")]
    history: list[ContactRecord] = []
    events = []
    for n, at in enumerate(sorted(_instant(rng, offset) for _ in range(PER_PERSON))):
        request, _ = _request(person, rng) if n else (request, offset)
        contact_id = f"ct_{person}_{n}"
        block = replay.recorded(request, history, Preferences(), policies, packs, at)
        data = {
            "channel": request.channel.value,  # as a decided event holds them: format 2 does not repeat them
            "account_id": request.account_id,
            "agency": request.agency,
            "outcome": "allow",
            "policy_version": policies.version,
            "inputs": {**inputs, "evaluated_at": at.isoformat(), "packs": packs},
        }
        event = {"tenant": "bench", "debtor_id": f"d-{person}", "seq": 2 * n + 1, "type": "decided"}
        events.append({**event, "contact_id": contact_id, "at": at.isoformat(), "data": {**data, "replay": block}})
        result = Result.UNANSWERED if request.channel is Channel.VOICE else Result.SENT
        history.append(
            ContactRecord(contact_id=contact_id, at=at, channel=request.channel, account_id=request.account_id,
                          to=request.to, result=result)
        )  # fmt: skip
    return events


def write_month(folder: Path, policies: PolicySet, contacts: int = CONTACTS) -> None:
    rng = random.Random(7)
    events = [e for person in range(contacts // PER_PERSON) for e in _person(person, rng, policies)]
    events.sort(key=lambda e: e["at"])
    with (folder / "events.jsonl").open("w", encoding="utf-8") as out:
        for event in events:
            out.write(json.dumps(event, ensure_ascii=False) + "\n")
    manifest = {"tenant": "bench", "export_id": "ex_bench", "masked": True, "filter": {}}
    (folder / "manifest.json").write_text(json.dumps(manifest), "utf-8")


def _pack(name: str, change: Any) -> Pack:
    document = yaml.safe_load((policy_store.SOURCE_DIR / f"{name}.yaml").read_text("utf-8"))
    change(document)
    return Pack.model_validate(document)


def _earlier_quiet_hours(document: dict[str, Any]) -> None:
    document["rules"][0]["allowed"] = {"default": ["08:00-20:00"]}


def _one_a_week(document: dict[str, Any]) -> None:
    document["rules"][1]["limit"] = 1


def _timed(folder: Path, policies: PolicySet, pack: Pack, mode: Mode = Mode.RECORDED) -> tuple[float, dict[str, Any]]:
    """Contacts per second of this process's own CPU time: one core's work, however busy the machine is."""
    started = time.process_time()
    report = replay_bundle(folder, policies, [pack], mode=mode)
    return report["decisions"] / (time.process_time() - started), report


def run(contacts: int = CONTACTS) -> dict[str, Any]:
    policies = policy_store.load_sources()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_month(folder, policies, contacts)
        federal, report = _timed(folder, policies, _pack("us-federal", _earlier_quiet_hours))
        one_state, _ = _timed(folder, policies, _pack("us-ma", _one_a_week))
        counterfactual, _ = _timed(folder, policies, _pack("us-federal", _earlier_quiet_hours), Mode.COUNTERFACTUAL)
    return {
        "replay_contacts_per_s": round(federal),
        "replay_contacts_per_s_one_state": round(one_state),
        "replay_contacts_per_s_counterfactual": round(counterfactual),
        "replay_changed_in_generated_month": report["changed"]["count"],
        "replay_not_replayable_in_generated_month": report["not_replayable"]["count"],
    }
