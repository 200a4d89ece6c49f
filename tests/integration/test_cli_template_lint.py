"""``./gateway template lint FILE`` (exit 0: no finding, 1: findings, 2: a bad file) and ``./gateway whatif``
with a template given inline: the packs' content rules judge a template before and as it is sent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tools import whatif
from tools.cli.main import main

CLEAN = """\
locale: en
text: "Hi {{ name }}, {{ amount }} is due {{ due }}. We will not contact your employer. Reply STOP to opt out."
variables: {name: string, amount: amount, due: date}
channel: sms
jurisdiction: us-federal
"""
THREAT = """\
locale: zh-CN
text: "【{{ creditor }}】{{ name }}，今天不還錢就爆你通訊錄。"
variables: {creditor: creditor, name: string}
channel: sms
jurisdiction: CN
"""


def lint(tmp_path: Path, text: str) -> int:
    path = tmp_path / "template.yaml"
    path.write_text(text, "utf-8")
    return main(["template", "lint", str(path)])


def test_a_clean_template_has_no_findings(tmp_path, capsys):
    assert lint(tmp_path, CLEAN) == 0
    assert capsys.readouterr().out == ""


def test_a_threat_is_printed_with_its_rule_citation_and_span_masked(tmp_path, capsys):
    assert lint(tmp_path, THREAT) == 1
    out = capsys.readouterr().out
    assert out.startswith("cn/no-contact-list-threats «爆****»: ") and "中国银行业协会" in out
    assert "通訊錄" not in out


def test_a_required_element_must_be_in_the_words_not_in_a_variable(tmp_path, capsys):
    opt_out_in_a_variable = CLEAN.replace("Reply STOP to opt out.", "{{ opt_out }}").replace(
        "due: date}", "due: date, opt_out: string}"
    )
    assert lint(tmp_path, opt_out_in_a_variable) == 1
    assert capsys.readouterr().out.startswith("us-federal/opt-out-notice: ")


def test_an_agencys_initial_template_needs_the_full_disclosure(tmp_path, capsys):
    agency = CLEAN + "agency: true\ncommunication: initial\n"
    assert lint(tmp_path, agency) == 1
    rules = {line.split(":")[0] for line in capsys.readouterr().out.splitlines()}
    assert rules == {"us-federal/debt-collector-disclosure", "us-federal/initial-disclosure"}


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("text: [unclosed", "not YAML"),
        ("- a list", "a template file is a mapping"),
        (CLEAN.replace("channel: sms", "channel: voice"), "channel"),
        (
            CLEAN.replace("jurisdiction: us-federal", "jurisdiction: XX"),
            "jurisdiction: no policy pack is named or covers 'XX'",
        ),
        (CLEAN.replace("{{ due }}", "{{ when }}"), "variables: when used in the text but not declared"),
        (CLEAN.replace("{{ due }}", "{{ due"), "text: "),
        (CLEAN.replace("locale: en\n", ""), "locale: Field required"),
    ],
)
def test_a_bad_file_exits_2_naming_the_field(tmp_path, capsys, text, says):
    assert lint(tmp_path, text) == 2
    assert says in capsys.readouterr().err


def test_an_unreadable_file_exits_2(tmp_path, capsys):
    assert main(["template", "lint", str(tmp_path / "missing.yaml")]) == 2
    assert "cannot read" in capsys.readouterr().err


TEMPLATE: dict[str, Any] = {
    "locale": "en",
    "text": "Hi {{ name }}, pay {{ amount }} today or you will be arrested. Reply STOP to opt out.",
    "variables": {"name": "Dana", "amount": "$120"},
}
REQUEST: dict[str, Any] = {
    "debtor_id": "d1",
    "account_id": "a1",
    "channel": "sms",
    "to": "+14045550100",
    "location": {"country": "US", "subdivision": "GA"},
}


def scenario(**request: Any) -> dict[str, Any]:
    return {"at": "2026-03-02T17:00:00Z", "request": {**REQUEST, **request}, "policies": ["us-federal"]}


def test_whatif_renders_an_inline_template_and_applies_the_content_rules(policies):
    answer = whatif.run(scenario(template=TEMPLATE), policies)
    assert answer["outcome"] == "deny"
    assert [r["rule"] for r in answer["reasons"]] == ["us-federal/no-threat-of-arrest"]
    polite = {**TEMPLATE, "text": "Hi {{ name }}, please pay {{ amount }} today. Reply STOP to opt out."}
    assert whatif.run(scenario(template=polite), policies)["outcome"] == "allow"


def test_whatif_applies_the_content_rules_to_a_message(policies):
    message = {"body": "Your boss will hear about this. Reply STOP to opt out."}
    answer = whatif.run(scenario(message=message), policies)
    assert [r["rule"] for r in answer["reasons"]] == ["us-federal/no-disclosure-threats"]


def test_whatif_names_a_missing_template_variable(policies):
    template = {**TEMPLATE, "variables": {"name": "Dana"}}
    with pytest.raises(whatif.ScenarioError, match="request.template: 'amount' is undefined"):
        whatif.run(scenario(template=template), policies)
