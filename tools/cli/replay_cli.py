"""``./gateway replay``: what proposed policy packs would have changed, replayed on recorded decisions.

On the trail (``--from``/``--to``, with the configured AWS endpoint and credentials, as ``dispatch``): the
tenant's ``decided`` events, under the deployed packs and the proposed ones. On an export bundle
(``--bundle``), offline, masked or not: a regulator checks a collector's claims with the collector's own
packs (``--current``; by default the packs this checkout publishes). Both print the same JSON report.
``--mode``: judge the decisions against the history as recorded (the default), or each set of packs against
the history it would have produced (``counterfactual``, docs/decisions/0039).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from chalicelib import policy_store
from chalicelib.domain.errors import InvalidFieldError
from chalicelib.domain.impact import Mode
from chalicelib.domain.policy import Pack, PolicyError, PolicySet
from chalicelib.services import policy_impact


def _when(end: bool) -> Any:
    def parse(text: str) -> datetime:
        from chalicelib.http.models import instant

        try:
            found = instant(text, end=end)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        assert found is not None
        return found

    return parse


def _packs(directory: Path) -> list[Pack]:
    """Every pack file of the directory (or the one file), validated as the route validates them."""
    return list(policy_store.load_sources([directory]).packs)


def bundle_events(directory: Path, start: datetime | None, end: datetime | None) -> Iterator[dict[str, Any]]:
    """The bundle's events with their content (a redacted stub has none), one line at a time."""
    with (directory / "events.jsonl").open("r", encoding="utf-8") as lines:
        for line in lines:
            event = json.loads(line)
            if "data" not in event:
                continue
            at = datetime.fromisoformat(event["at"])
            if (start is None or at >= start) and (end is None or at < end):
                yield event


def replay_bundle(
    directory: Path,
    current: PolicySet,
    packs: list[Pack],
    start: datetime | None = None,
    end: datetime | None = None,
    mode: Mode = Mode.RECORDED,
) -> dict[str, Any]:
    manifest = json.loads((directory / "manifest.json").read_text("utf-8"))
    tenant = manifest["tenant"]
    window = manifest.get("filter", {})
    report = policy_impact.replay_events(tenant, bundle_events(directory, start, end), current, packs, mode)
    first = start.isoformat() if start else window.get("from")
    last = end.isoformat() if end else window.get("to")
    source = {"export_id": manifest.get("export_id"), "masked": manifest.get("masked", True)}
    return {"from": first, "to": last, **report, "bundle": source}


def _online(args: argparse.Namespace, packs: list[Pack]) -> dict[str, Any]:
    """The trail's replay, with the runtime of the configured endpoint (or ``args.runtime``, a test's)."""
    from chalicelib.bootstrap import bootstrap

    g = getattr(args, "runtime", None) or bootstrap()
    tenants = [args.tenant] if args.tenant else g.keys.tenants()
    mode = Mode(args.mode)
    reports = [
        policy_impact.replay_range(t, args.start, args.end, g.policies, packs, g.deps.audit, mode) for t in tenants
    ]
    return reports[0] if args.tenant else {"reports": reports}


def _published() -> PolicySet:
    return policy_store.load_policy_bundle()


def cmd_replay(args: argparse.Namespace) -> int:
    try:
        packs = _packs(Path(args.policies))
        if args.bundle:
            current = policy_store.load_sources([Path(args.current)]) if args.current else _published()
            report = replay_bundle(Path(args.bundle), current, packs, args.start, args.end, Mode(args.mode))
        elif args.start is None or args.end is None:
            print("replay: give --from and --to, or --bundle", file=sys.stderr)
            return 2
        else:
            report = _online(args, packs)
    except (PolicyError, InvalidFieldError) as exc:
        print(f"replay: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"replay: cannot read: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(report, ensure_ascii=False, indent=1 if args.pretty else None))
    return 0


def add_commands(sub: Any) -> None:
    replay = sub.add_parser("replay", help="what proposed packs would have changed: recorded decisions decided again")
    replay.add_argument("--from", dest="start", type=_when(end=False), help="first day (or instant) replayed")
    replay.add_argument("--to", dest="end", type=_when(end=True), help="last day replayed (or the instant it ends)")
    replay.add_argument("--policies", required=True, help="the proposed pack files: a folder, or one file")
    replay.add_argument("--tenant", help="the tenant whose trail is replayed (default: every tenant)")
    replay.add_argument("--bundle", help="replay an export bundle's folder offline instead of the trail")
    replay.add_argument(
        "--current", help="with --bundle: the packs it was decided under (default: policies/ as published)"
    )
    replay.add_argument(
        "--mode",
        choices=[m.value for m in Mode],
        default=Mode.RECORDED.value,
        help="the history decisions are judged against: as recorded (default), or the one each set of packs "
        "would have produced, a contact it blocks leaving it (counterfactual)",
    )
    replay.add_argument("--pretty", action="store_true", help="indent the JSON")
    replay.set_defaults(func=cmd_replay)
