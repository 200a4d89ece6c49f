"""``./gateway submit FILE.jsonl`` and ``./gateway demo``: a campaign through the batch API, then a summary.

A campaign file holds one request a line (the body of ``POST /v1/contacts``, with an optional
``idempotency_key``). It is posted 500 at a time; every request carries an idempotency key (its own, or one
made from its line) and every batch an ``Idempotency-Key`` made from its requests' keys, so posting the file
again, whole or with some lines fixed, sends nothing twice.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from tools import ROOT
from tools.cli.client import CliError, GatewayClient

BATCH = 500
WAIT_SECONDS = 1800.0
POLL_SECONDS = 2.0
CAMPAIGN = ROOT / "examples" / "campaign.jsonl"
OPT_OUTS = ROOT / "examples" / "campaign-opt-outs.jsonl"


def read_campaign(path: Path) -> tuple[list[dict[str, Any]], str]:
    """The requests, each with an ``idempotency_key`` of its own unless it has one: a hash of its line and
    of how many identical lines came before it. Fixing one line and posting the file again therefore sends
    nothing twice; only the fixed request is new."""
    try:
        raw = path.read_bytes()
        lines = [line.strip() for line in raw.decode("utf-8").splitlines() if line.strip()]
        requests = [json.loads(line) for line in lines]
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise CliError(f"{path}: not UTF-8 text") from None
    except ValueError as exc:
        raise CliError(f"{path}: a line is not JSON: {exc}") from None
    seen: Counter[str] = Counter()
    for line, request in zip(lines, requests, strict=True):
        if isinstance(request, dict) and "idempotency_key" not in request:
            seen[line] += 1
            digest = hashlib.sha256(f"{seen[line]}:{line}".encode()).hexdigest()[:40]
            request["idempotency_key"] = f"line-{digest}"
    return requests, hashlib.sha256(raw).hexdigest()[:16]


def _batch_key(chunk: list[dict[str, Any]]) -> str:
    """A batch is named by what it holds, so a repost of the same requests is the same batch."""
    keys = [str(r.get("idempotency_key")) if isinstance(r, dict) else json.dumps(r) for r in chunk]
    return "file-" + hashlib.sha256("\n".join(keys).encode()).hexdigest()[:40]


def submit(client: GatewayClient, requests: list[dict[str, Any]], accept_valid: bool) -> list[str]:
    from tqdm import tqdm

    batch_ids = []
    with tqdm(total=len(requests), unit="contact", desc="posting", file=sys.stderr, disable=None) as bar:
        for start in range(0, len(requests), BATCH):
            chunk = requests[start : start + BATCH]
            body = {"contacts": chunk, "accept_valid": accept_valid}
            answer = client.post_with("/v1/contacts/batch", body, {"Idempotency-Key": _batch_key(chunk)})
            batch_ids.append(answer["batch_id"])
            bar.update(len(chunk))
    return batch_ids


def wait(
    client: GatewayClient, batch_ids: list[str], total: int, timeout: float = WAIT_SECONDS
) -> list[dict[str, Any]]:
    """Polls the first unfinished batch only (the worker takes them roughly in order): reading every
    batch's results each second would cost the stack more than the decisions do."""
    from tqdm import tqdm

    finished: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + timeout
    with tqdm(total=total, unit="contact", desc="deciding", file=sys.stderr, disable=None) as bar:
        for batch_id in batch_ids:
            while True:
                state = client.get(f"/v1/contacts/batch/{batch_id}")
                done = sum(s["progress"]["total"] for s in finished.values()) + state["progress"]["done"]
                bar.update(done - bar.n)
                if state["status"] == "done":
                    finished[batch_id] = state
                    break
                if time.monotonic() > deadline:
                    raise CliError(f"the batches were not done within {timeout:g} s: {', '.join(batch_ids)}")
                time.sleep(POLL_SECONDS)
    return [r for batch_id in batch_ids for r in finished[batch_id]["results"]]


def summary(requests: list[dict[str, Any]], results: list[dict[str, Any]], batch_size: int = BATCH) -> str:
    """By jurisdiction (the packs that decided), channel and status, and the rules that refused most."""
    rows: Counter[tuple[str, str, str]] = Counter()
    refusals: Counter[str] = Counter()
    for position, result in enumerate(results):
        request = requests[position] if position < len(requests) else {}
        packs = ",".join(p for p in result.get("packs", []) if not p.startswith("house")) or "-"
        rows[(packs, str(request.get("channel", "?")), str(result["status"]))] += 1
        refusals.update(result.get("rules") or [])
        for error in result.get("errors") or []:
            refusals[f"invalid: {error['field'].split('.', 1)[-1]}"] += 1
    lines = [f"{'jurisdiction (packs)':32} {'channel':8} {'status':10} {'count':>6}"]
    lines += [f"{p:32} {c:8} {s:10} {n:>6}" for (p, c, s), n in sorted(rows.items())]
    statuses = Counter(str(r["status"]) for r in results)
    lines += ["", "by status: " + ", ".join(f"{s} {n}" for s, n in sorted(statuses.items())), "", "top reasons:"]
    lines += [f"{n:>6}  {rule}" for rule, n in refusals.most_common(8)]
    return "\n".join(lines)


def cmd_submit(args: argparse.Namespace) -> int:
    client = GatewayClient.from_env(args.url, os.environ, getattr(args, "session", None), role="submitter")
    requests, _digest = read_campaign(Path(args.file))
    if not requests:
        raise CliError(f"{args.file}: no requests")
    batch_ids = submit(client, requests, args.accept_valid)
    print(json.dumps({"batches": batch_ids, "requests": len(requests)}))
    if args.no_wait:
        return 0
    results = wait(client, batch_ids, len(requests))
    print(summary(requests, results))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Against the running local stack: the people who opted out, then the morning's campaign."""
    officer = GatewayClient.from_env(args.url, os.environ, getattr(args, "session", None), role="compliance")
    opt_outs, _ = read_campaign(OPT_OUTS)
    for change in opt_outs:
        body = {"opt_outs": change["opt_outs"], "reason": "demo: asked not to be texted", "actor": "demo"}
        officer._call("PUT", f"/v1/debtors/{change['debtor_id']}/preferences", json=body)
    print(f"recorded {len(opt_outs)} opt-outs", file=sys.stderr)
    args.file, args.no_wait = str(CAMPAIGN), False
    return cmd_submit(args)


def add_commands(sub: Any) -> None:
    submit_cmd = sub.add_parser("submit", help="post a campaign (JSON lines) through the batch API, with a summary")
    submit_cmd.add_argument("file", help="one request a line: the body of POST /v1/contacts")
    submit_cmd.add_argument("--url", help="the gateway (default: $GATEWAY_URL or the local stack)")
    submit_cmd.add_argument("--accept-valid", action="store_true", help="queue the valid requests of a batch")
    submit_cmd.add_argument("--no-wait", action="store_true", help="print the batch ids and stop")
    submit_cmd.set_defaults(func=cmd_submit)
    demo = sub.add_parser("demo", help="against make run: opt-outs, then examples/campaign.jsonl, then a summary")
    demo.add_argument("--url", help="the gateway (default: $GATEWAY_URL or the local stack)")
    demo.set_defaults(func=cmd_demo, accept_valid=False)
