"""Policy impact: what a proposed policy set would have changed over a range of the tenant's decisions.

Requested over HTTP and run as a queued job, as exports are: the request is audited
(``policy_impact_requested``), recorded as a job and put on the export queue, whose worker replays the
range (``domain.impact``) and stores the report on the job. The replay reads the trail and writes
nothing to it. ``./gateway replay`` runs the same replay from a shell, on the trail or on an export bundle.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

import yaml
from pydantic import ValidationError

from chalicelib.domain import impact, replay
from chalicelib.domain.access import ACCESS_CHAIN
from chalicelib.domain.audit import Draft
from chalicelib.domain.errors import ConflictError, InvalidFieldError, NotFoundError, StorageUnavailableError
from chalicelib.domain.events import EventType
from chalicelib.domain.impact_spec import JOB_KIND, MAX_PACKS, MAX_PACKS_BYTES, ImpactSpec
from chalicelib.domain.policy import Pack, PolicyError, PolicySet, build_policy_set
from chalicelib.domain.ports import AuditQuery
from chalicelib.services.audit_read import MAX_RANGE_DAYS, EventQuery, matching
from chalicelib.services.unit_of_work import UnitOfWork
from chalicelib.services.writes import record_change

logger = logging.getLogger(__name__)


def parse_packs(packs: Mapping[str, str]) -> list[Pack]:
    """Each proposed pack, validated; every problem names its pack (``packs.<id>``)."""
    if not packs:
        raise InvalidFieldError("packs", "give at least one proposed pack")
    if len(packs) > MAX_PACKS:
        raise InvalidFieldError("packs", f"at most {MAX_PACKS} packs")
    if sum(len(text.encode()) for text in packs.values()) > MAX_PACKS_BYTES:
        raise InvalidFieldError("packs", f"the packs' YAML is at most {MAX_PACKS_BYTES} bytes (UTF-8) in all")
    return [_pack(pack_id, text) for pack_id, text in sorted(packs.items())]


def _pack(pack_id: str, text: str) -> Pack:
    where = f"packs.{pack_id}"
    try:
        document = yaml.safe_load(text)
        pack = Pack.model_validate(document)
    except yaml.YAMLError as exc:
        raise InvalidFieldError(where, f"not YAML: {str(exc).splitlines()[0]}") from None
    except ValidationError as exc:
        error = exc.errors()[0]
        path = ".".join(str(p) for p in error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        raise InvalidFieldError(where, f"{path}: {message}" if path else message) from None
    if pack.id != pack_id:
        raise InvalidFieldError(where, f"the pack's id is {pack.id!r}: key it by its id")
    return pack


def proposed_set(current: PolicySet, packs: Iterable[Pack]) -> PolicySet:
    """The current set with the proposed packs in place of those of the same id; versioned as any set."""
    merged = impact.overlay(current, packs, "")
    try:
        return build_policy_set({p.id: p.model_dump(mode="json") for p in merged.packs})
    except PolicyError as exc:  # a pack valid alone that does not fit the set
        raise InvalidFieldError("packs", str(exc).splitlines()[0]) from None


def decided_events(tenant: str, start: datetime, end: datetime, audit: AuditQuery) -> Iterator[dict[str, Any]]:
    """The tenant's ``decided`` events in ``[start, end)``, a day at a time, in the order of their instants."""
    query = EventQuery(type=EventType.DECIDED.value, start=start, end=end, limit=1000)
    for _key, event in matching(tenant, query, audit):
        if event:
            yield dict(event)


def replay_events(
    tenant: str,
    events: Iterable[Mapping[str, Any]],
    current: PolicySet,
    packs: list[Pack],
    mode: impact.Mode = impact.Mode.RECORDED,
) -> dict[str, Any]:
    """Replay these events (the trail's or a bundle's, in the order of their instants) under the current
    set and the proposed packs."""
    proposed = proposed_set(current, packs)
    report = impact.replay(replay.cases(events, tenant), current, proposed, [p.id for p in packs], mode)
    return {
        "tenant": tenant,
        "policy_versions": {"current": current.version, "proposed": proposed.version},
        "proposed_packs": [p.id for p in packs],
        **report.to_json(proposed),
    }


def replay_range(
    tenant: str,
    start: datetime,
    end: datetime,
    current: PolicySet,
    packs: list[Pack],
    audit: AuditQuery,
    mode: impact.Mode = impact.Mode.RECORDED,
) -> dict[str, Any]:
    body = replay_events(tenant, decided_events(tenant, start, end, audit), current, packs, mode)
    return {"from": start.isoformat(), "to": end.isoformat(), **body}


# --- the job ---------------------------------------------------------------------------------------


def new_impact_id(now: datetime) -> str:
    return f"pi_{now:%Y%m%d%H%M%S}_{secrets.token_hex(5)}"


