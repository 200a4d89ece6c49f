"""Exports: a regulator-ready export bundle of contact histories, requested over HTTP, built asynchronously.

The request is recorded as a job and queued (SQS); the queue's worker builds the export bundle
(``services.export_bundle``) and records its files on the job, whose status hands out presigned URLs.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain.access import ACCESS_CHAIN
from chalicelib.domain.audit import Draft
from chalicelib.domain.errors import (
    ConflictError,
    GoneError,
    InvalidFieldError,
    NotFoundError,
    StorageUnavailableError,
)
from chalicelib.domain.events import EventType
from chalicelib.services.audit_read import MAX_RANGE_DAYS
from chalicelib.services.export_bundle import ExportSpec, write_export_bundle
from chalicelib.services.unit_of_work import UnitOfWork
from chalicelib.services.writes import record_change

__all__ = ["ExportSpec", "export_status", "request_export", "run_export", "write_export_bundle"]

logger = logging.getLogger(__name__)

FORMATS = ("csv", "jsonl", "pdf")
AVAILABLE_FOR = timedelta(days=7)  # then the bucket's lifecycle removes the bundle
URL_SECONDS = 3600


class ReasonRequiredError(InvalidFieldError):
    """An unmasked export asked for without saying why: refused, since the reason is what the trail keeps."""

    def __init__(self) -> None:
        super().__init__("reason", "an unmasked export needs a reason, which is recorded in the audit trail")


def _validate(spec: ExportSpec) -> None:
    if not spec.masked and not (spec.reason or "").strip():
        raise ReasonRequiredError()
    if not spec.formats:
        raise InvalidFieldError("formats", "choose at least one of csv, jsonl, pdf")
    unknown = [f for f in spec.formats if f not in FORMATS]
    if unknown:
        raise InvalidFieldError("formats", f"unknown format {unknown[0]!r}; choose from csv, jsonl, pdf")
    if "pdf" in spec.formats and not spec.debtor_id:
        raise InvalidFieldError("formats", "a PDF contact history is made per debtor: give debtor_id")
    if spec.start and spec.end and spec.start >= spec.end:
        raise InvalidFieldError("to", "must be after 'from'")
    if not (spec.debtor_id or spec.account_id):
        if not (spec.start and spec.end):
            raise InvalidFieldError("from", "an export without debtor_id or account_id needs 'from' and 'to'")
        if spec.end - spec.start > timedelta(days=MAX_RANGE_DAYS):
            raise InvalidFieldError(
                "from", f"an export without debtor_id or account_id spans at most {MAX_RANGE_DAYS} days"
            )


def request_export(
    tenant: str, spec: ExportSpec, deps: UnitOfWork, now: datetime, requested_by: str | None = None
) -> dict[str, Any]:
    """Record the job and queue it; the caller answers 202 at once."""
    _validate(spec)
    if spec.debtor_id and not _recorded(tenant, spec.debtor_id, deps):
        raise NotFoundError(f"debtor {spec.debtor_id}: nothing was ever recorded for this debtor")
    export_id = deps.new_export_id(now)
    _audit_request(tenant, export_id, spec, deps, now, requested_by)
    job = {
        "export_id": export_id,
        "tenant": tenant,
        "status": "queued",
        "filter": spec.filter_json(),
        "formats": sorted(set(spec.formats)),
        "masked": spec.masked,
        "created_at": now.isoformat(),
        "expires_at": (now + AVAILABLE_FOR).isoformat(),
        "progress": {"events": 0, "chains": 0, "chains_total": None},
    }
    if requested_by:
        job["requested_by"] = requested_by
    if not spec.masked:
        job["reason"] = spec.reason
    deps.jobs.create(job_key(tenant, export_id), job)
    try:
        deps.export_queue.send({"export_id": export_id, "tenant": tenant})
    except StorageUnavailableError:
        _finish(
            deps, tenant, export_id, {"status": "failed", "error": "the export could not be queued; request it again"}
        )
        raise
    return {"export_id": export_id, "status": "queued"}


def _audit_request(
    tenant: str, export_id: str, spec: ExportSpec, deps: UnitOfWork, now: datetime, requested_by: str | None
) -> None:
    """Recorded before the job exists: an export nobody can find in the trail is never built."""
    data = {
        "export_id": export_id,
        "by": requested_by,
        "filter": spec.filter_json(),
        "formats": sorted(set(spec.formats)),
        "masked": spec.masked,
        "reason": spec.reason,
    }
    drafts = [Draft(EventType.EXPORT_REQUESTED, export_id, data)]
    record_change((tenant, ACCESS_CHAIN), deps, now, drafts, lambda led: led)


def _recorded(tenant: str, debtor_id: str, deps: UnitOfWork) -> bool:
    """Events in the trail, or a ledger that committed some (the appender may not have appended them yet)."""
    if deps.audit.for_person(tenant, debtor_id, limit=1):
        return True
    return deps.ledgers is not None and deps.ledgers.get(tenant, debtor_id).version > 0


def job_key(tenant: str, export_id: str) -> str:
    """Jobs are stored under their tenant: an export id alone never reaches another tenant's job."""
    return f"{tenant}#{export_id}"


