"""Rule kinds: each judges one instant and names the instants where its verdict can change.

A rule's verdict is constant between two consecutive boundaries it names, so the engine finds the
earliest allowed instant by checking boundaries in order (see ``engine.next_allowed``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator

from chalicelib.domain import localtime
from chalicelib.domain.model import (
    Channel,
    ContactRecord,
    ContactRequest,
    Direction,
    Purpose,
    Result,
    possible_results,
)
from chalicelib.domain.preferences import Preferences

_WINDOW = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-(([01]\d|2[0-3]):[0-5]\d|24:00)$")


@dataclass(frozen=True)
class Context:
    """What a rule may look at: the request, where the person may be, their recent history."""

    request: ContactRequest
    zones: tuple[ZoneInfo, ...]
    history: tuple[ContactRecord, ...]
    country: str | None = None  # the pack's holiday calendar
    subdivision: str | None = None
    preferences: Preferences = Preferences()
    memo: dict[object, object] = field(default_factory=dict, compare=False, hash=False)


class BaseRule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9-]+/[a-z0-9-]+$")
    citation: str = Field(min_length=1)
    message: str = Field(min_length=1)
    confidence: Literal["high", "medium", "low", "unverified"] = "high"
    enabled: bool = True
    note: str | None = None
    channels: tuple[Channel, ...] = tuple(Channel)
    purposes: tuple[Purpose, ...] | None = None  # None: every purpose
    min_days_past_due: int | None = None
    max_days_past_due: int | None = None
    permanent: bool = False  # no waiting can satisfy it: deny instead of defer

    @property
    def is_permanent(self) -> bool:
        return self.permanent

    def applies(self, request: ContactRequest) -> bool:
        dpd = request.days_past_due
        return (
            self.enabled
            and request.channel in self.channels
            and (self.purposes is None or request.purpose in self.purposes)
            # Days past due unknown: the rule applies (a restriction must not lapse for want of data).
            and (self.min_days_past_due is None or dpd is None or dpd >= self.min_days_past_due)
            and (self.max_days_past_due is None or dpd is None or dpd <= self.max_days_past_due)
        )

    def violation(self, ctx: Context, at: datetime) -> str | None:
        raise NotImplementedError

    def boundaries(self, ctx: Context, start: datetime, end: datetime) -> Iterable[datetime]:
        return _midnights(ctx.zones, start, end)

    def inputs(self, ctx: Context, at: datetime) -> dict[str, object]:
        return {}


def _midnights(zones: Iterable[ZoneInfo], start: datetime, end: datetime) -> Iterator[datetime]:
    for zone in zones:
        for day in localtime.days_between(start, end, zone):
            yield localtime.instant(day + timedelta(days=1), time(0), zone)


class QuietHoursRule(BaseRule):
    """Contact only inside the allowed local windows of each day type, in every candidate zone."""

    kind: Literal["quiet_hours"]
    allowed: dict[Literal["default", "weekday", "saturday", "sunday", "holiday"], tuple[str, ...]]

    @field_validator("allowed")
    @classmethod
    def _windows_well_formed(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        for windows in value.values():
            for window in windows:
                if not _WINDOW.fullmatch(window) or window[:5] >= window[6:]:
                    raise ValueError(f"window {window!r} is not HH:MM-HH:MM with start < end")
        if "default" not in value and len(value) < 4:
            raise ValueError("give 'default' or all of weekday, saturday, sunday, holiday")
        return value

    def _windows(self, ctx: Context, day: date) -> list[tuple[time, time]]:
        kind = localtime.day_type(day, ctx.country, ctx.subdivision)
        allowed: dict[str, tuple[str, ...]] = {str(k): v for k, v in self.allowed.items()}
        texts = allowed.get(kind, allowed.get("default", ()))
        return [(localtime.parse_clock(w[:5]), localtime.parse_clock(w[6:])) for w in texts]

    def violation(self, ctx: Context, at: datetime) -> str | None:
        for zone in ctx.zones:
            local = at.astimezone(zone)
            clock = local.time().replace(tzinfo=None)
            if not any(s <= clock < e for s, e in self._windows(ctx, local.date())):
                return f"{local:%H:%M} on {local:%a %Y-%m-%d} in {zone.key} is outside the allowed hours"
        return None

    def boundaries(self, ctx: Context, start: datetime, end: datetime) -> Iterable[datetime]:
        yield from _midnights(ctx.zones, start, end)
        for zone in ctx.zones:
            for day in localtime.days_between(start, end, zone):
                for begin, finish in self._windows(ctx, day):
                    yield localtime.instant(day, begin, zone)
                    if finish != time.max:
                        yield localtime.instant(day, finish, zone)

    def inputs(self, ctx: Context, at: datetime) -> dict[str, object]:
        return {z.key: at.astimezone(z).isoformat(timespec="minutes") for z in ctx.zones}


class _Counted(BaseRule):
    """Shared matching of history records: which ones a rule counts for this request."""

    key: Literal["person", "debt", "address"] = "debt"
    counts: tuple[Result, ...]
    counted_channels: tuple[Channel, ...] | None = None  # None: the rule's own channels
    directions: tuple[Direction, ...] = (Direction.OUTBOUND,)
    # A rule of the law that binds each debt collector on its own (Reg F counts per collector): the contacts
    # of one named agency do not count against another named agency. Contacts made by the creditor itself
    # (no agency) count against every agency, and a request of the creditor itself counts every agency's:
    # a label alone never lowers the count below what one collector would see. Off: all count together.
    per_collector: bool = False

    def matches(self, record: ContactRecord, request: ContactRequest) -> bool:
        channels = self.counted_channels or self.channels
        return (
            # A result not yet known counts when anything it may turn out to be counts (the worst case).
            not possible_results(record).isdisjoint(self.counts)
            and record.channel in channels
            and record.direction in self.directions
            and (self.key != "debt" or record.account_id == request.account_id)
            and (self.key != "address" or record.to == request.to)
            and (not self.per_collector or self._same_collector(record, request))
        )

    @staticmethod
    def _same_collector(record: ContactRecord, request: ContactRequest) -> bool:
        return record.agency is None or request.agency is None or record.agency == request.agency

    def counted(self, ctx: Context, record: ContactRecord) -> bool:
        return self.matches(record, ctx.request)

    def dated(self, ctx: Context, zone: ZoneInfo) -> list[tuple[date, ContactRecord]]:
        """The counted records with their local date in ``zone``.

        Every record counts, even one stamped after the instant judged: a concurrent request may have
        reserved a contact a few milliseconds after this one started deciding."""
        key = (self.id, zone.key)
        if key not in ctx.memo:  # the matching records, once per evaluation
            matched = [r for r in ctx.history if self.counted(ctx, r)]
            ctx.memo[key] = [(localtime.local_date(r.at, zone), r) for r in matched]
        return ctx.memo[key]  # type: ignore[return-value]


def _unresolved_note(records: Iterable[ContactRecord]) -> str:
    pending = sum(1 for r in records if r.unresolved)
    if not pending:
        return ""
    verb = "has" if pending == 1 else "have"
    return f"; {pending} of them {verb} no reported outcome and counts as the worst it can turn out to be"


def _unresolved_detail(record: ContactRecord, zone: ZoneInfo) -> str:
    what = "a call permitted" if record.channel is Channel.VOICE else "a message sent"
    return f": {what} at {record.at.astimezone(zone):%H:%M} ({zone.key}) has no reported outcome"


class FrequencyRule(_Counted):
    """At most ``limit`` counted events in any window of local calendar days holding the contact."""

    kind: Literal["frequency"]
    limit: int = Field(ge=0)
    consent_exempts: bool = False  # calls with the person's direct prior consent neither count nor are capped
    period: Literal["rolling_days", "calendar_day", "calendar_week", "calendar_month"]
    days: int = Field(default=1, ge=1, le=366)

    def _windows(self, day: date) -> list[tuple[date, date]]:
        if self.period == "rolling_days":
            return [(day - timedelta(days=o), day - timedelta(days=o - self.days + 1)) for o in range(self.days)]
        if self.period == "calendar_week":
            monday = day - timedelta(days=day.weekday())
            return [(monday, monday + timedelta(days=6))]
        if self.period == "calendar_month":
            first = day.replace(day=1)
            return [(first, (first + timedelta(days=32)).replace(day=1) - timedelta(days=1))]
        return [(day, day)]

    def _worst(self, ctx: Context, zone: ZoneInfo, at: datetime) -> list[ContactRecord]:
        """The counted records of the fullest window that holds ``at``."""
        dated = self.dated(ctx, zone)
        day = localtime.local_date(at, zone)
        return max(([r for d, r in dated if lo <= d <= hi] for lo, hi in self._windows(day)), key=len)

    def _consented(self, ctx: Context, at: datetime) -> bool:
        return self.consent_exempts and any(c.active(ctx.request, at) for c in ctx.preferences.consents)

    def counted(self, ctx: Context, record: ContactRecord) -> bool:
        return super().counted(ctx, record) and not self._consented(ctx, record.at)

    def violation(self, ctx: Context, at: datetime) -> str | None:
        if self._consented(ctx, at):
            return None
        for zone in ctx.zones:
            records = self._worst(ctx, zone, at)
            if len(records) >= self.limit:
                note = _unresolved_note(records)
                return f"{len(records)} counted in the window (limit {self.limit}) in {zone.key}{note}"
        return None

    def inputs(self, ctx: Context, at: datetime) -> dict[str, object]:
        return {z.key: len(self._worst(ctx, z, at)) for z in ctx.zones}

    def boundaries(self, ctx: Context, start: datetime, end: datetime) -> Iterable[datetime]:
        yield from super().boundaries(ctx, start, end)
        if self.consent_exempts:
            for consent in ctx.preferences.consents:
                yield from (consent.start, consent.until)


class LockoutRule(_Counted):
    """After a counted event, nothing for ``days`` local calendar days, the event's day being day 1."""

    kind: Literal["lockout"]
    days: int = Field(ge=1, le=366)
    directions: tuple[Direction, ...] = (Direction.OUTBOUND, Direction.INBOUND)

    def _last(self, ctx: Context, zone: ZoneInfo, at: datetime) -> tuple[date, ContactRecord] | None:
        """The latest counted event up to ``at``'s day; on one day, a known result before a pending one."""
        today = localtime.local_date(at, zone)
        dated = [(d, r) for d, r in self.dated(ctx, zone) if d <= today]
        return max(dated, key=lambda pair: (pair[0], not pair[1].unresolved), default=None)

    def violation(self, ctx: Context, at: datetime) -> str | None:
        for zone in ctx.zones:
            found = self._last(ctx, zone, at)
            if found is not None and (localtime.local_date(at, zone) - found[0]).days < self.days:
                last, record = found
                until = last + timedelta(days=self.days)
                pending = _unresolved_detail(record, zone) if record.unresolved else ""
                return f"locked after {last.isoformat()} until {until.isoformat()} in {zone.key}{pending}"
        return None

    def inputs(self, ctx: Context, at: datetime) -> dict[str, object]:
        found = {z.key: self._last(ctx, z, at) for z in ctx.zones}
        return {zone: str(pair[0] if pair else None) for zone, pair in found.items()}
