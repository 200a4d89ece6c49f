"""The SQS triggers of the dispatch and export workers, given the bodies of one delivery's messages."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from chalicelib import observability
from chalicelib.domain import impact_spec
from chalicelib.services import dispatch, exports, webhook_delivery

if TYPE_CHECKING:
    from chalicelib.bootstrap import Runtime


def dispatch_worker(bodies: Iterable[str], g: Runtime, now: Callable[[], datetime]) -> list[dispatch.DispatchReport]:
    """Shard messages enqueue their due people; people messages send their due contacts. Handling a message
    twice, or beside another worker, sends nothing twice (each contact is a conditional commit). A message
    that fails does not stop the others; then the delivery is handed back whole (``DispatchIncompleteError``)."""
    reports, failed = [], 0
    for body in bodies:
        try:
            report = dispatch.handle_message(json.loads(body), g.deps, g.dispatch_queue, now())
        except Exception:  # noqa: BLE001 - the others of the delivery still run; this one comes back
            observability.logger.exception("a dispatch message failed; it comes back from the queue")
            failed += 1
            continue
        g.metrics.record_dispatch(report.dispatched, report.lag_seconds)
        reports.append(report)
    if failed:
        raise dispatch.DispatchIncompleteError(f"{failed} dispatch messages go back to the queue")
    return reports


def export_worker(bodies: Iterable[str], g: Runtime, now: Callable[[], datetime]) -> list[dict[str, Any]]:
    """Builds each export bundle, or runs each policy impact replay; a redelivered message finds the job
    finished and does nothing. A finished export is announced to the tenant's webhooks (``export.done``);
    that failing fails no export."""
    done = []
    for body in bodies:
        job = json.loads(body)
        if job.get("kind") == impact_spec.JOB_KIND:
            from chalicelib.services import policy_impact  # YAML and the replay: only for a replay job

            done.append(policy_impact.run_impact(job["tenant"], job["impact_id"], g.deps, now))
            continue
        result = exports.run_export(job["tenant"], job["export_id"], g.deps, now)
        done.append(result)
        if result.get("status") == "done":
            try:
                webhook_delivery.announce_export(g.webhooks, job["tenant"], result, now())
            except Exception:  # noqa: BLE001 - the bundle is built; only its announcement is lost
                observability.logger.exception("export.done was not announced")
    return done
