"""``./gateway audit`` and ``./gateway export``: the compliance officer's commands, over the HTTP API.

They talk to the gateway only through its public API (``--url``, ``$GATEWAY_URL``), so they work the
same against ``make run`` and a deployed stage; ``export verify`` needs nothing but the bundle.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from tools.cli import invariants_cli
from tools.cli.client import DEFAULT_URL, ApiError, CliError, GatewayClient

EVENT_COLUMNS = ("seq", "time (UTC)", "debtor", "type", "channel", "outcome", "contact id", "hash")
EVENT_ROW = "{:>6}  {:19}  {:14}  {:10}  {:7}  {:9}  {:34}  {}"
WAIT_SECONDS = 900.0


def _when(text: str) -> str:
    """``--from``/``--to``: checked here with the gateway's own rule, sent as typed."""
    from chalicelib.http.models import instant

    try:
        instant(text, end=False)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{exc}: {text!r}") from None
    return text


def _formats(text: str) -> list[str]:
    formats = [f.strip() for f in text.split(",") if f.strip()]
    unknown = [f for f in formats if f not in ("csv", "jsonl", "pdf")]
    if unknown or not formats:
        raise argparse.ArgumentTypeError(f"choose from csv, jsonl, pdf (comma-separated), not {text!r}")
    return formats


def _client(args: argparse.Namespace) -> GatewayClient:
    return GatewayClient.from_env(args.url, os.environ, getattr(args, "session", None))


def _event_row(event: dict[str, Any]) -> str:
    from chalicelib.domain.audit import event_outcome

    at = datetime.fromisoformat(event["at"]).astimezone(UTC)
    cells = (event["seq"], f"{at:%Y-%m-%d %H:%M:%S}", event["debtor_id"], event["type"], event.get("channel", ""))
    return EVENT_ROW.format(*cells, event_outcome(event) or "", event.get("contact_id", ""), event["hash"][:12])


def cmd_audit_events(args: argparse.Namespace) -> int:
    client, shown = _client(args), 0
    params = {"debtor_id": args.debtor, "account_id": args.account, "channel": args.channel, "type": args.type}
    params |= {"outcome": args.outcome, "from": args.start, "to": args.end, "order": args.order, "limit": args.limit}
    params["address"] = args.address  # alone, or with --order and --limit: every debtor's contacts to it
    pages = client.pages("/v1/audit/events", params) if args.all else iter([client.get("/v1/audit/events", params)])
    for page in pages:
        for event in page["events"]:
            if not args.json and shown == 0:
                print(EVENT_ROW.format(*EVENT_COLUMNS))
            print(json.dumps(event, ensure_ascii=False) if args.json else _event_row(event))
            shown += 1
        if page.get("cursor") and not args.all:
            print("more events: add --all to follow the cursor", file=sys.stderr)
    more = not args.all and bool(page.get("cursor"))  # a page's read budget may end it before any match
    if shown == 0 and not more:
        print(f"no events for debtor {args.debtor}" if args.debtor else "no events match", file=sys.stderr)
    return 0


def _verify_range(client: GatewayClient, args: argparse.Namespace) -> dict[str, Any]:
    from tqdm import tqdm

    totals: dict[str, Any] = {"chains": 0, "events": 0, "anchors_checked": 0, "failures": []}
    params = {"from": args.start, "to": args.end}
    with tqdm(unit="chain", desc="verifying", file=sys.stderr, disable=None) as bar:
        for page in client.pages("/v1/audit/verify", params):
            if page.get("remaining") is not None:  # a page read within a budget knows not what is left
                bar.total = totals["chains"] + page["chains"] + page["remaining"]
            bar.update(page["chains"])
            for key in ("chains", "events", "anchors_checked", "failures"):
                totals[key] += page[key]
    return totals


def cmd_audit_verify(args: argparse.Namespace) -> int:
    if not args.debtor and not (args.start and args.end):
        raise CliError("give --debtor, or --from and --to")
    client = _client(args)
    if args.debtor:
        result = client.get("/v1/audit/verify", {"debtor_id": args.debtor})
        failures = [] if result["ok"] else [result]
        print(f"debtor {args.debtor}: {result['checked']} events, {result.get('anchors_checked', 0)} anchored heads")
    else:
        totals = _verify_range(client, args)
        failures = totals["failures"]
        print(f"{totals['chains']} chains, {totals['events']} events, {totals['anchors_checked']} anchored heads")
    for failure in failures:
        if "debtor_id" not in failure:  # a chain an anchor names and the trail lost whole: known by its chain id
            print(
                f"BROKEN chain {failure.get('chain')} (anchored on {failure.get('anchor')}): {failure.get('problem')}"
            )
            continue
        print(f"BROKEN debtor {failure['debtor_id']} at seq {failure.get('broken_at')}: {failure.get('problem')}")
    print("ok: every chain verifies" if not failures else f"FAILED: {len(failures)} broken chain(s)")
    return 1 if failures else 0


