"""Receipts as the providers send them: SNS's SMS delivery-status log lines and SES configuration-set events.

SNS logs each SMS's final status to CloudWatch Logs (``sns/<region>/<account>/DirectPublishToPhoneNumber``
and ``.../Failure``); a subscription filter hands the lines to the ``sms_status`` function
(docs/decisions/0030). A line says ``SUCCESS`` or ``FAILURE`` and, in ``providerResponse``, one of a fixed set
of responses SNS documents; that response is the only code SNS gives, so it is matched whole, never searched.
"""

from __future__ import annotations

import base64
import gzip
import json
from datetime import UTC, datetime
from typing import Any

from chalicelib.domain.model import Channel, DeliveryStatus
from chalicelib.domain.receipts import Receipt

# SNS's failure responses that say the address may still work later. Any other failure (an invalid or
# blocked number, an opt-out, a response this list does not know) is permanent: fail closed.
SNS_TEMPORARY = frozenset(
    {
        "Phone is currently unreachable/unavailable",
        "Phone carrier is currently unreachable/unavailable",
        "Unknown error attempting to reach phone",
        "This delivery would exceed max price",
        "Rate exceeded.",
        "Message is too long",
    }
)
SNS_SUCCESS = "SUCCESS"
PROVIDER_CODE_MAX = 200


class ReceiptMessageError(ValueError):
    """Not a receipt this gateway reads."""


def subscription_lines(event: dict[str, Any]) -> list[str]:
    """The log lines of a CloudWatch Logs subscription delivery (``awslogs.data``: base64 of gzipped JSON)."""
    try:
        packed = base64.b64decode(event["awslogs"]["data"])
        payload = json.loads(gzip.decompress(packed))
        return [str(e["message"]) for e in payload.get("logEvents", [])]
    except (KeyError, TypeError, ValueError, OSError) as exc:
        raise ReceiptMessageError(f"not a CloudWatch Logs subscription event: {exc!r}") from exc


def subscription_event(log_group: str, lines: list[str], at_ms: int) -> dict[str, Any]:
    """The event CloudWatch Logs gives a subscribed function for ``lines``: how the local stack delivers them."""
    payload = {
        "messageType": "DATA_MESSAGE",
        "logGroup": log_group,
        "logStream": "local",
        "subscriptionFilters": ["sms-status"],
        "logEvents": [{"id": str(i), "timestamp": at_ms, "message": line} for i, line in enumerate(lines)],
    }
    return {"awslogs": {"data": base64.b64encode(gzip.compress(json.dumps(payload).encode())).decode()}}


def _sns_time(text: str) -> datetime:
    """SNS writes ``2016-06-28 00:40:34.558``, in UTC."""
    return datetime.fromisoformat(text.replace(" ", "T")).replace(tzinfo=UTC)


def sms_receipt(line: str) -> Receipt:
    """One SNS delivery-status log line as a receipt."""
    try:
        raw = json.loads(line)
        message_id = str(raw["notification"]["messageId"])
        at = _sns_time(str(raw["notification"]["timestamp"]))
        status = str(raw["status"]).upper()
        response = (raw.get("delivery") or {}).get("providerResponse")
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ReceiptMessageError(f"not an SNS delivery-status line: {exc!r}") from exc
    code = str(response)[:PROVIDER_CODE_MAX] if response else None
    if status == SNS_SUCCESS:
        word = DeliveryStatus.DELIVERED
    else:
        word = DeliveryStatus.TEMPORARY_FAILURE if code in SNS_TEMPORARY else DeliveryStatus.PERMANENT_FAILURE
    return Receipt(Channel.SMS, message_id, word, at, code, source="sns-delivery-log")


def sns_line(message_id: str, status: DeliveryStatus, at: datetime, code: str | None, to: str = "") -> str:
    """An SNS delivery-status line (the local stack's ``./gateway sms-status`` writes one as SNS would)."""
    default = {
        DeliveryStatus.DELIVERED: "Message has been accepted by phone carrier",
        DeliveryStatus.TEMPORARY_FAILURE: "Phone is currently unreachable/unavailable",
        DeliveryStatus.PERMANENT_FAILURE: "Invalid phone number",
    }[status]
    stamp = at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    return json.dumps(
        {
            "notification": {"messageId": message_id, "timestamp": stamp},
            "delivery": {"destination": to, "smsType": "Transactional", "providerResponse": code or default},
            "status": "SUCCESS" if status is DeliveryStatus.DELIVERED else "FAILURE",
        }
    )


# -- SES configuration-set events ------------------------------------------------------------------------

SES_KINDS = ("delivery", "deliverydelay", "reject", "bounce", "complaint")


def ses_kind(raw: dict[str, Any]) -> str:
    return str(raw.get("eventType") or raw.get("notificationType") or "").lower()


def ses_time(text: Any, fallback: Any) -> datetime:
    value = str(text or fallback or "")
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ReceiptMessageError(f"no time in the SES event: {value!r}") from exc
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def email_receipt(raw: dict[str, Any]) -> Receipt | None:
    """An SES Delivery, DeliveryDelay, Reject or Bounce event as a receipt (None: a kind that is not one)."""
    kind = ses_kind(raw)
    mail = raw.get("mail") or {}
    message_id, sent = str(mail.get("messageId") or ""), mail.get("timestamp")
    if kind == "delivery":
        detail = raw.get("delivery") or {}
        status, code = DeliveryStatus.DELIVERED, None
    elif kind == "deliverydelay":
        detail = raw.get("deliveryDelay") or {}
        status, code = DeliveryStatus.TEMPORARY_FAILURE, str(detail.get("delayType") or "DeliveryDelay")
    elif kind == "reject":
        detail = raw.get("reject") or {}
        status, code = DeliveryStatus.PERMANENT_FAILURE, "Reject"
    elif kind == "bounce":
        detail = raw.get("bounce") or {}
        kind_of = str(detail.get("bounceType") or "Undetermined")
        permanent = kind_of == "Permanent"
        status = DeliveryStatus.PERMANENT_FAILURE if permanent else DeliveryStatus.TEMPORARY_FAILURE
        code = "/".join(str(p) for p in (kind_of, detail.get("bounceSubType")) if p)
    else:
        return None
    if not message_id:
        raise ReceiptMessageError("an SES event without a message id")
    at = ses_time(detail.get("timestamp"), sent)
    return Receipt(Channel.EMAIL, message_id, status, at, code, source="ses-event", address_fault=kind != "reject")
