"""Pack validation: a broken pack names its file and field; the shipped packs load."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from chalicelib.domain.policy import PolicyError, build_policy_set

PACK: dict[str, Any] = {
    "id": "xx",
    "title": "Test pack",
    "applies_to": {"countries": ["US"]},
    "retention_years": 3,
    "retention_source": {"citation": "test pack", "confidence": "unverified"},
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
    us = {"us-federal", "us-ma", "us-wa", "us-nyc", "us-fl", "us-wv", "us-dc"}
    assert us | {"cn", "au", "ca-on", "ca-qc", "in", "ph", "id", "ie", "uk"} <= ids


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


def test_the_unknown_rule_kind_error_names_the_tag_and_the_kinds_known() -> None:
    with pytest.raises(PolicyError) as error:
        build_policy_set({"broken.yaml": _broken(lambda p: p["rules"][1].update(kind="telepathy"))})

    message = str(error.value)
    assert message.startswith("broken.yaml: rules.1: ")
    assert "'telepathy'" in message and "'quiet_hours'" in message


def test_a_window_with_end_before_start_is_refused() -> None:
    with pytest.raises(PolicyError, match=r"broken\.yaml: rules\.0\.quiet_hours\.allowed: .*'21:00-08:00'"):
        build_policy_set({"broken.yaml": _broken(lambda p: p["rules"][0].update(allowed={"default": ["21:00-08:00"]}))})


def test_an_empty_sources_list_is_refused() -> None:
    with pytest.raises(PolicyError, match=r"broken\.yaml: sources: "):
        build_policy_set({"broken.yaml": _broken(lambda p: p.update(sources=[]))})


def test_errors_of_every_file_are_reported_together() -> None:
    with pytest.raises(PolicyError) as error:
        build_policy_set(
            {
                "first.yaml": _broken(lambda p: p["rules"][1].update(limit=-1)),
                "second.yaml": _broken(lambda p: p.pop("sources")),
            }
        )

    lines = str(error.value).splitlines()
    assert any(line.startswith("first.yaml: rules.1.frequency.limit: ") for line in lines)
    assert any(line.startswith("second.yaml: sources: ") for line in lines)


def test_a_rule_id_used_twice_in_a_pack_is_refused() -> None:
    with pytest.raises(PolicyError, match=r"broken\.yaml: .*'xx/hours' appears twice"):
        build_policy_set({"broken.yaml": _broken(lambda p: p["rules"][1].update(id="xx/hours"))})


def test_the_version_is_a_content_hash_independent_of_file_names_and_key_order() -> None:
    reordered = dict(reversed(list(copy.deepcopy(PACK).items())))

    version = build_policy_set({"p.yaml": PACK}).version

    assert version == build_policy_set({"renamed.yaml": reordered}).version
    assert re.fullmatch(r"ps-[0-9a-f]{16}", version)


def test_the_version_changes_when_only_a_message_changes() -> None:
    before = build_policy_set({"p.yaml": PACK}).version
    after = build_policy_set({"p.yaml": _broken(lambda p: p["rules"][0].update(message="m2"))}).version

    assert before != after


def test_a_rule_id_without_the_pack_prefix_names_the_rule_field() -> None:
    with pytest.raises(PolicyError) as error:
        build_policy_set({"broken.yaml": _broken(lambda p: p["rules"][0].update(id="other/hours"))})

    assert str(error.value).startswith("broken.yaml: rules.0.id: ")


def test_a_pack_id_used_twice_names_both_files() -> None:
    with pytest.raises(PolicyError) as error:
        build_policy_set({"a.yaml": PACK, "b.yaml": copy.deepcopy(PACK)})

    assert "a.yaml" in str(error.value) and "b.yaml" in str(error.value)


def test_a_retention_period_needs_its_source():
    pack = {k: v for k, v in copy.deepcopy(PACK).items() if k != "retention_source"}
    with pytest.raises(PolicyError) as error:
        build_policy_set({"no-basis.yaml": pack})
    assert "no-basis.yaml: retention_source: required when retention_years is set" in str(error.value)
    assert build_policy_set({"ok.yaml": {**pack, "retention_years": 0}}).packs[0].retention_source is None
