"""Export bundles: the chains a filter selects, streamed to files in one pass per chain.

Each chain is exported as a whole segment (every sequence number from its first to its last selected
event), so it can be verified offline; events of the segment outside the filter (another debt of the
same person) are stubs without their content (``domain.audit.stub``). Memory holds one S3 part per
file and a few numbers per chain, never the history. ``manifest.json`` lists every file's SHA-256
and is signed through ``manifest.sha256`` by an asymmetric KMS key.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.domain.audit import event_outcome, stub
from chalicelib.domain.events import AuditEvent, EventType
from chalicelib.domain.export_masking import masked_line
from chalicelib.domain.masking import mask_address, mask_body
from chalicelib.domain.policy import canonical_json
from chalicelib.domain.ports import AuditQuery, ExportFiles, StreamWriter
from chalicelib.domain.receipts import latest_delivery
from chalicelib.services import anchors
from chalicelib.services.audit_read import EventQuery, matching
from chalicelib.services.unit_of_work import UnitOfWork

EXPORT_BUNDLE_FORMAT = "gateway-export/2"  # /1 copied whole anchors (0028)
MAX_PDF_CONTACTS = 5000
PROGRESS_EVERY = 2000  # events between progress updates of the job
CSV_COLUMNS = (
    "debtor_id",
    "seq",
    "at_utc",
    "type",
    "contact_id",
    "account_id",
    "channel",
    "outcome",
    "to_masked",
    "policy_version",
    "rules",
    "citations",
    "prev_hash",
    "hash",
)
FILE_TYPES = {
    "events.jsonl": "application/x-ndjson",
    "events.csv": "text/csv; charset=utf-8",
    "contact-history.pdf": "application/pdf",
}


@dataclass(frozen=True)
class ExportSpec:
    debtor_id: str | None = None
    account_id: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    formats: tuple[str, ...] = ("jsonl",)
    masked: bool = True  # addresses and message text hidden in every file (docs/decisions/0025)
    reason: str | None = None  # why an unmasked export was asked for: required then, and audited

    def filter_json(self) -> dict[str, Any]:
        return {
            "debtor_id": self.debtor_id,
            "account_id": self.account_id,
            "from": self.start.isoformat() if self.start else None,
            "to": self.end.isoformat() if self.end else None,
        }

    @classmethod
    def from_job(cls, job: dict[str, Any]) -> ExportSpec:
        f = job["filter"]
        return cls(
            debtor_id=f["debtor_id"],
            account_id=f["account_id"],
            start=datetime.fromisoformat(f["from"]) if f["from"] else None,
            end=datetime.fromisoformat(f["to"]) if f["to"] else None,
            formats=tuple(job["formats"]),
            masked=job.get("masked", True),  # a job queued before masking existed is masked too
            reason=job.get("reason"),
        )


def plan_chains(tenant: str, spec: ExportSpec, audit: AuditQuery) -> dict[str, list[int]]:
    """Debtor -> [first seq, last seq] of the events the filter selects."""
    query = EventQuery(debtor_id=spec.debtor_id, account_id=spec.account_id, start=spec.start, end=spec.end)
    chains: dict[str, list[int]] = {}
    for _key, event in matching(tenant, query, audit, bodies=False):
        span = chains.setdefault(event["debtor_id"], [event["seq"], event["seq"]])
        span[0], span[1] = min(span[0], event["seq"]), max(span[1], event["seq"])
    return chains


def _in_filter(event: AuditEvent, spec: ExportSpec) -> bool:
    """Inside a chain's segment every event is in range; only another debt's events are left out."""
    return not spec.account_id or event.get("account_id") == spec.account_id


def csv_row(event: AuditEvent) -> dict[str, Any]:
    data = event.get("data", {})
    reasons = data.get("reasons", []) if isinstance(data.get("reasons"), list) else []
    return {
        "debtor_id": event["debtor_id"],
        "seq": event["seq"],
        "at_utc": datetime.fromisoformat(event["at"]).astimezone(UTC).isoformat(),
        "type": event["type"],
        "contact_id": event["contact_id"],
        "account_id": event.get("account_id", ""),
        "channel": event.get("channel", ""),
        "outcome": event_outcome(event) or "",
        "to_masked": mask_address(data.get("to")) if event["type"] == EventType.REQUESTED else "",
        "policy_version": data.get("policy_version", ""),
        "rules": "; ".join(str(r.get("rule", "")) for r in reasons),
        "citations": "; ".join(str(r.get("citation", "")) for r in reasons),
        "prev_hash": event["prev_hash"],
        "hash": event["hash"],
    }


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _as_text(value: Any) -> Any:
    """A cell a spreadsheet would run as a formula (``+1404•••0100``, an address ``=cmd|...``) is
    prefixed with an apostrophe, so it opens as text (OWASP's CSV injection advice)."""
    return f"'{value}" if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


class _CsvWriter:
    def __init__(self, out: StreamWriter) -> None:
        self._out, self._buffer = out, io.StringIO()
        self._writer = csv.DictWriter(self._buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
        self._writer.writeheader()
        self.rows = 0

    def write(self, event: AuditEvent) -> None:
        self._writer.writerow({k: _as_text(v) for k, v in csv_row(event).items()})
        self.rows += 1
        if self._buffer.tell() > 1 << 16:
            self.flush()

    def flush(self) -> None:
        self._out.write(self._buffer.getvalue().encode("utf-8"))
        self._buffer.seek(0)
        self._buffer.truncate()


@dataclass
class _Tally:
    events: int = 0
    redacted: int = 0
    by_channel_outcome: Counter[tuple[str, str]] = field(default_factory=Counter)
    policy_versions: set[str] = field(default_factory=set)
    first_at: str | None = None
    last_at: str | None = None
    days: set[str] = field(default_factory=set)

    def add(self, event: AuditEvent) -> None:
        self.events += 1
        outcome = event_outcome(event)
        if outcome:
            self.by_channel_outcome[(event.get("channel", "none"), outcome)] += 1
        version = event.get("data", {}).get("policy_version")
        if version:
            self.policy_versions.add(version)
        at = datetime.fromisoformat(event["at"]).astimezone(UTC)
        text = at.isoformat()
        self.first_at = min(self.first_at or text, text)
        self.last_at = max(self.last_at or text, text)
        self.days.add(at.date().isoformat())

    def counts(self) -> dict[str, Any]:
        nested: dict[str, dict[str, int]] = {}
        for (channel, outcome), n in sorted(self.by_channel_outcome.items()):
            nested.setdefault(channel, {})[outcome] = n
        return {"events": self.events, "redacted": self.redacted, "by_channel_and_outcome": nested}


SHORT_SEGMENT = 25  # events; shorter segments are read by key, several chains in one call
KEYS_PER_READ = 100  # keys handed to one by_keys call


def segments(tenant: str, chains: dict[str, list[int]], audit: AuditQuery) -> Iterator[AuditEvent]:
    """Each chain's segment, chain after chain. Short ones (most debtors have a few events a day) are read
    by key (GetItems, several in flight), up to 100 events of consecutive chains at a time, instead of a Query
    per chain."""
    keys: list[tuple[str, int]] = []
    for debtor_id in sorted(chains):
        first, last = chains[debtor_id]
        if last - first + 1 > SHORT_SEGMENT:
            if keys:
                yield from audit.by_keys(tenant, keys)
                keys = []
            yield from audit.segment(tenant, debtor_id, first, last)
            continue
        if len(keys) + last - first + 1 > KEYS_PER_READ:
            yield from audit.by_keys(tenant, keys)
            keys = []
        keys += [(debtor_id, seq) for seq in range(first, last + 1)]
    if keys:
        yield from audit.by_keys(tenant, keys)


class _Streams:
    """The bundle's event files, written as the events go by."""

    def __init__(self, store: ExportFiles, prefix: str, spec: ExportSpec) -> None:
        formats, self.masked = spec.formats, spec.masked
        self.jsonl = store.writer(prefix + "events.jsonl", FILE_TYPES["events.jsonl"]) if "jsonl" in formats else None
        self.csv = store.writer(prefix + "events.csv", FILE_TYPES["events.csv"]) if "csv" in formats else None
        self.table = _CsvWriter(self.csv) if self.csv else None
        self.report = _ReportRows(spec.masked) if "pdf" in formats else None

    def add(self, event: AuditEvent, full: bool) -> None:
        if self.jsonl:
            line = (masked_line(event) if self.masked else event) if full else stub(event)
            self.jsonl.write((canonical_json(line) + "\n").encode("utf-8"))
        if not full:
            return
        if self.table:
            self.table.write(event)
        if self.report:
            self.report.add(event)

    def close(self, tally: _Tally) -> dict[str, dict[str, Any]]:
        files: dict[str, dict[str, Any]] = {}
        if self.jsonl:
            files["events.jsonl"] = {
                "sha256": self.jsonl.close(),
                "bytes": self.jsonl.size,
                "rows": tally.events + tally.redacted,
            }
        if self.csv and self.table:
            self.table.flush()
            files["events.csv"] = {"sha256": self.csv.close(), "bytes": self.csv.size, "rows": tally.events}
        return files


def _chain_entry(entries: list[dict[str, Any]], tenant: str, event: AuditEvent) -> None:
    """What the manifest says of each chain: the segment exported, its first link and its head."""
    if not entries or entries[-1]["debtor_id"] != event["debtor_id"]:
        entries.append(
            {
                "debtor_id": event["debtor_id"],
                "chain": anchors.chain_id(tenant, event["debtor_id"]),
                "first_seq": event["seq"],
                "prev_hash": event["prev_hash"],
                "events": 0,
            }
        )
    entries[-1].update(last_seq=event["seq"], head_hash=event["hash"], events=entries[-1]["events"] + 1)


def write_export_bundle(
    tenant: str,
    export_id: str,
    spec: ExportSpec,
    deps: UnitOfWork,
    now: datetime,
    progress: Callable[[dict[str, Any]], None] = lambda p: None,
    prefix: str | None = None,
) -> dict[str, Any]:
    """Stream the chains to the bundle's files; returns the manifest (signed and stored) and, under
    ``bundle_files``, the manifest's own files."""
    prefix = prefix or f"exports/{tenant}/{export_id}/"
    chains = plan_chains(tenant, spec, deps.audit)
    progress({"events": 0, "chains": 0, "chains_total": len(chains)})
    streams, tally = _Streams(deps.export_files, prefix, spec), _Tally()
    chain_entries: list[dict[str, Any]] = []
    for event in segments(tenant, chains, deps.audit):
        _chain_entry(chain_entries, tenant, event)
        full = _in_filter(event, spec)
        streams.add(event, full)
        if not full:
            tally.redacted += 1
            tally.days.add(datetime.fromisoformat(event["at"]).astimezone(UTC).date().isoformat())  # its anchor too
            continue
        tally.add(event)
        if tally.events % PROGRESS_EVERY == 0:
            progress({"events": tally.events, "chains": len(chain_entries), "chains_total": len(chains)})
    files = streams.close(tally)
    if streams.report is not None:
        files["contact-history.pdf"] = streams.report.write(
            deps.export_files, prefix, tenant, export_id, spec, tally, now
        )
    anchor_entries, withheld = _anchor_proofs(tenant, tally.days, chain_entries, deps, prefix, files)
    manifest = {
        "format": EXPORT_BUNDLE_FORMAT,
        "export_id": export_id,
        "tenant": tenant,
        "created_at": now.isoformat(),
        "filter": spec.filter_json(),
        "formats": sorted(set(spec.formats)),
        "masked": spec.masked,
        **({} if spec.masked else {"unmasked_reason": spec.reason}),
        "counts": tally.counts(),
        "time_range": {"first": tally.first_at, "last": tally.last_at},
        "policy_versions": sorted(tally.policy_versions),
        "files": files,
        "chains": chain_entries,
        "anchors": anchor_entries,
        **({"anchors_withheld": withheld} if withheld else {}),
        "signature": {
            "file": "manifest.sig",
            "signed": "manifest.sha256",
            "algorithm": deps.signer.ALGORITHM,
            "key_id": deps.signer.key_id,
        },
    }
    body = json.dumps(manifest, indent=1, sort_keys=True, ensure_ascii=False).encode("utf-8")
    # What is signed: the manifest's SHA-256 in sha256sum's format, so both halves check with stock
    # tools: `sha256sum -c manifest.sha256` and `openssl dgst -sha256 -verify ... manifest.sha256`.
    checksum = f"{hashlib.sha256(body).hexdigest()}  manifest.json\n".encode()
    signature = deps.signer.sign(checksum)
    stored = {}
    for name, data, kind in (
        ("manifest.json", body, "application/json"),
        ("manifest.sha256", checksum, "text/plain"),
        ("manifest.sig", signature, "application/octet-stream"),
        ("public-key.pem", deps.signer.public_key_pem().encode(), "application/x-pem-file"),
    ):
        writer = deps.export_files.writer(prefix + name, kind)
        writer.write(data)
        stored[name] = {"sha256": writer.close(), "bytes": len(data)}
    return {**manifest, "bundle_files": stored}


def _anchor_proofs(
    tenant: str, days: set[str], chains: list[dict[str, Any]], deps: UnitOfWork, prefix: str, files: dict[str, Any]
) -> tuple[list[dict[str, Any]], list[str]]:
    """For each day the events fall on, the inclusion proofs of the exported chains' anchored heads against
    the day's root, one file a day: the bundle checks offline against the anchors and holds nothing of the
    tenant's other chains but hashes of hashes (docs/decisions/0028). A day anchored before inclusion proofs
    (a flat anchor) is named, not copied: its whole list of heads would go with it."""
    segments = {c["chain"]: (c["first_seq"], c["last_seq"]) for c in chains}
    entries, withheld = [], []
    for day in sorted(days):
        anchor = anchors.read_anchor(deps.anchors, tenant, day) if deps.anchors else None
        if anchor is None:
            continue  # not anchored yet (today, or the pass has not run)
        if anchor.get("format") == anchors.FLAT_FORMAT:
            withheld.append(day)
            continue
        document = anchors.inclusion_proofs(anchor, segments)
        if document is None:
            continue  # no exported chain has its head of that day inside its segment
        raw = json.dumps(document, indent=1, sort_keys=True).encode()
        name = f"anchors/{day}.json"
        writer = deps.export_files.writer(prefix + name, "application/json")
        writer.write(raw)
        files[name] = {"sha256": writer.close(), "bytes": len(raw)}
        entries.append({"day": day, "file": name, "digest": document["root"], "tree_size": document["tree_size"]})
    return entries, withheld


class _ReportRows:
    """Contacts of one debtor, summarised from their events for the PDF (at most MAX_PDF_CONTACTS)."""

    def __init__(self, masked: bool = True) -> None:
        self.rows: dict[str, dict[str, Any]] = {}
        self.omitted: set[str] = set()
        self.masked = masked

    def add(self, event: AuditEvent) -> None:
        contact = event["contact_id"]
        if not event.get("channel") or contact in self.omitted:
            return  # not an event of one contact (preferences, inbound replies)
        if contact not in self.rows and len(self.rows) >= MAX_PDF_CONTACTS:
            self.omitted.add(contact)
            return
        row = self.rows.setdefault(
            contact,
            {"at": event["at"], "channel": event["channel"], "account_id": event.get("account_id"), "to": ""},
        )
        data = event.get("data", {})
        if event["type"] == EventType.REQUESTED:
            row["to"] = data.get("to") or ""
            row["message"] = (data.get("message") or {}).get("body", "")
        elif event["type"] == EventType.DECIDED:
            row.update(at=event["at"], outcome=data.get("outcome", ""), reasons=data.get("reasons", []))
            row["zones"] = data.get("inputs", {}).get("zones", [])
            row.setdefault("status", "sent" if data.get("outcome") == "allow" else "")
        elif event["type"] == EventType.OUTCOME:
            row["status"] = data.get("result", "")
        elif event["type"] == EventType.DELIVERY:  # a receipt adds to the contact's status, never replaces it
            row["receipts"] = [*row.get("receipts", []), event]
        elif event_outcome(event):
            row["status"] = event["type"]

    def write(
        self,
        store: ExportFiles,
        prefix: str,
        tenant: str,
        export_id: str,
        spec: ExportSpec,
        tally: _Tally,
        now: datetime,
    ) -> dict[str, Any]:
        from chalicelib.services import report_pdf  # noqa: PLC0415 - reportlab loads only for PDF exports

        rows = [report_pdf.ContactRow(**_row_fields(contact, row, self.masked)) for contact, row in self.rows.items()]
        header = report_pdf.ReportHeader(
            tenant=tenant,
            debtor_id=spec.debtor_id or "",
            account_id=spec.account_id,
            generated_at=now,
            export_id=export_id,
            first_at=datetime.fromisoformat(tally.first_at) if tally.first_at else None,
            last_at=datetime.fromisoformat(tally.last_at) if tally.last_at else None,
            policy_versions=tuple(sorted(tally.policy_versions)),
            unmasked_reason=None if spec.masked else spec.reason,
        )
        buffer = io.BytesIO()
        report_pdf.write_contact_history(buffer, header, rows, omitted=len(self.omitted))
        writer = store.writer(prefix + "contact-history.pdf", FILE_TYPES["contact-history.pdf"])
        writer.write(buffer.getvalue())
        return {"sha256": writer.close(), "bytes": writer.size, "rows": len(rows)}


def _row_fields(contact_id: str, row: dict[str, Any], masked: bool = True) -> dict[str, Any]:
    at = datetime.fromisoformat(row["at"]).astimezone(UTC)
    local = []
    for zone in row.get("zones", []):
        try:
            local.append(f"{at.astimezone(ZoneInfo(zone)):%Y-%m-%d %H:%M} {zone}")
        except (KeyError, ValueError):
            continue
    return {
        "contact_id": contact_id,
        "at": at,
        "local_times": tuple(local),
        "channel": row["channel"],
        "to_masked": mask_address(row.get("to")) if masked else row.get("to") or "",
        "message": mask_body(row.get("message", "")) if masked else row.get("message", ""),
        "outcome": row.get("outcome", ""),
        "status": row.get("status", ""),
        "delivery": (latest_delivery(row.get("receipts", [])) or {}).get("status", ""),
        "reasons": tuple(
            {
                "rule": str(r.get("rule", "")),
                "citation": str(r.get("citation", "")),
                "message": str(r.get("message", "")),
            }
            for r in row.get("reasons", [])
        ),
        "account_id": row.get("account_id"),
    }