def _export_status(client: GatewayClient, export_id: str) -> dict[str, Any]:
    try:
        return dict(client.get(f"/v1/exports/{quote(export_id, safe='')}"))
    except ApiError as exc:
        if exc.status == 404:
            raise CliError(f"export {export_id} not found") from None
        if exc.status == 410:  # the gateway says when: "export X expired at ...; request a new one"
            raise CliError(exc.detail) from None
        raise


def _wait(client: GatewayClient, export_id: str) -> dict[str, Any]:
    from tqdm import tqdm

    deadline = time.monotonic() + WAIT_SECONDS
    with tqdm(unit="chain", desc=export_id, file=sys.stderr, disable=None) as bar:
        while True:
            status = _export_status(client, export_id)
            progress = status.get("progress") or {}
            bar.total = progress.get("chains_total")
            bar.n = progress.get("chains") or 0
            bar.set_postfix(events=progress.get("events") or 0)
            if status["status"] in ("done", "failed"):
                return status
            if time.monotonic() > deadline:
                raise CliError(
                    f"export {export_id} is still {status['status']}; see `gateway export status {export_id}`"
                )
            time.sleep(1)


def _print_status(status: dict[str, Any]) -> None:
    counts = status.get("counts") or status.get("progress") or {}
    print(f"export {status['export_id']}: {status['status']} ({counts.get('events', 0)} events)")
    if status.get("error"):
        print(f"  error: {status['error']}")
    for f in status.get("files", []):
        print(f"  {f['name']:28} {f['bytes']:>10} B  sha256 {f['sha256'][:16]}")
    print(f"  expires at {status['expires_at']}")


def _download(client: GatewayClient, status: dict[str, Any], dest: Path) -> int:
    from tqdm import tqdm

    bad = []
    with tqdm(
        total=sum(f["bytes"] for f in status["files"]), unit="B", unit_scale=True, file=sys.stderr, disable=None
    ) as bar:
        for f in status["files"]:
            target = (dest / f["name"]).resolve()
            if not target.is_relative_to(dest.resolve()):
                raise CliError(f"{f['name']}: not a file name inside {dest}")
            if client.download(f["url"], target, bar.update) != f["sha256"]:
                bad.append(f["name"])
    for name in bad:
        print(f"error: {name}: its SHA-256 is not the one the gateway listed", file=sys.stderr)
    print(f"{len(status['files'])} files in {dest}; check them with: gateway export verify {dest}")
    return 1 if bad else 0


def cmd_export_create(args: argparse.Namespace) -> int:
    client = _client(args)
    body = {"debtor_id": args.debtor, "account_id": args.account, "from": args.start, "to": args.end}
    if args.unmasked:  # the gateway refuses it without a reason, and audits the reason
        body |= {"unmasked": True, "reason": args.reason}
    export_id = client.post("/v1/exports", {**body, "formats": args.formats})["export_id"]
    print(export_id)
    if not (args.wait or args.to_dir):
        return 0
    status = _wait(client, export_id)
    _print_status(status)
    if status["status"] != "done":
        return 1
    return _download(client, status, Path(args.to_dir)) if args.to_dir else 0


def cmd_export_status(args: argparse.Namespace) -> int:
    _print_status(_export_status(_client(args), args.export_id))
    return 0


def cmd_export_download(args: argparse.Namespace) -> int:
    client = _client(args)
    status = _export_status(client, args.export_id)
    if status["status"] != "done":
        raise CliError(f"export {args.export_id} is {status['status']}: {status.get('error') or 'not ready yet'}")
    return _download(client, status, Path(args.to))


