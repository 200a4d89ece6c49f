"""The batch worker's SQS edge: Powertools batch processing, with the partial failures Chalice cannot report.

Chalice's ``on_sqs_message`` trigger is created without ``ReportBatchItemFailures``: whatever the function
returns, a raise hands every message of the delivery back to SQS, and a return deletes them all. So the
worker deletes the messages it handled itself, then raises if any failed: only the failed ones come back.
A message carries up to ten requests; a redelivered one skips those whose result is recorded, so no
handled request is decided twice (nor could it send twice: its contact id was fixed at acceptance).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from chalicelib.domain.model import ContactRequest
from chalicelib.domain.ports import Deleter
from chalicelib.http import models as api
from chalicelib.services import batches, template_contacts
from chalicelib.services.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from chalicelib.bootstrap import Runtime

logger = logging.getLogger(__name__)


class BatchIncompleteError(Exception):
    """Some requests of the delivery failed and go back to the queue; the others were deleted."""


def to_request(message: dict[str, Any], body: dict[str, Any]) -> ContactRequest:
    parsed = api.ContactIn.model_validate(body, strict=False)
    return parsed.to_domain(message["tenant"], message.get("agency"), message.get("submitted_by"))


def prepared(
    deps: UnitOfWork, now: Callable[[], datetime]
) -> Callable[[dict[str, Any], dict[str, Any]], ContactRequest]:
    """``to_request``, then the request's template rendered (or its raw body refused) as ``POST /v1/contacts``
    would: at decision time, from the version approved then."""

    def convert(message: dict[str, Any], body: dict[str, Any]) -> ContactRequest:
        use = api.ContactIn.model_validate(body, strict=False).template_use()
        return template_contacts.prepare(to_request(message, body), use, deps, now())

    return convert


def record_handler(deps: UnitOfWork, now: Callable[[], datetime]) -> Callable[[SQSRecord], int]:
    """One message: up to ten requests of one batch. It fails (and comes back) while any of them fails."""

    def handle(record: SQSRecord) -> int:
        message = json.loads(record.body)
        deliveries = int(record.attributes.approximate_receive_count or 1)
        failures = batches.process(message, prepared(deps, now), deps, now, redelivered=deliveries > 1)
        if failures and deliveries < batches.MAX_DELIVERIES:
            raise failures[0][1]
        for queued, exc in failures:  # the last delivery before the dead-letter queue: recorded as failed
            logger.error("batch request %s#%s failed on every delivery: %s", message["batch_id"], queued["index"], exc)
            error = f"{type(exc).__name__}: failed on {deliveries} deliveries"
            batches.give_up(message, queued, deps, now(), error)
        return len(message["requests"])

    return handle


def handle_sqs(event: dict[str, Any], deps: UnitOfWork, queue: Deleter, now: Callable[[], datetime]) -> Any:
    """Handle one SQS delivery (the raw Lambda event); see the module docstring for the deletes."""
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    response = process_partial_response(event=event, record_handler=record_handler(deps, now), processor=processor)
    failed = {f["itemIdentifier"] for f in response["batchItemFailures"]}
    if failed:
        handled = [(r["messageId"], r["receiptHandle"]) for r in event["Records"] if r["messageId"] not in failed]
        if handled:
            queue.delete_many(handled)
        raise BatchIncompleteError(f"{len(failed)} of {len(event['Records'])} requests go back to the queue")
    return response


def batch_worker(event: dict[str, Any], g: Runtime, now: Callable[[], datetime]) -> Any:
    """The batch queue's trigger: ten queued requests of a batch at a time (the raw Lambda event)."""
    return handle_sqs(event, g.deps, g.batch_queue, now)


def sqs_event(queue_arn: str, region: str, messages: list[dict[str, Any]]) -> dict[str, Any]:
    """The Lambda event SQS would deliver for ``messages`` (as ReceiveMessage returns them, attributes
    included): how the local stack and the tests hand a real delivery to ``handle_sqs``."""
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": {},
                "md5OfBody": m.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for m in messages
        ]
    }
