"""The soak, short (seconds, fixed seed), on its own local stack: several API processes injecting faults into
their AWS calls, several client processes, then the invariant checker over everything. ``make soak`` runs
the long one (bench/soak.py, bench/README.md)."""

from __future__ import annotations

import pytest

from bench import soak

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.xdist_group("soak")]


US_AFTERNOON = next(p for p in soak.PHASES if p.name == "us-afternoon")
AU_MORNING = next(p for p in soak.PHASES if p.name == "australia-morning")


def test_a_short_soak_under_faults_breaks_no_invariant() -> None:
    # Run as if at 15:00 in New York whatever the hour: US calls are permitted, so the caps, the lockout and
    # pending outcomes are really exercised (a soak at night would refuse every call and prove nothing). Then
    # as if at 10:30 in Sydney: the texts to Australia deferred in the first phase are due, and the stack's own
    # dispatcher (tick, queue, workers) must have sent them, or the checker reports them past due.
    result = soak.run(seconds=12, clients=2, api_processes=2, seed=11, out=None, phases=(US_AFTERNOON, AU_MORNING))
    assert result["requests_served"] > 50, result
    assert result["phases"]["us-afternoon"]["calls-permitted"] > 0, result
    assert sum(result["faults_injected"].values()) > 0, result  # the faults did happen
    assert not [k for k in result["answers"] if k.startswith("5") and k != "503"], result["answers"]
    assert result["people_checked"] > 0
    assert result["invariant_violations"] == 0, result["violation_details"]
