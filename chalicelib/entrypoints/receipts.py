"""The receipts' edges: SNS's SMS delivery-status log lines (a CloudWatch Logs subscription) and SES's
configuration-set events (its feedback topic, with bounces and complaints).

A line or event that is not a receipt is logged and dropped: handing it back would only fail again. A
receipt whose message the gateway does not know (sent before receipts were kept, or long ago) is dropped
too. Any other error propagates, so the delivery is retried (Lambda's retries, then its dead letters).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from chalicelib import observability
from chalicelib.domain.model import Channel
from chalicelib.services import receipt_sources, receipts
from chalicelib.services.receipt_sources import ReceiptMessageError

if TYPE_CHECKING:
    from chalicelib.bootstrap import Runtime


def sms_status(event: dict[str, Any], g: Runtime, now: Callable[[], datetime]) -> list[receipts.Recorded] | None:
    """SNS delivery-status lines: each becomes a ``delivery`` event on its contact's chain."""
    try:
        lines = receipt_sources.subscription_lines(event)
    except ReceiptMessageError:
        observability.logger.exception("dropped an event that is not a log subscription delivery")
        return None
    done = []
    for line in lines:
        try:
            receipt = receipt_sources.sms_receipt(line)
        except ReceiptMessageError:
            observability.logger.exception("dropped a log line that is not an SNS delivery status")
            continue
        found = receipts.record_receipt(receipt, g.deps, now())
        if found is not None:
            done.append(found)
    return done


def ses_event(message: str, g: Runtime, now: Callable[[], datetime]) -> list[receipts.Recorded] | None:
    """An SES event's receipt or complaint on its contact's chain; None: not one (bounce and complaint
    suppression is the feedback handler's, as before)."""
    try:
        raw = json.loads(message)
        kind = receipt_sources.ses_kind(raw) if isinstance(raw, dict) else ""
        if kind == "complaint":
            mail, detail = raw.get("mail") or {}, raw.get("complaint") or {}
            at = receipt_sources.ses_time(detail.get("timestamp"), mail.get("timestamp"))
            receipts.record_complaint(Channel.EMAIL, str(mail.get("messageId") or ""), at, g.deps, now())
            return []
        receipt = receipt_sources.email_receipt(raw) if kind else None
    except (ValueError, ReceiptMessageError):
        observability.logger.exception("dropped an SES event that is not a receipt")
        return None
    if receipt is None:
        return None
    found = receipts.record_receipt(receipt, g.deps, now())
    return [found] if found is not None else []
