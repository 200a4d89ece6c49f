"""``make bench ONLY=content``: the content rules on the labelled messages (tests/data/content_corpus.jsonl).

- ``content_recall``: among messages labelled with a violation, the share with at least one finding
  (goal >= 0.97): a missed one would be sent.
- ``content_false_positive_rate``: among messages labelled compliant, the share with any finding
  (goal <= 0.02): a false one is a message a collector may lawfully send, refused.
Both on the held-out part (chosen by a hash of the text before any rule was written, never tuned against)
and on the whole, with every miss and false finding listed. Then the cost: findings per second on the
whole corpus once warm, and what the first Chinese message costs a fresh process (the character table). The
whole corpus is judged once more with the rules that ship disabled turned on (cn's identification rules).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from chalicelib import policy_store
from chalicelib.domain.content import ContentFinding, findings
from chalicelib.domain.policy import PolicySet

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "data" / "content_corpus.jsonl"
COLD = """
import time
from chalicelib import policy_store
from chalicelib.domain.content import findings
policies = policy_store.load_sources()
t = time.perf_counter()
findings(policies, "{text}", channel="sms", jurisdictions=["{pack}"])
print(time.perf_counter() - t)
"""


def load_corpus() -> list[dict[str, Any]]:
    return [json.loads(line) for line in CORPUS.read_text("utf-8").splitlines() if line.strip()]


def judge(row: dict[str, Any], policies: PolicySet) -> list[ContentFinding]:
    """The findings of the row's pack on its text, as the row's channel, recipient and sender would meet them."""
    return findings(
        policies,
        row["text"],
        channel=row["channel"],
        jurisdictions=[row["jurisdiction"]],
        role=row["role"],
        purpose=row["purpose"],
        agency=row["agency"],
        initial=row["communication"] == "initial",
    )


def rates(rows: list[dict[str, Any]], policies: PolicySet) -> dict[str, Any]:
    judged = [(row, judge(row, policies)) for row in rows]
    violating = [(row, found) for row, found in judged if row["labels"]]
    compliant = [(row, found) for row, found in judged if not row["labels"]]
    missed = [row["text"] for row, found in violating if not found]
    false = [{"text": row["text"], "found": [f"{f.rule} {f.span}" for f in found]} for row, found in compliant if found]
    return {
        "messages": len(rows),
        "violating": len(violating),
        "compliant": len(compliant),
        "content_recall": round(1 - len(missed) / len(violating), 4),
        "content_false_positive_rate": round(len(false) / len(compliant), 4),
        "missed": missed,
        "false_positives": false,
    }


def every_content_rule_on(policies: PolicySet) -> PolicySet:
    """The same packs with the content rules that ship disabled (low confidence) turned on."""
    packs = tuple(
        pack.model_copy(update={"rules": tuple(r.model_copy(update={"enabled": True}) for r in pack.rules)})
        for pack in policies.packs
    )
    return policies.model_copy(update={"packs": packs})


def findings_per_s(rows: list[dict[str, Any]], policies: PolicySet, seconds: float = 2.0) -> float:
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        for row in rows:
            judge(row, policies)
        count += len(rows)
    return round(count / (time.perf_counter() - started))


def first_message_ms(text: str, pack: str, runs: int = 5) -> float:
    """A fresh process: the first message judged (for Chinese, the traditional-character table is read then)."""

    def once() -> float:
        code = COLD.format(text=text, pack=pack)
        done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
        return float(done.stdout.strip().splitlines()[-1]) * 1000

    return round(statistics.median(once() for _ in range(runs)), 2)


def content_figures() -> dict[str, Any]:
    policies = policy_store.load_sources()
    rows = load_corpus()
    held_out = rates([r for r in rows if r["held_out"]], policies)
    return {
        "content_recall": held_out["content_recall"],
        "content_false_positive_rate": held_out["content_false_positive_rate"],
        "content_held_out": held_out,
        "content_whole": rates(rows, policies),
        "content_whole_disabled_rules_on": rates(rows, every_content_rule_on(policies)),
        "content_findings_per_s": findings_per_s(rows, policies),
        "content_first_message_ms_en": first_message_ms("Your payment is due. Reply STOP to opt out.", "us-federal"),
        "content_first_message_ms_zh": first_message_ms("【安信銀行】您的帳單已逾期，請盡快還款。", "cn"),
    }
