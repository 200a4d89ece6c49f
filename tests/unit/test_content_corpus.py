"""The labelled messages (tests/data/content_corpus.jsonl): what the content rules must find, and spare."""

from __future__ import annotations

import pytest

from bench.content import every_content_rule_on, load_corpus, rates
from chalicelib.domain.content_words import WORDS

RECALL_GOAL = 0.97
FALSE_POSITIVE_GOAL = 0.02
REQUIRED_LABELS = {"missing_opt_out", "missing_disclosure", "missing_identification"}


@pytest.fixture(scope="module")
def corpus():
    return load_corpus()


def test_the_corpus_is_large_labelled_and_a_third_held_out(corpus):
    assert len(corpus) >= 300
    assert sum(r["held_out"] for r in corpus) >= 0.3 * len(corpus)
    labels = {label for r in corpus for label in r["labels"]}
    assert labels == set(WORDS) | REQUIRED_LABELS
    assert {r["jurisdiction"] for r in corpus} == {"us-federal", "cn"}
    texts = [r["text"] for r in corpus]
    assert any("銀行" in t for t in texts) and any("ａｒｒｅｓｔｅｄ" in t for t in texts)  # traditional, full-width
    assert any("cárcel" in t for t in texts)  # Spanish, which US debtors read too
    assert sum(not r["labels"] for r in corpus) >= 100  # enough compliant messages to measure 2%


def test_the_whole_corpus_meets_the_recall_and_false_positive_goals(corpus, policies):
    figures = rates(corpus, policies)
    assert figures["content_recall"] >= RECALL_GOAL, figures["missed"]
    assert figures["content_false_positive_rate"] <= FALSE_POSITIVE_GOAL, figures["false_positives"]


def test_every_forbidden_message_is_found_and_the_misses_are_rules_shipped_disabled(corpus, policies):
    figures = rates(corpus, policies)
    missed = [r for r in corpus if r["text"] in figures["missed"]]
    assert all(set(r["labels"]) == {"missing_identification"} for r in missed), missed
    assert rates(corpus, every_content_rule_on(policies))["content_recall"] == 1.0
