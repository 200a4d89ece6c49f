"""``./gateway audit check-invariants``: every over-contact, every message without its ``sent`` event and the
reverse, every deferred contact past due, every committed event the audit table lacks, every broken chain.

Straight on the tables, with an operator's AWS rights (like ``./gateway keys``). The provider's list of sent
messages exists locally only (the stack's moto server, ``GET /_local/sent``); against AWS those two checks
are reported as not run. Exits 1 when anything is found, so a script or a pager can act on it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from tools.cli.client import CliError


def provider_sent(endpoint: str | None) -> list[Any] | None:
    from tools.invariants import SentMessage
    from tools.local.motoserver import SENT_PATH

    if not endpoint:
        return None
    try:
        answer = requests.get(endpoint.rstrip("/") + SENT_PATH, timeout=30)
        answer.raise_for_status()
    except requests.RequestException as exc:
        raise CliError(f"the local stack's provider lists could not be read ({exc}): is `make run` up?") from None
    return [SentMessage(**m) for m in answer.json()]


def _day(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text).replace(tzinfo=UTC) if len(text) == 10 else datetime.fromisoformat(text)
    except ValueError:
        raise CliError(f"not a date or an instant: {text!r}") from None


def cmd_check_invariants(args: argparse.Namespace) -> int:
    from chalicelib.domain.errors import StorageUnavailableError
    from chalicelib.services import maintenance
    from tools import invariants
    from tools.cli.keys_cli import _gateway

    now = datetime.now(UTC)
    end = _day(args.to) + (timedelta(days=1) if len(args.to) == 10 else timedelta()) if args.to else now
    start = _day(args.from_) if args.from_ else end - timedelta(days=1)
    gateway = _gateway(args)
    endpoint = gateway.settings.endpoint_url or os.environ.get("AWS_ENDPOINT_URL")
    try:
        tenants = args.tenant or maintenance.every_scope(gateway.keys)
        sent = provider_sent(endpoint)
        report = invariants.check_invariants(tenants, start, end, now, gateway.deps, sent)
    except StorageUnavailableError as exc:
        raise CliError(f"the tables could not be read ({exc}): is `make run` up, or AWS configured?") from None
    kinds: dict[str, int] = {}
    for violation in report.violations:
        kinds[violation.kind] = kinds.get(violation.kind, 0) + 1
        if args.json:
            print(json.dumps(violation.to_json()))
    summary = {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "tenants": list(tenants),
        "people": report.people,
        "contacts": report.contacts,
        "provider_lists": "checked" if sent is not None else "not available (no provider list in AWS)",
        "violations": kinds,
        # permitted calls whose outcome the dialer never reported: settled unknown, counted as the worst case
        "calls_without_reported_outcome": report.unreported_calls,
    }
    _record(gateway, tenants, summary, report.violations, now)
    if args.json:
        print(json.dumps({"summary": summary}))
    else:
        print(json.dumps(summary, indent=2))
        for v in report.violations:
            print(f"{v.kind:22} {v.tenant}/{v.debtor_id} {v.contact_id} {v.detail}")
        print(f"invariant violations: {len(report.violations)}")
    return 1 if report.violations else 0


def _record(gateway: Any, tenants: list[str], summary: dict[str, Any], violations: list[Any], now: datetime) -> None:
    """Each run's result, per tenant checked: what the daily report shows as the last invariant check."""
    from chalicelib.domain.errors import StorageUnavailableError

    if gateway.deps.rollups is None:
        return
    for tenant in tenants:
        mine = [v for v in violations if v.tenant == tenant]
        kinds: dict[str, int] = {}
        for violation in mine:
            kinds[violation.kind] = kinds.get(violation.kind, 0) + 1
        result = {**summary, "tenants": [tenant], "violations": kinds, "ok": not mine, "at": now.isoformat()}
        try:
            gateway.deps.rollups.record_check(tenant, result)
        except StorageUnavailableError as exc:
            print(f"the check's result could not be recorded for {tenant}: {exc}", file=sys.stderr)


def add_command(audit: Any) -> None:
    check = audit.add_parser("check-invariants", help="over-contact, lost or unrecorded sends, stuck deferrals, chains")
    check.add_argument("--from", dest="from_", help="a date or an instant (default: a day before --to)")
    check.add_argument("--to", help="a date (included) or an instant (default: now)")
    check.add_argument("--tenant", action="append", help="repeatable (default: every tenant and the shared scope)")
    check.add_argument("--local", action="store_true", help="the local stack's moto server ($MOTO_PORT, 5000)")
    check.add_argument("--json", action="store_true", help="one JSON line per violation, then a summary")
    check.set_defaults(func=cmd_check_invariants)
