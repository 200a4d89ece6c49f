"""The console as an officer's day, page by page, in Debian's Chromium against the local stack: the dashboard
with the day's report and its dated chart, search by address, the debtor's standing above the timeline and
its print layout, exports and what-if. Each page is checked by axe-core (the npm package's axe.min.js,
fetched by ``make browser``): no serious or critical violation. ``CONSOLE_SCREENSHOTS=docs/screenshots``
keeps a screenshot of each page there (README)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.e2e.support import NY_NUMBER, appended, eventually, new_debtor, night_location, sms_body

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

AXE = Path(__file__).resolve().parents[2] / ".axe" / "node_modules" / "axe-core" / "axe.min.js"
PAGES = ("dashboard", "search", "debtor", "exports", "what-if")


@pytest.fixture(scope="module")
def debtor(stack, gateway) -> str:
    """A debtor texted now (sent, or deferred where it is night) and once at night: a day with a report."""
    who, now = new_debtor(), stack.now()
    headers = {"Authorization": f"Bearer {stack.dev_keys['keys']['submitter']}"}
    for body in (sms_body(who, NY_NUMBER), sms_body(who, NY_NUMBER, location=night_location(now).location)):
        answer = requests.post(f"{stack.url}/v1/contacts", json=body, headers=headers, timeout=30)
        assert answer.status_code in (200, 202), answer.text
    appended(gateway, who)
    reported(stack, now.date().isoformat())
    return who


def reported(stack: Any, day: str, timeout: float = 15) -> None:
    """Wait for the day's report to count events: the appender writes its rollup after it has emptied the
    ledger's outbox (what ``appended`` waits for)."""
    headers = {"Authorization": f"Bearer {stack.dev_keys['keys']['compliance']}"}

    def read() -> requests.Response:
        return requests.get(f"{stack.url}/v1/reports/daily", params={"date": day}, headers=headers, timeout=30)

    report = eventually(read, lambda r: r.json().get("totals", {}).get("events"), timeout)
    assert report.json().get("totals", {}).get("events"), f"no events in the report of {day}: {report.text}"


def open_console(browser: Any, stack: Any, at: str) -> Any:
    # bypass_csp: axe-core is injected as a script of its own; the console itself never needs it
    context = browser.new_context(
        locale="en-US", timezone_id="UTC", viewport={"width": 1280, "height": 900}, bypass_csp=True
    )
    page = context.new_page()
    page.goto(f"{stack.url}/console#{at}")
    page.fill("#api-key", stack.dev_keys["keys"]["compliance"])
    page.click("#key-form button[type=submit]")
    page.wait_for_selector("#status.ok")
    return page


def serious_violations(page: Any) -> list[dict[str, Any]]:
    assert AXE.exists(), "axe-core is installed by `make browser` (npm axe-core): run it first"
    page.add_script_tag(content=AXE.read_text())
    found = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
            .map((v) => ({id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(" "))}))"""
    )
    return [v for v in found if v["impact"] in ("serious", "critical")]


def shoot(page: Any, name: str, tmp_path: Path) -> None:
    folder = Path(os.environ.get("CONSOLE_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def test_the_navigation_lists_every_page_and_shows_one_at_a_time(browser, stack) -> None:
    page = open_console(browser, stack, "search")
    links = page.locator("#pages a")
    assert [links.nth(i).get_attribute("href") for i in range(links.count())][:5] == [f"#{p}" for p in PAGES]
    assert page.locator("#pages a[aria-current=page]").inner_text() == "Search"
    assert page.is_visible("#search-form") and not page.is_visible("#export-form")
    page.click("#pages a[href='#exports']")
    page.wait_for_selector("#export-form", state="visible")
    assert not page.is_visible("#search-form")


def test_the_dashboard_shows_the_days_report_and_a_dated_chart(browser, stack, debtor, tmp_path) -> None:
    page = open_console(browser, stack, "dashboard")
    page.fill("#dashboard-date", stack.now().date().isoformat())
    page.click("#dashboard-form button[type=submit]")
    page.wait_for_selector("#dashboard-chart svg, #status:not(.ok):not(:empty)")
    assert "events" in page.inner_text("#dashboard-state"), page.inner_text("#status")
    ticks = page.locator("#dashboard-chart svg text").all_text_contents()
    assert stack.now().strftime("%m-%d") in ticks and "Day (UTC, month-day)" in ticks  # a dated axis
    assert "sent" in page.inner_text("#dashboard-status") or "scheduled" in page.inner_text("#dashboard-status")
    assert serious_violations(page) == []
    shoot(page, "dashboard", tmp_path)


def test_an_empty_day_says_so(browser, stack) -> None:
    page = open_console(browser, stack, "dashboard")
    page.fill("#dashboard-date", "2001-01-01")
    page.click("#dashboard-form button[type=submit]")
    page.wait_for_selector("#dashboard-state:has-text('No events')")


def test_search_by_address_finds_the_debtors_contacts(browser, stack, debtor, tmp_path) -> None:
    page = open_console(browser, stack, "search")
    page.fill("#search-address", "(404) 555-0100")
    page.click("#search-form button[type=submit]")
    page.wait_for_selector("#events tbody tr")
    assert debtor in page.inner_text("#events tbody")
    assert serious_violations(page) == []
    shoot(page, "search-address", tmp_path)


def test_the_debtor_page_shows_the_standing_above_the_timeline_and_prints(browser, stack, debtor, tmp_path) -> None:
    page = open_console(browser, stack, "debtor")
    page.fill("#timeline-debtor", debtor)
    page.click("#timeline-form button[type=submit]")
    page.wait_for_selector("#standing-list li")
    page.wait_for_selector("#chart svg")
    assert page.locator("#chart svg text.axis").text_content() == "Day (UTC)"
    page.select_option("#chart-days", "America/New_York")  # the debtor's local days
    page.wait_for_selector("#chart svg text.axis:has-text('America/New_York')")
    standing = page.inner_text("#standing-list")
    assert "America/New_York" in standing and ("allowed now" in standing or "not now" in standing)
    above = page.evaluate(
        "() => document.querySelector('#standing').getBoundingClientRect().top"
        " < document.querySelector('#timeline').getBoundingClientRect().top"
    )
    assert above
    assert serious_violations(page) == []
    shoot(page, "debtor", tmp_path)
    page.emulate_media(media="print")
    assert not page.is_visible("#pages") and not page.is_visible("#timeline-form")
    assert page.is_visible("#standing") and page.is_visible("#timeline")
    page.pdf(path=str(tmp_path / "history.pdf"))


def test_a_debtor_without_a_ledger_has_an_empty_standing(browser, stack) -> None:
    page = open_console(browser, stack, "debtor")
    page.fill("#timeline-debtor", new_debtor())
    page.click("#timeline-form button[type=submit]")
    page.wait_for_selector("#standing-state:has-text('No ledger')")


@pytest.mark.parametrize("at", ["exports", "what-if"])
def test_the_other_pages_pass_axe(browser, stack, at) -> None:
    page = open_console(browser, stack, at)
    assert serious_violations(page) == []
