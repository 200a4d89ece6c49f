"""The offline counterfactual replay of a bundle reports what the online one reports, on the month of
``test_offline_replay_matches_online`` (two people, deferrals the dispatcher decided again): a bundle lists
events person by person, the trail day by day, and each set's history is built per person either way."""

from __future__ import annotations

import pytest

from chalicelib.domain.impact import Mode
from chalicelib.services import policy_impact
from tests.unit.test_offline_replay_matches_online import (  # noqa: F401 - ``deps`` is the month's fixture
    END,
    START,
    bundle,
    deps,
    stricter_massachusetts,
)
from tools.cli.replay_cli import replay_bundle


@pytest.mark.parametrize("masked", [True, False])
def test_the_offline_counterfactual_replay_reports_what_the_online_one_reports(deps, policies, tmp_path, masked):  # noqa: F811
    folder = bundle(deps, tmp_path, masked)
    proposed = [stricter_massachusetts()]
    offline = replay_bundle(folder, policies, proposed, START, END, Mode.COUNTERFACTUAL)
    assert offline.pop("bundle") == {"export_id": "ex_1", "masked": masked}
    online = policy_impact.replay_range("local", START, END, policies, proposed, deps.audit, Mode.COUNTERFACTUAL)
    assert offline == online
    assert online["mode"] == "counterfactual" and online["history"]["proposed"]["left"] == 1
