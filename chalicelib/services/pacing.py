"""Provider pacing: the slot a contact may go out at, under the deployment's and its tenant's rates.

Deployment-wide rates are configuration (SMS_RATE_PER_SECOND, EMAIL_RATE_PER_SECOND); a tenant's own,
lower ones come from ``/v1/settings``. Counters live in DynamoDB, so every Lambda shares them
(docs/decisions/0017).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from chalicelib.domain.model import Channel, ContactRequest
from chalicelib.domain.pacing import TenantSettings, instant, shards_for
from chalicelib.domain.ports import Pacer, SettingsStore

# A tenant's settings are read at most once a minute per function instance: a change applies everywhere
# within this long.
SETTINGS_TTL = timedelta(seconds=60)


@dataclass
class Pacing:
    pacer: Pacer
    settings: SettingsStore
    rates: Mapping[Channel, float | None]  # the deployment's, per second; None: not paced
    shards: int = 8  # most counters one deployment-wide rate is spread over (PACING_SHARDS)
    choose: Callable[[int], int] = field(default=lambda n: random.randrange(n))
    _cache: dict[str, tuple[datetime, TenantSettings]] = field(default_factory=dict)

    def tenant(self, tenant: str, now: datetime) -> TenantSettings:
        cached = self._cache.get(tenant)
        if cached is not None and now - cached[0] < SETTINGS_TTL:
            return cached[1]
        stored, _version = self.settings.get(tenant)
        found = TenantSettings.model_validate(stored)
        self._cache[tenant] = (now, found)
        return found

    def forget(self, tenant: str) -> None:
        """This instance changed the tenant's settings: read them again on next use."""
        self._cache.pop(tenant, None)

    def slot(self, request: ContactRequest, now: datetime) -> datetime | None:
        """Take the contact's slot: the latest of the deployment's and the tenant's. None: not paced."""
        rate, own = self.rates.get(request.channel), self.tenant(request.tenant, now).rate(request.channel)
        slots = []
        if rate:
            shards = shards_for(rate, self.shards)
            key = f"@pace#{request.channel.value}#{self.choose(shards)}"
            slots.append(self.pacer.take(key, shards / rate, now.timestamp()))
        if own:
            slots.append(self.pacer.take(f"@pace#{request.channel.value}@{request.tenant}", 1 / own, now.timestamp()))
        return instant(max(slots)) if slots else None
