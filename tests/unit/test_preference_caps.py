"""Every list in the preferences has a maximum: a decision's work grows with the square of the windows."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from chalicelib.domain import preferences as prefs
from chalicelib.domain.engine import evaluate
from chalicelib.domain.model import Outcome
from chalicelib.domain.policy import PolicySet
from chalicelib.domain.rules import consent
from chalicelib.http.models import PreferencesIn
from tests.support import make_request, utc

NOON_ATLANTA = utc(2026, 3, 2, 17, 0)
CAPS = {
    "opt_outs": (prefs.MAX_OPT_OUTS, {"channel": "email", "address": "x@example.com"}),
    "cease": (prefs.MAX_CEASE, {"account_id": "a-1"}),
    "attorney": (prefs.MAX_ATTORNEY, {"account_id": "a-1"}),
    "inconvenient_times": (prefs.MAX_INCONVENIENT_TIMES, {"start": "09:00", "end": "10:00"}),
    "consents": (
        prefs.MAX_CONSENTS,
        {"channel": "voice", "start": "2026-01-01T00:00:00Z", "until": "2027-01-01T00:00:00Z"},
    ),
}


@pytest.mark.parametrize("name", sorted(CAPS))
def test_each_list_takes_its_maximum_and_refuses_one_more_naming_the_field(name: str) -> None:
    cap, item = CAPS[name]
    assert 10 <= cap <= 100  # generous for real use, small for the engine
    PreferencesIn.model_validate({name: [item] * cap})
    with pytest.raises(ValidationError) as caught:
        PreferencesIn.model_validate({name: [item] * (cap + 1)})
    assert [error["loc"] for error in caught.value.errors()] == [(name,)]


def test_a_windows_days_are_at_most_the_seven_weekdays() -> None:
    days = ["monday"] * 8
    with pytest.raises(ValidationError) as caught:
        PreferencesIn.model_validate({"inconvenient_times": [{"start": "09:00", "end": "10:00", "days": days}]})
    assert caught.value.errors()[0]["loc"] == ("inconvenient_times", 0, "days")


def _windows(count: int) -> tuple[prefs.InconvenientTime, ...]:
    """``count`` windows that together cover the whole day, so no instant passes the rule: the worst case,
    where the engine tries every boundary of its horizon."""
    minutes = 24 * 60
    edges = [round(i * minutes / count) for i in range(count + 1)]
    clock = [f"{m // 60:02d}:{m % 60:02d}" for m in edges]
    clock[-1] = "24:00"
    return tuple(prefs.InconvenientTime(start=a, end=b) for a, b in zip(clock, clock[1:], strict=False))


def test_a_decision_with_the_most_windows_does_bounded_work(policies: PolicySet, monkeypatch: Any) -> None:
    compared = [0]
    original = consent.ConsentRule._inconvenient

    def counting(self: consent.ConsentRule, ctx: Any, at: Any) -> str | None:
        compared[0] += len(ctx.preferences.inconvenient_times) * len(ctx.zones)
        return original(self, ctx, at)

    monkeypatch.setattr(consent.ConsentRule, "_inconvenient", counting)
    windows = _windows(prefs.MAX_INCONVENIENT_TIMES)
    assert len(windows) == prefs.MAX_INCONVENIENT_TIMES
    decision = evaluate(make_request(), [], policies, NOON_ATLANTA, prefs.Preferences(inconvenient_times=windows))
    assert decision.outcome is not Outcome.ALLOW
    # At most every window compared at every boundary of the 35-day horizon: 50 x (2 x 50 + 1) x 35 x zones.
    # 1,400 windows made this ~140 million comparisons (4.4 s); the cap keeps it under 200,000.
    assert 0 < compared[0] <= 200_000
