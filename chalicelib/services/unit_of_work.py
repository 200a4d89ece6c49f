"""The unit of work: every port and setting a use case needs, in one place.

The composition root (``chalicelib.bootstrap``) builds it once per function; tests build it over the fakes
(``tests/fakes.py``). A use case takes it whole and reaches only for the ports it needs.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain.ledger import OUTCOME_DEADLINE, VOICE_PERMIT
from chalicelib.domain.model import ContactRequest
from chalicelib.domain.policy import PolicySet
from chalicelib.domain.ports import (
    AddressKeys,
    AuditTrail,
    BatchStore,
    EmailSender,
    ExportFiles,
    Jobs,
    LedgerRepository,
    LockedObjects,
    Queue,
    Rollups,
    Signer,
    SmsSender,
    TemplateStore,
)
from chalicelib.services import ids
from chalicelib.services.pacing import Pacing


def new_export_id(now: datetime) -> str:
    return f"ex_{now:%Y%m%d%H%M%S}_{secrets.token_hex(5)}"


@dataclass
class UnitOfWork:
    ledgers: LedgerRepository
    audit: AuditTrail
    sms: SmsSender
    email: EmailSender
    policies: PolicySet
    batches: BatchStore
    batch_queue: Queue
    jobs: Jobs  # export jobs
    export_queue: Queue
    export_files: ExportFiles
    signer: Signer  # signs export manifests
    anchors: LockedObjects | None = None  # the Object Lock bucket; None: anchors are not checked
    retention_years: int = 10  # how long an anchor is locked
    new_id: Callable[[str, datetime], str] = field(default=ids.new_contact_id)
    new_export_id: Callable[[datetime], str] = field(default=new_export_id)
    sleep: Callable[[float], None] = field(default=time.sleep)
    # (tenant, address) -> List-Unsubscribe headers; None: this deployment cannot send email (fail closed)
    unsubscribe_headers: Callable[[str, str], dict[str, str]] | None = None
    # True: append each commit's events to the audit table at once. False: the ledger table's stream
    # appender does it off the request path (docs/decisions/0010); the sweep repairs either way.
    audit_inline: bool = True
    # Told of every decision submit makes (result, request, trigger): the metrics (chalicelib.telemetry).
    observe: Callable[[Any, ContactRequest, str], None] = field(default=lambda result, request, trigger: None)
    # A voice permit lasts this long at most (VOICE_PERMIT_SECONDS), never past a rule's boundary.
    permit_for: timedelta = VOICE_PERMIT
    # A permit whose outcome is not reported this long after it was given is settled as unknown
    # (OUTCOME_DEADLINE_SECONDS); it keeps counting as the worst it can turn out to be.
    outcome_deadline: timedelta = OUTCOME_DEADLINE
    # Provider slots under the deployment's and each tenant's sending rates; None: nothing is paced.
    pacing: Pacing | None = None
    # (tenant, debtor_id, at): puts a person rescheduled to a near instant on the dispatch queue, delayed
    # until then; the dispatcher's ticks find the person anyway, later (docs/decisions/0017).
    wake: Callable[[str, str, datetime], None] = field(default=lambda tenant, debtor_id, at: None)
    # The tenants' message templates; None: no contact can name one (docs/decisions/0033).
    templates: TemplateStore | None = None
    # The address index's keys (the audit table's by_address, docs/decisions/0036); None: no search by address.
    address_keys: AddressKeys | None = None
    # The daily rollup the appender adds to and the daily report reads (docs/decisions/0037); None: none kept.
    rollups: Rollups | None = None
