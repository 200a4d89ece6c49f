"""DynamoDB: each sent message under its provider's id, expiring by TTL, so a receipt finds its contact.

One small item per sent message (``pk`` = channel#provider id), under 1 KB: one write unit per send, the
only write receipts add to a sent contact (docs/decisions/0030).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from chalicelib.adapters.errors import storage_errors
from chalicelib.domain.model import Channel
from chalicelib.domain.receipts import SENT_MESSAGE_DAYS, SentMessage


def _key(channel: Channel, provider_message_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"{channel.value}#{provider_message_id}"}}


class DynamoDBSentMessages:
    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def remember(self, sent: SentMessage) -> None:
        expires = sent.sent_at + timedelta(days=SENT_MESSAGE_DAYS)
        item = {
            **_key(sent.channel, sent.provider_message_id),
            "tenant": {"S": sent.tenant},
            "contact_id": {"S": sent.contact_id},
            "account_id": {"S": sent.account_id},
            "to": {"S": sent.to},
            "sent_at": {"S": sent.sent_at.isoformat()},
            "packs": {"S": json.dumps(list(sent.packs))},
            "expires_at": {"N": str(int(expires.timestamp()))},
        }
        with storage_errors():
            self._client.put_item(TableName=self._table, Item=item)

    def find(self, channel: Channel, provider_message_id: str) -> SentMessage | None:
        with storage_errors():
            found = self._client.get_item(
                TableName=self._table, Key=_key(channel, provider_message_id), ConsistentRead=True
            ).get("Item")
        if found is None:
            return None
        return SentMessage(
            channel=channel,
            provider_message_id=provider_message_id,
            tenant=found["tenant"]["S"],
            contact_id=found["contact_id"]["S"],
            account_id=found["account_id"]["S"],
            to=found["to"]["S"],
            sent_at=datetime.fromisoformat(found["sent_at"]["S"]),
            packs=tuple(json.loads(found["packs"]["S"])),
        )
