"""Every opt-out keyword and its variants; opt-in, help, and replies left for a human."""

from __future__ import annotations

import pytest

from chalicelib.domain.inbound import Reply, classify, classify_reply

OPT_OUT = [
    "STOP",
    "STOPALL",
    "QUIT",
    "END",
    "REVOKE",
    "OPT OUT",
    "OPTOUT",
    "CANCEL",
    "UNSUBSCRIBE",
    "退订",
    "TD",
    "T",
    "取消",
]


@pytest.mark.parametrize("word", OPT_OUT)
@pytest.mark.parametrize("variant", [str, str.lower, str.title, lambda w: f"  {w}!!", lambda w: f"{w}."])
def test_every_opt_out_word_in_any_case_spacing_and_punctuation(word, variant):
    assert classify(variant(word)) is Reply.OPT_OUT


@pytest.mark.parametrize(
    "text", ["ＳＴＯＰ", "ｓｔｏｐ", "Ｔ Ｄ", "S T O P", "s-t-o-p", "Opt-Out", "退订。", "【退订】"]
)
def test_full_width_spaced_and_hyphenated_forms(text):
    assert classify(text) is Reply.OPT_OUT


@pytest.mark.parametrize(
    "text",
    [
        "stop texting me",
        "Please stop",
        "please stop!!",
        "Don't text me again",
        "no more messages",
        "leave me alone",
        "remove me from your list",
        "不要再发短信了",
    ],
)
def test_phrases_a_reasonable_person_reads_as_stop(text):
    assert classify(text) is Reply.OPT_OUT


@pytest.mark.parametrize(
    ("text", "kind"), [("START", Reply.OPT_IN), ("unstop", Reply.OPT_IN), ("HELP", Reply.HELP), ("help?", Reply.HELP)]
)
def test_opt_in_and_help(text, kind):
    assert classify(text) is kind


@pytest.mark.parametrize(
    "text",
    ["I will pay on Friday", "stopped by the bank yesterday", "Tuesday", "the end is near", "what is this about", ""],
)
def test_other_replies_are_left_for_a_human(text):
    assert classify(text) is Reply.UNRECOGNISED


@pytest.mark.parametrize("text", ["Stop please", "STOP STOP", "Stop it", "opt out please", "退訂", "ЅТОР", "stop now"])
def test_keywords_with_filler_words_look_alikes_and_traditional_chinese(text):
    assert classify(text) is Reply.OPT_OUT


@pytest.mark.parametrize(
    "text",
    [
        "Don't stop texting me",
        "If I don't call you by Friday, charge the card",
        "When did you stop sending statements?",
        "Can you please stop by?",
        "Please don't remove me from the plan",
        "I can't pay, please don't cancel my plan",
    ],
)
def test_negations_questions_and_conditions_are_not_opt_outs(text):
    assert classify(text) is Reply.UNRECOGNISED


@pytest.mark.parametrize(
    "text",
    [
        "I can't pay, stop harassing me",
        "别再给我发短信了",
        "別再給我發簡訊了",
        "取消订阅",
        "can you stop texting me?",
        "why won't you stop texting me",
        "If you don't stop texting me I will report you",
        "回复TD退订",
        "Reply STOP to opt out",
        "STOP 🙏",
        "St0p",
    ],
)
def test_a_revocation_word_counts_even_when_the_reply_says_more(text):
    assert classify(text) is Reply.OPT_OUT


@pytest.mark.parametrize(
    "text", ["cease", "CEASE and desist", "Stop all communication with me", "请不要联系我", "停止催收", "ＣＥＡＳＥ"]
)
def test_cease_in_english_and_chinese(text):
    assert classify(text) is Reply.CEASE


@pytest.mark.parametrize(
    "text", ["don't stop the reminders", "不用退订", "不要退订", "我不想退订", "Did you stop the autopay?", "bus stop"]
)
def test_clear_negations_and_idioms_do_not_opt_out_and_say_what_they_set_aside(text):
    found = classify_reply(text)
    assert found.reply is Reply.UNRECOGNISED
    assert found.set_aside


def test_a_negation_binds_within_its_clause_only():
    assert classify("Not now, stop") is Reply.OPT_OUT
    assert classify("不用了，退订") is Reply.OPT_OUT


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Wrong number", Reply.WRONG_PARTY),
        ("This is not John", Reply.WRONG_PARTY),
        ("发错人了", Reply.WRONG_PARTY),
        ("not my debt", Reply.DISPUTE),
        ("I already paid", Reply.DISPUTE),
        ("我已经还款了", Reply.DISPUTE),
        ("不是我借的", Reply.DISPUTE),
        ("Wrong number, stop texting me", Reply.OPT_OUT),  # a revocation outranks the rest
    ],
)
def test_wrong_party_and_dispute(text, kind):
    assert classify(text) is kind


def test_the_words_that_decided_are_named():
    assert classify_reply("I can't pay, stop harassing me").matched == "stop harassing me"
    assert classify_reply("Stop calling me").about_calls
    assert not classify_reply("stop texting me").about_calls
