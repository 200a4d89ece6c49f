"""The webhook queue's trigger: each message posted to its receiver, or put back for later.

A message whose handling raises (the queue or a table failing, not the receiver) is reported as a batch
item failure and comes back from the queue; the others of the batch are done. After the queue's
``maxReceiveCount`` such returns it goes to the dead letters (tools/local/provision.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from chalicelib import observability
from chalicelib.services import webhook_delivery

if TYPE_CHECKING:
    from chalicelib.bootstrap import Runtime


def webhook_worker(event: dict[str, Any], g: Runtime, now: Callable[[], datetime]) -> dict[str, Any]:
    """Lambda's SQS event -> ``{"batchItemFailures": [...]}``, with what happened to each message."""
    failing: set[str] = set()  # webhooks that failed in this batch: the rest of theirs wait, not time out
    failures, outcomes = [], []
    for record in event.get("Records", []):
        try:
            outcomes.append(webhook_delivery.attempt(g.webhooks, json.loads(record["body"]), now(), failing))
        except Exception:  # noqa: BLE001 - this message comes back; the others of the batch are done
            observability.logger.exception("a webhook message failed; it comes back from the queue")
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures, "outcomes": outcomes}