def cmd_export_verify(args: argparse.Namespace) -> int:
    from tools.cli.bundle import verify_bundle

    directory = Path(args.bundle_dir)
    if not directory.is_dir():
        raise CliError(f"{directory}: not a folder")
    try:
        pem = Path(args.public_key).read_text("utf-8") if args.public_key else None
    except OSError as exc:
        raise CliError(f"cannot read the public key: {exc}") from None
    report = verify_bundle(directory, pem)
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for problem in report.problems:
        print(f"problem: {problem}")
    print(
        f"{'ok' if report.ok else 'FAILED'}: signature checked with {report.key_source}; {report.files} files, "
        f"{report.events} events in {report.chains} chains, {report.anchors} anchors "
        f"({report.anchored_heads} anchored heads)"
    )
    return 0 if report.ok else 1


def _add_audit(sub: Any, http: argparse.ArgumentParser) -> None:
    audit = sub.add_parser("audit", help="the audit trail").add_subparsers(dest="audit_command", required=True)
    events = audit.add_parser("events", parents=[http], help="list audit events (GET /v1/audit/events)")
    for name, dest in (("debtor", "debtor"), ("account", "account"), ("channel", "channel")):
        events.add_argument(f"--{name}", dest=dest)
    events.add_argument("--address", help="a phone number (any format) or an email: every contact to it")
    events.add_argument("--outcome", help="allow, defer, deny, sent, scheduled, blocked, failed, ...")
    events.add_argument("--type", help="event type: requested, decided, sent, ...")
    events.add_argument("--from", dest="start", type=_when, help="YYYY-MM-DD or ISO instant with offset")
    events.add_argument("--to", dest="end", type=_when, help="YYYY-MM-DD (inclusive) or ISO instant with offset")
    events.add_argument("--order", choices=["asc", "desc"], default="asc")
    events.add_argument("--limit", type=int, default=100, help="events per page (1..1000)")
    events.add_argument("--all", action="store_true", help="follow the cursor through every page")
    events.add_argument("--json", action="store_true", help="one JSON event per line")
    events.set_defaults(func=cmd_audit_events)
    verify = audit.add_parser("verify", parents=[http], help="verify hash chains and anchors (GET /v1/audit/verify)")
    verify.add_argument("--debtor", help="one debtor's chain")
    verify.add_argument("--from", dest="start", type=_when, help="every chain touched from this date or instant")
    verify.add_argument("--to", dest="end", type=_when, help="... until this one")
    verify.set_defaults(func=cmd_audit_verify)
    invariants_cli.add_command(audit)


def _add_export(sub: Any, http: argparse.ArgumentParser) -> None:
    export = sub.add_parser("export", help="signed export bundles").add_subparsers(dest="export_command", required=True)
    create = export.add_parser("create", parents=[http], help="request an export (POST /v1/exports)")
    create.add_argument("--debtor")
    create.add_argument("--account")
    create.add_argument("--from", dest="start", type=_when, help="YYYY-MM-DD or ISO instant with offset")
    create.add_argument("--to", dest="end", type=_when, help="YYYY-MM-DD (inclusive) or ISO instant with offset")
    create.add_argument("--formats", type=_formats, required=True, help="comma-separated: csv,jsonl,pdf")
    create.add_argument("--unmasked", action="store_true", help="full addresses and message text (needs --reason)")
    create.add_argument("--reason", help="why the export is unmasked: recorded in the audit trail")
    create.add_argument("--wait", action="store_true", help="wait until the bundle is built")
    create.add_argument("--to-dir", help="then download it into this folder (implies --wait)")
    create.set_defaults(func=cmd_export_create)
    status = export.add_parser("status", parents=[http], help="an export's status and files")
    status.add_argument("export_id")
    status.set_defaults(func=cmd_export_status)
    download = export.add_parser("download", parents=[http], help="download every file, checking each SHA-256")
    download.add_argument("export_id")
    download.add_argument("--to", required=True, help="folder to write the bundle into")
    download.set_defaults(func=cmd_export_download)
    verify = export.add_parser("verify", help="check a downloaded bundle offline: signature, files, chains, anchors")
    verify.add_argument("bundle_dir")
    verify.add_argument("--public-key", help="PEM from GET /v1/exports/public-key?format=pem (default: the bundle's)")
    verify.set_defaults(func=cmd_export_verify)


def add_commands(sub: Any) -> None:
    http = argparse.ArgumentParser(add_help=False)
    http.add_argument("--url", help=f"the gateway (default: $GATEWAY_URL or {DEFAULT_URL}); $GATEWAY_API_KEY if set")
    _add_audit(sub, http)
    _add_export(sub, http)
