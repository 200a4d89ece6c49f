"""Pack validation: a broken pack names its file and field; the shipped packs load."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from chalicelib.domain.policy import PolicyError, build_policy_set

PACK: dict[str, Any] = {
    "id": "xx",
    "title": "Test pack",
    "applies_to": {"countries": ["US"]},
    "retention_years": 3,
    "sources": [{"citation": "test", "confidence": "high"}],
    "rules": [
        {
            "id": "xx/hours",
            "kind": "quiet_hours",
            "citation": "c",
            "message": "m",
            "allowed": {"default": ["08:00-21:00"]},
        },
        {
            "id": "xx/cap",
            "kind": "frequency",
            "citation": "c",
            "message": "m",
            "counts": ["placed"],
            "limit": 7,
            "period": "rolling_days",
            "days": 7,
        },
    ],
}


def _broken(change) -> dict[str, Any]:
    pack = copy.deepcopy(PACK)
    change(pack)
    return pack


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda p: p["rules"][0].update(id="other/hours"), "must start with 'xx/'"),
        (lambda p: p["rules"][0].update(kind="telepathy"), "rules.0"),
        (lambda p: p["rules"][0].update(allowed={"default": ["8am-9pm"]}), "rules.0.quiet_hours.allowed"),
        (lambda p: p["rules"][1].update(limit=-1), "rules.1.frequency.limit"),
        (lambda p: p.pop("sources"), "sources"),
        (lambda p: p.update(zones=["Mars/Olympus"]), "unknown time zones"),
    ],
)
def test_a_broken_pack_names_file_and_field(change, expected):
    with pytest.raises(PolicyError) as error:
        build_policy_set({"broken.yaml": _broken(change)})
    assert "broken.yaml" in str(error.value)
    assert expected in str(error.value)


def test_a_pack_id_used_twice_is_refused():
    with pytest.raises(PolicyError, match="more than one file"):
        build_policy_set({"a.yaml": PACK, "b.yaml": PACK})


def test_the_shipped_packs_load_with_a_version(policies):
    assert policies.version.startswith("ps-")
    ids = {p.id for p in policies.packs}
    assert {"us-federal", "us-ma", "us-wa", "us-nyc", "cn", "au", "ca-on", "ca-qc", "in", "ph", "id", "ie", "uk"} <= ids


def test_the_version_changes_when_a_pack_changes():
    before = build_policy_set({"p.yaml": PACK}).version
    after = build_policy_set({"p.yaml": _broken(lambda p: p["rules"][1].update(limit=6))}).version
    assert before != after
    assert build_policy_set({"p.yaml": copy.deepcopy(PACK)}).version == before


def test_rules_rated_low_or_unverified_ship_disabled(policies):
    for pack in policies.packs:
        for rule in pack.rules:
            if rule.confidence in ("low", "unverified"):
                assert not rule.enabled, f"{rule.id} is rated {rule.confidence} but enabled"
