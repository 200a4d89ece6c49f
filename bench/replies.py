"""``make bench ONLY=replies``: how inbound replies are read, on the labelled corpus (tests/data/replies.jsonl).

- ``reply_opt_out_recall``: among replies labelled opt_out or cease, the share classified as either (goal >= 0.98).
- ``reply_false_opt_out_rate``: among the others, the share classified as opt_out or cease (goal <= 0.02).
Both on the held-out part (never tuned against) and on the whole. Then what the classifier adds to a cold
start: a fresh process importing it and classifying one reply (median of several), goal <= 50 ms.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from chalicelib.domain.inbound import REVOCATIONS, classify_reply

ROOT = Path(__file__).resolve().parent.parent
COLD = """
import time, chalicelib.domain
t = time.perf_counter()
from chalicelib.domain.inbound import classify
classify("I can't pay, stop harassing me")
print(time.perf_counter() - t)
"""


def load_corpus() -> list[dict[str, Any]]:
    corpus = ROOT / "tests" / "data" / "replies.jsonl"
    return [json.loads(line) for line in corpus.read_text("utf-8").splitlines() if line.strip()]


def _rates(rows: list[dict[str, Any]]) -> dict[str, Any]:
    revoking = [r for r in rows if r["label"] in REVOCATIONS]
    others = [r for r in rows if r["label"] not in REVOCATIONS]
    caught = [r for r in revoking if classify_reply(r["text"]).reply in REVOCATIONS]
    false = [r for r in others if classify_reply(r["text"]).reply in REVOCATIONS]
    return {
        "replies": len(rows),
        "reply_opt_out_recall": round(len(caught) / len(revoking), 4),
        "reply_false_opt_out_rate": round(len(false) / len(others), 4),
        "missed": [r["text"] for r in revoking if r not in caught],
        "false_opt_outs": [r["text"] for r in false],
        "intent_accuracy": round(sum(classify_reply(r["text"]).reply == r["label"] for r in rows) / len(rows), 4),
    }


def classifier_cold_ms(runs: int = 9) -> float:
    def once() -> float:
        done = subprocess.run([sys.executable, "-c", COLD], cwd=ROOT, capture_output=True, text=True, check=True)
        return float(done.stdout.strip().splitlines()[-1]) * 1000

    return round(statistics.median(once() for _ in range(runs)), 2)


def reply_figures() -> dict[str, Any]:
    rows = load_corpus()
    held_out = _rates([r for r in rows if r["held_out"]])
    whole = _rates(rows)
    return {
        "reply_opt_out_recall": held_out["reply_opt_out_recall"],
        "reply_false_opt_out_rate": held_out["reply_false_opt_out_rate"],
        "replies_held_out": held_out,
        "replies_whole": whole,
        "reply_classifier_cold_ms": classifier_cold_ms(),
    }
