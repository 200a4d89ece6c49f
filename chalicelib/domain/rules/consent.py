"""The consent rule kind: what the person asked for binds every later contact."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Literal

from chalicelib.domain import localtime
from chalicelib.domain.model import Purpose
from chalicelib.domain.rules.base import BaseRule, Context

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class ConsentRule(BaseRule):
    """One kind of consent state: ``opt_out``, ``cease``, ``attorney``, ``inconvenient_times`` or ``dispute``.

    ``exempt_purposes`` pass anyway (Reg F 1006.6(c)(2): a cease still admits the three narrow
    notices; 1006.14(h)(2)(iii): a message required by law may use a prohibited medium); the
    decision records the override. ``dispute`` holds every contact about a debt whose dispute is
    still open (15 U.S.C. 1692g(b)): only resolving the dispute lifts it, so no waiting satisfies it.
    """

    kind: Literal["consent"]
    check: Literal["opt_out", "cease", "attorney", "inconvenient_times", "dispute"]
    exempt_purposes: tuple[Purpose, ...] = ()

    @property
    def is_permanent(self) -> bool:
        return self.check != "inconvenient_times"

    @property
    def timeless(self) -> bool:
        return self.check != "inconvenient_times"

    def violation(self, ctx: Context, at: datetime) -> str | None:
        if ctx.request.purpose in self.exempt_purposes:
            return None
        return self._breach(ctx, at)

    def inputs(self, ctx: Context, at: datetime) -> dict[str, object]:
        """An exemption that let the contact pass is part of the record (Reg F 1006.14(h)(2)(iii))."""
        if ctx.request.purpose not in self.exempt_purposes:
            return {}
        breach = self._breach(ctx, at)
        return {"overridden_by_purpose": ctx.request.purpose.value, "would_block": breach} if breach else {}

    def _breach(self, ctx: Context, at: datetime) -> str | None:
        request, prefs = ctx.request, ctx.preferences
        if self.check == "opt_out" and any(o.covers(request) for o in prefs.opt_outs):
            return f"the person opted out of {request.channel.value} to this address or medium"
        if self.check == "cease" and any(c.covers(request) for c in prefs.cease):
            return "the person asked in writing that communication about this debt stop"
        if self.check == "attorney" and any(a.covers(request) for a in prefs.attorney):
            return "the person is represented by an attorney for this debt"
        if self.check == "inconvenient_times":
            return self._inconvenient(ctx, at)
        if self.check == "dispute":
            return _disputed(ctx)
        return None

    def _inconvenient(self, ctx: Context, at: datetime) -> str | None:
        for zone in ctx.zones:
            local = at.astimezone(zone)
            clock, day = local.strftime("%H:%M"), _WEEKDAYS[local.weekday()]
            for window in ctx.preferences.inconvenient_times:
                if (not window.days or day in window.days) and window.start <= clock < window.end:
                    return f"{clock} in {zone.key} is a time the person said is inconvenient"
        return None

    def next_allowed(self, ctx: Context, at: datetime, limit: datetime) -> datetime | None:
        if self.check == "inconvenient_times" and not ctx.preferences.inconvenient_times:
            return at  # no time was named: every instant passes
        return super().next_allowed(ctx, at, limit)

    def boundaries(self, ctx: Context, start: datetime, end: datetime) -> Iterable[datetime]:
        if self.check != "inconvenient_times":
            return
        for zone in ctx.zones:
            for day in localtime.days_between(start, end, zone):
                yield localtime.instant(day + timedelta(days=1), localtime.parse_clock("00:00"), zone)
                for window in ctx.preferences.inconvenient_times:
                    yield localtime.instant(day, localtime.parse_clock(window.start), zone)
                    if window.end != "24:00":
                        yield localtime.instant(day, localtime.parse_clock(window.end), zone)


def _disputed(ctx: Context) -> str | None:
    found = next((d for d in ctx.preferences.disputes if d.covers(ctx.request)), None)
    if found is None:
        return None
    since = found.opened_at.isoformat().replace("+00:00", "Z")
    return f"dispute {found.dispute_id} about account {found.account_id} is open since {since}: held until reviewed"