def _job(deps: UnitOfWork, tenant: str, export_id: str) -> tuple[dict[str, Any], int]:
    found = deps.jobs.get(job_key(tenant, export_id))
    if found is None or found[0].get("tenant") != tenant:
        raise NotFoundError(export_id)
    return found


def export_status(
    tenant: str, export_id: str, deps: UnitOfWork, now: datetime, *, regulator_key: str | None = None
) -> dict[str, Any]:
    """The job as clients see it; a finished bundle comes with presigned download URLs.

    A regulator's key sees only the exports granted to it: any other is not found.
    """
    job, _version = _job(deps, tenant, export_id)
    if regulator_key is not None and regulator_key not in job.get("granted_to", ()):
        raise NotFoundError(export_id)
    if now >= datetime.fromisoformat(job["expires_at"]):
        raise GoneError(f"export {export_id} expired at {job['expires_at']}; request a new one")
    view = {k: job[k] for k in ("export_id", "status", "filter", "formats", "created_at", "expires_at", "progress")}
    view["masked"] = job.get("masked", True)
    for key in ("counts", "error", "started_at", "finished_at", "requested_by", "granted_to", "reason"):
        if key in job:
            view[key] = job[key]
    if job["status"] == "done":
        view["files"] = [{**f, "url": deps.export_files.presigned_url(f["key"], URL_SECONDS)} for f in job["files"]]
    if regulator_key is not None:  # who asked for it and who else may read it are the tenant's business
        view.pop("requested_by", None)
        view.pop("granted_to", None)
    return view


def grant(
    tenant: str, export_id: str, key_id: str, deps: UnitOfWork, now: datetime, *, withdraw: bool = False
) -> list[str]:
    """Let one regulator key read this export (or no longer); returns every key it is granted to."""
    for _ in range(5):
        job, version = _job(deps, tenant, export_id)
        if now >= datetime.fromisoformat(job["expires_at"]) and not withdraw:
            raise GoneError(f"export {export_id} expired at {job['expires_at']}; request a new one")
        granted = sorted({*job.get("granted_to", ()), key_id} - ({key_id} if withdraw else set()))
        try:
            deps.jobs.update(job_key(tenant, export_id), {**job, "granted_to": granted}, version)
            return granted
        except ConflictError:
            continue  # the worker moved the job on: grant on the newer version
    raise StorageUnavailableError("the export job stayed contended")


def _finish(deps: UnitOfWork, tenant: str, export_id: str, changes: dict[str, Any]) -> None:
    for _ in range(5):
        found = deps.jobs.get(job_key(tenant, export_id))
        if found is None:
            return
        job, version = found
        if job["status"] == "done":
            return  # a worker on a redelivered message finished first: its bundle stands, whole
        try:
            deps.jobs.update(job_key(tenant, export_id), {**job, **changes}, version)
            return
        except ConflictError:
            continue


def run_export(tenant: str, export_id: str, deps: UnitOfWork, now: Callable[[], datetime]) -> dict[str, Any]:
    """The queue's worker: idempotent per job (a redelivered message finds it finished)."""
    job, version = _job(deps, tenant, export_id)
    if job["status"] in ("done", "failed"):
        return job
    started = now()
    version = deps.jobs.update(
        job_key(tenant, export_id), {**job, "status": "running", "started_at": started.isoformat()}, version
    )
    # Each run writes under its own prefix: a message redelivered while a run is still going (its
    # visibility timeout ran out) starts a second one, and two runs must never mix their files.
    prefix = f"exports/{tenant}/{export_id}/{started:%Y%m%dT%H%M%S}-{secrets.token_hex(4)}/"

    def progress(update: dict[str, Any]) -> None:
        nonlocal version, job
        try:
            job = {**job, "status": "running", "progress": update}
            version = deps.jobs.update(job_key(tenant, export_id), job, version)
        except ConflictError:
            pass  # progress is advisory

    try:
        manifest = write_export_bundle(tenant, export_id, ExportSpec.from_job(job), deps, started, progress, prefix)
    except Exception as exc:  # recorded on the job for the officer; a redelivery would fail the same way
        logger.exception("export %s failed", export_id)
        failed = {"status": "failed", "error": f"{type(exc).__name__}: the export could not be built; request it again"}
        _finish(deps, tenant, export_id, failed)
        return {**job, **failed}
    listed = {**manifest["files"], **manifest["bundle_files"]}
    files = [{"name": name, "key": prefix + name, **entry} for name, entry in listed.items()]
    done = {
        "status": "done",
        "finished_at": now().isoformat(),
        "counts": manifest["counts"],
        "progress": {
            "events": manifest["counts"]["events"],
            "chains": len(manifest["chains"]),
            "chains_total": len(manifest["chains"]),
        },
        "files": files,
    }
    _finish(deps, tenant, export_id, done)
    return {**job, **done}
