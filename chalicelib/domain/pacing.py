"""Provider pacing: the tenant settings it reads and the slot arithmetic (GCRA), pure.

A paced channel hands out *slots*: instants a contact may go out at, spaced ``1 / rate`` apart. A slot is
taken once per contact and kept by its deferral, so a contact rescheduled to its slot does not queue again
(docs/decisions/0017).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field, field_validator

from chalicelib.domain.model import Channel, Reason

# The channels a provider sends for, and the tenant setting naming each one's rate.
RATE_FIELDS = {Channel.SMS: "sms_rate_per_second", Channel.EMAIL: "email_rate_per_second"}
MAX_RATE = 10_000.0  # per second: above any SNS or SES account quota
MIN_RATE = 0.01  # per second: one message every 100 s; slots stay within the calendar for any herd
# A slot at most this far away is waited for in place (no deferral, no second decision of the contact);
# a slot further away reschedules the contact to it.
WAIT = timedelta(seconds=1)
# A rescheduled contact keeps its slot this long past it; a contact found later (a late tick, a busy
# worker) queues again, so a backlog does not go out at once above the rate.
HELD_SLOT_GRACE = timedelta(seconds=5)

PACED = Reason(
    rule="gateway/paced",
    citation="house rule: provider sending rate",
    message="rescheduled to the channel's next free sending slot",
)


class TenantSettings(BaseModel):
    """What a tenant's admin sets for the tenant (``/v1/settings``). None: the deployment's own limit."""

    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)

    sms_rate_per_second: float | None = Field(default=None, ge=MIN_RATE, le=MAX_RATE)
    email_rate_per_second: float | None = Field(default=None, ge=MIN_RATE, le=MAX_RATE)
    # True: a contact must name an approved template; a raw message body is refused (docs/decisions/0033).
    require_approved_templates: bool = False

    @field_validator("require_approved_templates", mode="before")
    @classmethod
    def _cleared(cls, value: object) -> object:
        return False if value is None else value  # null clears a setting: back to the default

    def rate(self, channel: Channel) -> float | None:
        name = RATE_FIELDS.get(channel)
        return getattr(self, name) if name else None


def shards_for(rate: float, most: int) -> int:
    """Counters a deployment-wide rate is spread over: each takes ``rate / shards`` and at least one slot a
    second, so a contact that meets a busy shard waits at most about a second more than on one counter."""
    return max(1, min(most, math.floor(rate)))


def take_slot(tat: float | None, now: float, interval: float) -> tuple[float, float]:
    """GCRA: the slot of the next contact and the counter's new theoretical arrival time (epoch seconds).
    An idle counter (``tat`` passed) gives the present instant."""
    slot = now if tat is None or tat <= now else tat
    return slot, slot + interval


def instant(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)
