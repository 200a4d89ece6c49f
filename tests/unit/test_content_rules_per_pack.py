"""Content rules per pack: what a collector's message must say and must not, as the law's examples go.

FDCPA 1692d (abuse), 1692e (false or misleading: arrest, impersonation), 1692e(11) / 12 CFR 1006.18(e)
(the debt-collector disclosure), 1692b / 1006.10 (third parties learn nothing of the debt); China's
GB/T 45251-2025 and the banking association's guideline (no threats, insults, 冒充公检法, 爆通讯录).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.domain.content import findings
from chalicelib.domain.engine import evaluate
from chalicelib.domain.model import Channel, ContactRecord, Outcome, Purpose, RecipientRole
from chalicelib.domain.policy import build_policy_set
from tests.support import COLLECTOR_MESSAGE, make_request, pack_with, utc

NOON_ATLANTA = utc(2026, 3, 2, 17, 0)
NOON_BEIJING = utc(2026, 3, 2, 4, 0)
STOP = " Reply STOP to opt out."


def rules_of(policies, text, pack, **scope):
    return sorted({f.rule for f in findings(policies, text, channel=Channel.SMS, jurisdictions=[pack], **scope)})


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("Pay today or you will be arrested.", "us-federal/no-threat-of-arrest"),
        ("Failure to pay will result in criminal charges.", "us-federal/no-threat-of-arrest"),
        ("Pay up or you'll get hurt.", "us-federal/no-threats-of-harm"),
        ("Pay your damn bill, you deadbeat.", "us-federal/no-obscenity"),
        ("This is Officer Daniels of the county police department.", "us-federal/no-impersonation"),
        ("Pay today or we will contact your employer.", "us-federal/no-disclosure-threats"),
        ("We will send someone to your home tonight.", "us-federal/no-visit-threats"),
        ("Ｙｏｕ ｗｉｌｌ ｂｅ ａｒｒｅｓｔｅｄ.", "us-federal/no-threat-of-arrest"),
        ("Wе wіll соntасt yоur еmрlоyеr.", "us-federal/no-disclosure-threats"),
        ("This is not a threat, but you will be arrested.", "us-federal/no-threat-of-arrest"),
        ("If you don't pay, we will contact your employer.", "us-federal/no-disclosure-threats"),
        ("Si no paga, irá a la cárcel.", "us-federal/no-threat-of-arrest"),
        ("Si no paga, llamaremos a su empleador.", "us-federal/no-disclosure-threats"),
        ("Pague ya, idiota.", "us-federal/no-obscenity"),
    ],
)
def test_us_federal_finds_abuse_and_false_threats(policies, text, rule):
    assert rules_of(policies, text + STOP, "us-federal") == [rule]


@pytest.mark.parametrize(
    "text",
    [
        "We will not contact your employer about this account.",
        "This is not a threat. We simply want to help you get back on track.",
        "Missing a payment is not a crime, and you will not be arrested for an unpaid debt.",
        "Nobody from our company will ever visit you, call your boss, or contact your relatives.",
        "Beware of scammers pretending to be from a court or the police.",
        "Your payment of $45 was due on March 3. Call us to discuss a payment plan.",
        "No contactaremos a su empleador ni a su familia sobre esta cuenta.",
        "Atrasarse en un pago no es un delito y usted no será arrestado por una deuda.",
    ],
)
def test_us_federal_lets_what_collectors_really_send_pass(policies, text):
    assert rules_of(policies, text + STOP, "us-federal") == []


def test_a_violation_denies_the_contact_with_the_citation_and_the_span_masked(policies):
    decision = evaluate(make_request(message={"body": "Pay or go to JAIL." + STOP}), [], policies, NOON_ATLANTA)
    assert decision.outcome is Outcome.DENY and decision.not_before is None
    [reason] = decision.reasons
    assert reason.rule == "us-federal/no-threat-of-arrest" and "1692e(4)" in reason.citation
    assert "«J***»" in reason.message and "JAIL" not in reason.message


def test_a_spanish_opt_out_and_disclosure_count(policies):
    baja = "Su saldo es de $310.22. Para darse de baja de estos mensajes, responda BAJA."
    assert rules_of(policies, baja, "us-federal") == []
    spoken = "Este mensaje es de un cobrador de deudas. Su cuota vence el viernes. Responda STOP."
    assert rules_of(policies, spoken, "us-federal", agency=True) == []
    assert rules_of(policies, spoken, "us-federal", agency=True, initial=True) == ["us-federal/initial-disclosure"]


def test_a_third_party_learns_nothing_of_the_debt(policies):
    scope = {"role": RecipientRole.THIRD_PARTY, "purpose": Purpose.LOCATION_INFORMATION}
    assert rules_of(policies, "Tell Jordan he owes $1,200." + STOP, "us-federal", **scope) == [
        "us-federal/third-party-debt-mention"
    ]
    assert rules_of(policies, "Please have Jordan call Sam at 800-555-0109." + STOP, "us-federal", **scope) == []
    # the same words to the debtor are what a reminder says
    assert rules_of(policies, "You owe $1,200." + STOP, "us-federal") == []


def test_an_agencys_initial_message_needs_the_full_disclosure_and_later_ones_the_collector(policies):
    bare = {"body": "Your balance with Delta Recovery is $420." + STOP}
    short = {"body": "This is a communication from a debt collector. Your balance is $420." + STOP}
    first = evaluate(make_request(agency="delta", message=bare), [], policies, NOON_ATLANTA)
    assert {r.rule for r in first.reasons} == {"us-federal/debt-collector-disclosure", "us-federal/initial-disclosure"}
    assert evaluate(make_request(agency="delta", message=short), [], policies, NOON_ATLANTA).outcome is Outcome.DENY
    full = evaluate(make_request(agency="delta", message=COLLECTOR_MESSAGE), [], policies, NOON_ATLANTA)
    assert full.outcome is Outcome.ALLOW
    earlier = ContactRecord(
        contact_id="c-0",
        at=NOON_ATLANTA - timedelta(days=3),
        channel="sms",
        account_id="a-1",
        result="delivered",
        agency="delta",
    )
    later = evaluate(make_request(agency="delta", message=short), [earlier], policies, NOON_ATLANTA)
    assert later.outcome is Outcome.ALLOW
    # another agency's earlier text does not make this agency's first one subsequent
    other = evaluate(make_request(agency="other", message=short), [earlier], policies, NOON_ATLANTA)
    assert [r.rule for r in other.reasons] == ["us-federal/initial-disclosure"]
    # the creditor collecting its own debt is no debt collector
    assert evaluate(make_request(message=bare), [], policies, NOON_ATLANTA).outcome is Outcome.ALLOW


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("【安信银行】今天不还钱就报警抓你。", "cn/no-threats"),
        ("【安信银行】你这个老赖，赶紧还钱！", "cn/no-insults"),
        ("【安信銀行】你這個騙子，還錢！", "cn/no-insults"),
        ("【上海市公安局】请立即还款。", "cn/no-impersonation"),
        ("【安信银行】今天不还，就爆你通讯录。", "cn/no-contact-list-threats"),
        ("【安信银行】爆 通 讯 录", "cn/no-contact-list-threats"),
        ("【安信银行】明天派人到你单位找你。", "cn/no-visit-threats"),
    ],
)
def test_cn_finds_threats_insults_impersonation_and_contact_list_threats(policies, text, rule):
    assert rules_of(policies, text, "cn") == [rule]


@pytest.mark.parametrize(
    "text",
    [
        "【安信银行】我们不会联系您的单位或家人，请放心与我们沟通还款安排。",
        "【安信银行】温馨提示：谨防不法分子冒充公检法或我行工作人员实施诈骗。",
        "【安信银行】逾期不会导致您被拘留或坐牢，请不要轻信此类说法。",
        "【安信銀行】我們不會聯繫您的單位或家人，請放心。",
    ],
)
def test_cn_lets_reassurances_and_warnings_pass(policies, text):
    assert rules_of(policies, text, "cn") == []


def test_a_lawful_judgment_notice_may_cite_the_court_where_the_pack_allows_it(policies):
    notice = "【安信银行】法院判决已生效，请您按照判决书确定的金额履行还款义务。"
    assert rules_of(policies, notice, "cn", purpose=Purpose.LEGAL_NOTICE) == []
    assert rules_of(policies, notice, "cn", purpose=Purpose.REMINDER) == ["cn/no-impersonation"]
    threat = "【安信银行】法院判决已生效，不还钱就等着坐牢吧。"
    assert rules_of(policies, threat, "cn", purpose=Purpose.LEGAL_NOTICE) == ["cn/no-threats"]
    entered = "A judgment was entered by the Fulton County court on May 2." + STOP
    assert rules_of(policies, entered, "us-federal", purpose=Purpose.LEGAL_NOTICE) == []


def test_a_chinese_debtors_contact_is_denied_for_a_threat(policies):
    request = make_request(
        to="+8613800138000", location={"country": "CN"}, message={"body": "【安信银行】不还款就等着坐牢吧。"}
    )
    decision = evaluate(request, [], policies, NOON_BEIJING)
    assert decision.outcome is Outcome.DENY
    assert [r.rule for r in decision.reasons] == ["cn/no-threats"]


@pytest.mark.parametrize(("pack", "country"), [("ph", "PH"), ("in", "IN"), ("id", "ID")])
def test_other_packs_forbid_threats_in_english(policies, pack, country):
    assert rules_of(policies, "Pay or we will break your legs.", pack)
    assert rules_of(policies, "Your installment is due on Friday.", pack) == []


def test_a_pack_scopes_a_rule_to_roles_agencies_and_initial_communications():
    rule = {
        "id": "xx/collector",
        "kind": "content",
        "roles": ["debtor"],
        "agency_only": True,
        "communications": "initial",
        "required_all": ["debt collector"],
        "categories": ["insult"],
        "allow": [{"pattern": "idiot", "purposes": ["legal_notice"]}],
    }
    policies = build_policy_set({"xx.yaml": pack_with(rule)})
    text = "You idiot."
    assert rules_of(policies, text, "xx") == []  # not an agency's
    assert rules_of(policies, text, "xx", agency=True) == []  # not initial
    found = findings(policies, text, channel=Channel.SMS, agency=True, initial=True)
    assert [(f.category, f.span) for f in found] == [("required", ""), ("insult", "i****")]
    assert rules_of(policies, text, "xx", agency=True, initial=True, role=RecipientRole.THIRD_PARTY) == []
    legal = findings(policies, text, channel=Channel.SMS, agency=True, initial=True, purpose=Purpose.LEGAL_NOTICE)
    assert [f.category for f in legal] == ["required"]


def test_a_pattern_that_does_not_compile_is_refused_at_load():
    from chalicelib.domain.policy import PolicyError

    bad = {"id": "xx/bad", "kind": "content", "allow": [{"pattern": "(unclosed"}]}
    with pytest.raises(PolicyError, match="does not compile"):
        build_policy_set({"xx.yaml": pack_with(bad)})


def test_a_jurisdiction_is_a_pack_id_or_a_country_and_never_silently_nothing(policies):
    from chalicelib.domain.content import UnknownJurisdictionError

    threat = "【安信银行】不还钱就等着坐牢吧。"
    assert rules_of(policies, threat, "CN") == rules_of(policies, threat, "cn") == ["cn/no-threats"]
    with pytest.raises(UnknownJurisdictionError, match="'XX'"):
        findings(policies, threat, channel=Channel.SMS, jurisdictions=["XX"])


def test_a_call_has_no_message_to_judge(policies):
    call = make_request(channel="voice", message=None, agency="delta")
    assert evaluate(call, [], policies, NOON_ATLANTA).outcome is Outcome.ALLOW
