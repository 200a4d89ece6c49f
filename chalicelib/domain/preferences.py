"""What the person asked for: opt-outs, cease, attorney, prohibited media, inconvenient times, consent;
and the disputes they raised that are still open.

One consent record per person, kept in the ledger so every decision reads it in the same atomic step
as the history. The same shape is what ``./gateway whatif`` takes as ``preferences``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from chalicelib.domain.model import Channel, ContactRequest

ALL = "*"  # every account

# What the preferences API takes in each list (``PreferencesIn``): generous for one person, and small for the
# engine, whose work on inconvenient times grows with the square of their count (each window's edges are
# candidate instants, each checked against every window). Opt-outs that replies and feedback add to an
# address's ledger are not stated through the API and are not capped here.
MAX_OPT_OUTS = 100
MAX_CEASE = 100
MAX_ATTORNEY = 100
MAX_INCONVENIENT_TIMES = 50
MAX_CONSENTS = 50


class _Item(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


OptOutSource = Literal["sms-reply", "email-unsubscribe", "ses-bounce", "ses-complaint"]


class OptOut(_Item):
    channel: Channel
    address: str | None = None  # None: the whole channel (a prohibited medium)
    at: AwareDatetime | None = None
    # What suppressed an address (officers read it in the console); None: stated through the API, or
    # recorded before opt-outs kept their source.
    source: OptOutSource | None = None

    def covers(self, request: ContactRequest) -> bool:
        same_address = self.address is None or self.address.strip().lower() == request.to.strip().lower()
        return self.channel is request.channel and same_address


class PerDebt(_Item):
    account_id: str = ALL
    at: AwareDatetime | None = None

    def covers(self, request: ContactRequest) -> bool:
        return self.account_id in (ALL, request.account_id)


class InconvenientTime(_Item):
    start: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    end: str = Field(pattern=r"^(([01]\d|2[0-3]):[0-5]\d|24:00)$")
    days: tuple[Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"], ...] = Field(
        default=(), max_length=7
    )

    @model_validator(mode="after")
    def _end_after_start(self) -> InconvenientTime:
        if self.end <= self.start:
            raise ValueError("end must be after start (a window over midnight is two windows)")
        return self


class Consent(_Item):
    """Direct prior consent to be called (Reg F 1006.14(b)(3)(i)), valid from ``start`` to ``until``."""

    channel: Channel = Channel.VOICE
    account_id: str = ALL
    start: AwareDatetime
    until: AwareDatetime

    def active(self, request: ContactRequest, at: datetime) -> bool:
        return (
            self.channel is request.channel
            and self.account_id in (ALL, request.account_id)
            and self.start <= at < self.until
        )


class OpenDispute(_Item):
    """A dispute the person raised about a debt ("not my debt"), open until a compliance officer resolves it."""

    dispute_id: str = Field(min_length=1)
    account_id: str = ALL
    opened_at: AwareDatetime

    def covers(self, request: ContactRequest) -> bool:
        return self.account_id in (ALL, request.account_id)


class StatedPreferences(_Item):
    """What the person stated: the part an officer sets through the preferences API."""

    opt_outs: tuple[OptOut, ...] = ()
    cease: tuple[PerDebt, ...] = ()
    attorney: tuple[PerDebt, ...] = ()
    inconvenient_times: tuple[InconvenientTime, ...] = ()
    consents: tuple[Consent, ...] = ()


class Preferences(StatedPreferences):
    """The stated preferences and the open disputes. Disputes are opened by a reply and closed only by
    ``POST .../disputes/{id}/resolve`` (each with its own audit event), never by replacing preferences."""

    disputes: tuple[OpenDispute, ...] = ()  # absent in ledgers stored before disputes were state

    def with_dispute(self, dispute: OpenDispute) -> Preferences:
        if any(d.dispute_id == dispute.dispute_id for d in self.disputes):
            return self
        return self.model_copy(update={"disputes": (*self.disputes, dispute)})

    def without_dispute(self, dispute_id: str) -> Preferences:
        kept = tuple(d for d in self.disputes if d.dispute_id != dispute_id)
        return self.model_copy(update={"disputes": kept}) if len(kept) != len(self.disputes) else self