def _validate(spec: ImpactSpec) -> list[Pack]:
    if spec.start >= spec.end:
        raise InvalidFieldError("to", "must be after 'from'")
    if spec.end - spec.start > timedelta(days=MAX_RANGE_DAYS):
        raise InvalidFieldError("from", f"a replay spans at most {MAX_RANGE_DAYS} days")
    return parse_packs(spec.packs)


def _key(tenant: str, impact_id: str) -> str:
    return f"{tenant}#{impact_id}"


def request_impact(
    tenant: str, spec: ImpactSpec, deps: UnitOfWork, now: datetime, requested_by: str | None = None
) -> dict[str, Any]:
    """Audit the request, record the job and queue it; the caller answers 202 at once."""
    packs = _validate(spec)
    proposed = proposed_set(deps.policies, packs)
    impact_id = new_impact_id(now)
    window = {"from": spec.start.isoformat(), "to": spec.end.isoformat(), "mode": spec.mode.value}
    audited = {"impact_id": impact_id, "by": requested_by, **window, "packs": _digests(spec.packs)}
    drafts = [Draft(EventType.POLICY_IMPACT_REQUESTED, impact_id, {**audited, "proposed": proposed.version})]
    record_change((tenant, ACCESS_CHAIN), deps, now, drafts, _same)
    job = {
        "kind": JOB_KIND,
        "impact_id": impact_id,
        "tenant": tenant,
        "status": "queued",
        **window,
        "packs": dict(spec.packs),
        "created_at": now.isoformat(),
        **({"requested_by": requested_by} if requested_by else {}),
    }
    deps.jobs.create(_key(tenant, impact_id), job)
    try:
        deps.export_queue.send({"kind": JOB_KIND, "impact_id": impact_id, "tenant": tenant})
    except StorageUnavailableError:
        _finish(deps, tenant, impact_id, {"status": "failed", "error": "the replay could not be queued; ask again"})
        raise
    return {"impact_id": impact_id, "status": "queued"}


def _same(ledger: Any) -> Any:
    return ledger


def _digests(packs: Mapping[str, str]) -> dict[str, str]:
    """What the trail and a finished job keep of the proposed packs: each one's SHA-256."""
    return {i: hashlib.sha256(text.encode()).hexdigest() for i, text in sorted(packs.items())}


def impact_status(tenant: str, impact_id: str, deps: UnitOfWork) -> dict[str, Any]:
    """The job as the officer sees it: when done, with its report."""
    found = deps.jobs.get(_key(tenant, impact_id))
    if found is None or found[0].get("tenant") != tenant or found[0].get("kind") != JOB_KIND:
        raise NotFoundError(impact_id)
    job = found[0]
    view = {k: job[k] for k in ("impact_id", "status", "from", "to", "created_at")}
    view["mode"] = job.get("mode", impact.Mode.RECORDED.value)  # a job asked before modes was recorded
    view["packs"] = sorted(job.get("packs", {}))
    for key in ("requested_by", "started_at", "finished_at", "error", "report"):
        if key in job:
            view[key] = job[key]
    return view


def _finish(deps: UnitOfWork, tenant: str, impact_id: str, changes: dict[str, Any]) -> None:
    for _ in range(5):
        found = deps.jobs.get(_key(tenant, impact_id))
        if found is None or found[0]["status"] == "done":
            return  # a redelivered message's run finished first
        try:
            deps.jobs.update(_key(tenant, impact_id), {**found[0], **changes}, found[1])
            return
        except ConflictError:
            continue


def run_impact(tenant: str, impact_id: str, deps: UnitOfWork, now: Callable[[], datetime]) -> dict[str, Any]:
    """The queue's worker: replays the range and stores the report on the job (idempotent per job)."""
    found = deps.jobs.get(_key(tenant, impact_id))
    if found is None or found[0]["status"] in ("done", "failed"):
        return found[0] if found else {}
    job, version = found
    started = now()
    deps.jobs.update(_key(tenant, impact_id), {**job, "status": "running", "started_at": started.isoformat()}, version)
    start, end = datetime.fromisoformat(job["from"]), datetime.fromisoformat(job["to"])
    mode = impact.Mode(job.get("mode", impact.Mode.RECORDED))
    try:
        report = replay_range(tenant, start, end, deps.policies, parse_packs(job["packs"]), deps.audit, mode)
    except Exception as exc:  # recorded on the job for the officer; a redelivery would fail the same way
        logger.exception("policy impact %s failed", impact_id)
        failed = {"status": "failed", "error": f"{type(exc).__name__}: the replay could not be run; ask again"}
        _finish(deps, tenant, impact_id, failed)
        return {**job, **failed}
    done = {"status": "done", "finished_at": now().isoformat(), "report": report, "packs": _digests(job["packs"])}
    _finish(deps, tenant, impact_id, done)
    return {**job, **done}
