"""What the in-process benches share: times, API keys and a contact request."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chalicelib.domain.access import Role
from chalicelib.domain.model import ContactRequest
from chalicelib.services import keys


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


class KeyRing:
    """Keys of one tenant, one per role, issued through the product's own service on first use."""

    def __init__(self, gateway: Any, tenant: str) -> None:
        self.gateway, self.tenant = gateway, tenant
        self._keys: dict[Role, str] = {}

    def key(self, role: Role) -> str:
        if role not in self._keys:
            g = self.gateway
            issued = keys.issue_key(
                g.keys, g.deps, datetime.now(UTC), tenant=self.tenant, role=role, created_by="bench"
            )
            self._keys[role] = str(issued.key)
        return self._keys[role]


def make_request(**overrides: Any) -> ContactRequest:
    """A text to a debtor in Atlanta, tenant ``local``; ``overrides`` replace fields."""
    fields: dict[str, Any] = {
        "tenant": "local",
        "debtor_id": "d-1",
        "account_id": "a-1",
        "channel": "sms",
        "to": "+14045550100",
        "location": {"country": "US", "subdivision": "GA"},
        "message": {"body": "Your payment is overdue. Reply STOP to opt out."},
    }
    fields.update(overrides)
    return ContactRequest.model_validate(fields)
