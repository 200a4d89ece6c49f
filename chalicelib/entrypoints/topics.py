"""The SNS triggers: a reply to one of our texts, and SES bounce and complaint notifications.

A message that is not what the topic carries is logged and dropped (``None``): handing it back would only
fail again. Any other error propagates, so the delivery is retried (Lambda's retries of an SNS invocation,
then its dead-letter queue; the local stack leaves the message on its queue).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from chalicelib import observability
from chalicelib.domain.access import SHARED_SCOPE
from chalicelib.domain.inbound import Reply
from chalicelib.entrypoints import receipts
from chalicelib.services import feedback, inbound

if TYPE_CHECKING:
    from chalicelib.bootstrap import Runtime


def inbound_sms(message: str, g: Runtime, now: Callable[[], datetime]) -> Reply | None:
    """A reply to one of our texts: STOP, 退订, HELP, START, or anything else (kept for a human)."""
    try:
        parsed = inbound.parse_two_way_sms(message)
    except inbound.InboundMessageError:
        observability.logger.exception("dropped a message that is not an inbound SMS")
        return None
    # The gateway's numbers are shared by its tenants: a STOP binds every one of them.
    return inbound.handle_inbound_sms(parsed, SHARED_SCOPE, g.deps, now())


def ses_feedback(message: str, g: Runtime, now: Callable[[], datetime]) -> list[str] | None:
    """SES events: a bounce or complaint suppresses the address for every debtor (the addresses suppressed are
    returned); then Delivery, DeliveryDelay, Reject, Bounce and Complaint reach the contact's chain."""
    try:
        suppressed: list[str] | None = feedback.handle_ses_notification(message, SHARED_SCOPE, g.deps, now())
    except feedback.FeedbackMessageError:
        suppressed = None
    recorded = receipts.ses_event(message, g, now)
    if suppressed is None and recorded is None:
        observability.logger.warning("dropped a message that is not an SES event the gateway reads")
        return None
    return suppressed or []
