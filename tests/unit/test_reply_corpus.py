"""The labelled replies (tests/data/replies.jsonl): a missed stop is an over-contact, so recall comes first."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from chalicelib.domain.inbound import REVOCATIONS, Reply, classify_reply

CORPUS = Path(__file__).resolve().parent.parent / "data" / "replies.jsonl"
RECALL_GOAL = 0.98
FALSE_OPT_OUT_GOAL = 0.02


def load_corpus() -> list[dict[str, Any]]:
    return [json.loads(line) for line in CORPUS.read_text("utf-8").splitlines() if line.strip()]


def revocation_rates(rows: list[dict[str, Any]]) -> tuple[float, float]:
    """(recall over replies labelled opt_out or cease, false opt-out rate over the others)."""
    revoking = [classify_reply(r["text"]).reply in REVOCATIONS for r in rows if r["label"] in REVOCATIONS]
    others = [classify_reply(r["text"]).reply in REVOCATIONS for r in rows if r["label"] not in REVOCATIONS]
    return sum(revoking) / len(revoking), sum(others) / len(others)


def test_the_corpus_is_large_labelled_and_a_third_held_out():
    rows = load_corpus()
    assert len(rows) >= 300
    assert {r["label"] for r in rows} == {reply.value for reply in Reply}
    assert sum(r["held_out"] for r in rows) >= 0.3 * len(rows)
    assert any(any("\u4e00" <= c <= "\u9fff" for c in r["text"]) for r in rows if r["label"] == "cease")


def test_the_whole_corpus_meets_the_recall_and_false_opt_out_goals():
    recall, false_rate = revocation_rates(load_corpus())
    assert recall >= RECALL_GOAL, recall
    assert false_rate <= FALSE_OPT_OUT_GOAL, false_rate


def test_every_revocation_in_the_corpus_names_the_words_that_decided_it():
    for row in load_corpus():
        found = classify_reply(row["text"])
        if found.reply in REVOCATIONS:
            assert found.matched, row["text"]
