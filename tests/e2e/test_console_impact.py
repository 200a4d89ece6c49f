"""The console's policy impact page in Chromium against the local stack: an officer replays today's decisions
under a proposed West Virginia pack and sees what it would change, in the mode they picked.

The inputs are chosen by the stack's clock (``stack.now()``): a debtor in West Virginia is texted now, which
the current packs allow (day) or defer (night). The proposed pack allows West Virginia's contacts only in one
hour twelve hours away from now, and denies outside it (``permanent``): whatever the hour, the text's decision
changes to a denial, by ``us-wv/quiet-hours``. No other test places a debtor in West Virginia, so the changes
the page lists are this test's.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import requests
import yaml

from chalicelib import policy_store
from tests.e2e.support import appended, local, new_debtor, sms_body
from tests.e2e.test_console_pages import open_console, serious_violations

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

WV_NUMBER = "+13045550100"  # Charleston, West Virginia: America/New_York
WEST_VIRGINIA = {"country": "US", "subdivision": "WV"}
RULE = "us-wv/quiet-hours"
WAIT_MS = 90_000  # the export worker runs the job; the page polls it every second


def proposed_pack(stack: Any) -> str:
    """us-wv with one allowed hour, twelve hours from now in West Virginia, denying outside it."""
    hour = (local(stack.now(), "America/New_York").hour + 12) % 24
    hour = min(hour, 22)  # a window within one day: 22:00-23:00 is still ten hours away
    document = yaml.safe_load((policy_store.SOURCE_DIR / "us-wv.yaml").read_text("utf-8"))
    document["rules"][0].update({"allowed": {"default": [f"{hour:02d}:00-{hour + 1:02d}:00"]}, "permanent": True})
    return str(yaml.safe_dump(document, allow_unicode=True))


@pytest.fixture(scope="module")
def texted(stack: Any, gateway: Any) -> str:
    """A West Virginia debtor texted now: the contact id of its decision."""
    who = new_debtor()
    headers = {"Authorization": f"Bearer {stack.dev_keys['keys']['submitter']}"}
    body = sms_body(who, WV_NUMBER, location=WEST_VIRGINIA)
    answer = requests.post(f"{stack.url}/v1/contacts", json=body, headers=headers, timeout=30)
    assert answer.status_code in (200, 202), answer.text
    appended(gateway, who)
    return str(answer.json()["contact_id"])


def replay_on_the_page(browser: Any, stack: Any, mode: str) -> Any:
    page = open_console(browser, stack, "impact")
    today = stack.now().date()
    page.fill("#impact-form input[name=from]", (today - timedelta(days=1)).isoformat())
    page.fill("#impact-form input[name=to]", (today + timedelta(days=1)).isoformat())
    page.fill("#impact-form input[name=pack_id]", "us-wv")
    page.fill("#impact-form textarea[name=pack]", proposed_pack(stack))
    page.select_option("#impact-form select[name=mode]", mode)
    page.click("#impact-form button[type=submit]")
    page.wait_for_selector("#impact-report:not([hidden])", timeout=WAIT_MS)
    return page


def job_report(stack: Any, page: Any) -> dict[str, Any]:
    """The report the page shows, as the API gives it (the job's id is in the page's status line)."""
    impact_id = next(w for w in page.inner_text("#impact-status").replace(":", " ").split() if w.startswith("pi_"))
    headers = {"Authorization": f"Bearer {stack.dev_keys['keys']['compliance']}"}
    job = requests.get(f"{stack.url}/v1/policy-impact/{impact_id}", headers=headers, timeout=30).json()
    assert job["status"] == "done", job
    return dict(job)


def totals_on_the_page(page: Any) -> dict[str, dict[str, int]]:
    rows = page.locator("#impact-totals tr").all()
    cells = [[c.inner_text() for c in row.locator("td").all()] for row in rows[1:]]
    return {s: {c[0]: int(c[i]) for c in cells} for i, s in ((1, "current"), (2, "proposed"))}


@pytest.mark.parametrize("mode", ["recorded", "counterfactual"])
def test_the_page_shows_the_changed_contact_its_rule_and_the_totals(browser, stack, texted, mode) -> None:
    page = replay_on_the_page(browser, stack, mode)
    job = job_report(stack, page)
    report = job["report"]
    assert job["mode"] == report["mode"] == mode
    [change] = [c for c in report["changed"]["contacts"] if c["contact_id"] == texted]
    assert change["proposed"]["outcome"] == "deny" and RULE in change["rules"]
    changes = page.inner_text("#impact-changes")
    assert texted in changes and RULE in changes
    assert f"{texted} · {change['at']} · US-WV: {change['current']['outcome']} → deny" in changes
    assert totals_on_the_page(page) == report["totals"]
    assert report["deferrals_moved"]["count"] == 0 and page.inner_text("#impact-moved") == "None."  # not a blank
    assert report["totals"]["proposed"]["deny"] >= 1
    assert page.get_attribute("#impact-summary", "data-mode") == mode
    shown = "counterfactual" if mode == "counterfactual" else "as recorded"
    assert f"Mode: {shown}" in page.inner_text("#impact-summary")
    assert page.is_visible("#impact-history") is (mode == "counterfactual")
    if mode == "counterfactual":
        proposed = report["history"]["proposed"]
        under = f"{proposed['left']} and {proposed['entered']} under the proposed ones"
        assert under in page.inner_text("#impact-history")
    assert serious_violations(page) == []
