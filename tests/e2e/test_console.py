"""The compliance console in a real browser: Debian's Chromium, driven by Playwright, against the local stack.

An officer pastes a key, searches a seeded debtor's events, opens one, reads the timeline and the consent
state, verifies the chain, exports and downloads the bundle, asks a what-if, reads it in Chinese; a wrong
key says so. ``CONSOLE_SCREENSHOTS=docs/screenshots`` keeps a screenshot of each page there (README)."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.e2e.support import (
    NY_NUMBER,
    appended,
    email_body,
    new_debtor,
    night_location,
    open_message_number,
    sms_body,
)

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


@pytest.fixture(scope="module")
def seeded(stack, gateway) -> str:
    """A debtor with a sent text, a deferred one and a voice decision."""
    debtor, now = new_debtor(), stack.now()
    headers = {"Authorization": f"Bearer {stack.dev_keys['keys']['submitter']}"}
    number, location = open_message_number(now)
    night = night_location(now)
    bodies = [
        sms_body(debtor, number, location=location),
        sms_body(debtor, NY_NUMBER, location=night.location),
        {"debtor_id": debtor, "account_id": "acct-1", "channel": "voice", "to": NY_NUMBER, "location": night.location},
    ]
    for body in bodies:
        answer = requests.post(f"{stack.url}/v1/contacts", json=body, headers=headers, timeout=30)
        assert answer.status_code in (200, 202), answer.text
    appended(gateway, debtor)
    return debtor


RESTRICTED_NUMBER = "+14045550166"  # a number no other test texts: its STOP binds every debtor


@pytest.fixture(scope="module")
def restricted(stack, gateway) -> str:
    """A debtor with a cease, an attorney, a STOP on their number and an unsubscribed email address."""
    from chalicelib.domain.access import SHARED_SCOPE
    from chalicelib.services import inbound, unsubscribe

    debtor, now = new_debtor(), stack.now()
    keys = stack.dev_keys["keys"]
    for body in (sms_body(debtor, RESTRICTED_NUMBER), email_body(debtor)):
        answer = requests.post(
            f"{stack.url}/v1/contacts", json=body, headers={"Authorization": f"Bearer {keys['submitter']}"}, timeout=30
        )
        assert answer.status_code in (200, 202), answer.text
    reply = {"originationNumber": RESTRICTED_NUMBER, "destinationNumber": "+18005550100", "messageBody": "STOP"}
    inbound.handle_inbound_sms(inbound.parse_two_way_sms(json.dumps(reply)), SHARED_SCOPE, gateway.deps, now)
    secret = stack.env()["UNSUBSCRIBE_SECRET"].encode()
    token = unsubscribe.make_token(secret, "demo", f"{debtor}@example.com")
    assert requests.post(f"{stack.url}/v1/unsubscribe/{token}", timeout=30).status_code == 200
    stated: dict[str, Any] = {
        "cease": [{"account_id": "acct-1"}],
        "attorney": [{"account_id": "*"}],
        "reason": "letter received",
    }
    answer = requests.put(
        f"{stack.url}/v1/debtors/{debtor}/preferences",
        json=stated,
        headers={"Authorization": f"Bearer {keys['compliance']}"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    appended(gateway, debtor)
    return debtor


def shoot(page: Any, name: str, tmp_path: Path) -> None:
    folder = Path(os.environ.get("CONSOLE_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def console(browser: Any, stack: Any, key: str | None = None, locale: str = "en-US", at: str = "search") -> Any:
    """The console open on one of its pages (``at``: search, debtor, exports, what-if, dashboard)."""
    context = browser.new_context(
        accept_downloads=True, locale=locale, timezone_id="UTC", viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    page.goto(f"{stack.url}/console#{at}")
    page.fill("#api-key", key if key is not None else stack.dev_keys["keys"]["compliance"])
    page.click("#key-form button[type=submit]")
    page.wait_for_selector("#status.ok")
    return page


def test_the_page_and_its_files_are_served_with_a_strict_policy(stack) -> None:
    page = requests.get(f"{stack.url}/console", timeout=10)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    for asset in ("console.js", "console.css", "en.json", "zh.json"):
        assert requests.get(f"{stack.url}/console/{asset}", timeout=10).status_code == 200
    missing = requests.get(f"{stack.url}/console/app.py", timeout=10)
    assert missing.status_code == 404 and missing.headers["Content-Type"] == "application/problem+json"
    english, chinese = (requests.get(f"{stack.url}/console/{n}.json", timeout=10).json() for n in ("en", "zh"))
    assert set(english) == set(chinese)  # every string in both catalogues


def test_search_finds_the_seeded_debtors_events_and_opens_one(browser, stack, seeded, tmp_path) -> None:
    page = console(browser, stack)
    page.fill("#search-debtor", seeded)
    page.click("#search-form button[type=submit]")
    page.wait_for_selector("#events tbody tr")
    rows = page.locator("#events tbody tr")
    assert rows.count() >= 6  # requested, decided, and what followed, for three contacts
    text = page.inner_text("#events tbody")
    assert seeded in text and "•••" in text and NY_NUMBER not in text  # addresses masked
    assert "us-federal/quiet-hours" in text and "12 CFR 1006.6" in text  # reasons with citations
    assert "America/New_York" in text  # the local time next to UTC
    shoot(page, "search", tmp_path)
    rows.filter(has_text="decided").first.focus()
    page.keyboard.press("Enter")  # keyboard, not only the mouse
    page.wait_for_selector("#event:not([hidden])")
    assert len(page.inner_text("#event-hash")) == 64 and len(page.inner_text("#event-prev")) == 64
    opened = json.loads(page.inner_text("#event-data"))
    assert opened["type"] == "decided" and opened["data"]["inputs"]["zones"]  # the decision's inputs
    shoot(page, "event", tmp_path)


def test_the_timeline_renders_and_the_chain_verifies(browser, stack, seeded, tmp_path) -> None:
    page = console(browser, stack, at="debtor")
    page.fill("#timeline-debtor", seeded)
    page.click("#timeline-form button[type=submit]")
    page.wait_for_selector("#chart svg rect.bar")
    kinds = {
        page.get_attribute(f"#chart rect.bar >> nth={i}", "data-kind")
        for i in range(page.locator("#chart rect.bar").count())
    }
    assert "deferred" in kinds
    assert page.locator("#chart .hit").count() >= 1  # the quiet-hour rule that deferred the night text
    page.wait_for_selector("#consent li")  # the consent state, even when there is nothing on record
    assert "No opt-outs" in page.inner_text("#consent")
    page.click("#verify")
    page.wait_for_selector("#verify-result.ok")
    assert "Chain intact" in page.inner_text("#verify-result")
    shoot(page, "timeline", tmp_path)


def test_an_export_completes_and_downloads(browser, stack, seeded, tmp_path) -> None:
    page = console(browser, stack, at="exports")
    page.fill("#export-debtor", seeded)
    page.click("#export-form button[type=submit]")
    page.wait_for_selector("#export-files button", timeout=90_000)
    assert "done" in page.inner_text("#export-status")
    button = page.locator("#export-files button", has_text="events.jsonl")
    with page.expect_download() as download:
        button.click()
    saved = tmp_path / "events.jsonl"
    download.value.save_as(saved)
    events = [json.loads(line) for line in saved.read_text().splitlines()]
    assert events and {e["debtor_id"] for e in events} == {seeded}
    shoot(page, "export", tmp_path)


def test_what_if_shows_the_decision_and_when(browser, stack, tmp_path) -> None:
    page = console(browser, stack, at="what-if")  # the browser's clock reads UTC
    form = {"debtor_id": new_debtor(), "account_id": "acct-1", "to": NY_NUMBER, "country": "US", "subdivision": "GA"}
    for name, value in form.items():
        page.fill(f"#whatif-form [name={name}]", value)
    tomorrow = (stack.now() + timedelta(days=1)).date()
    while tomorrow.weekday() >= 5:  # a weekday, far from any weekend rule
        tomorrow += timedelta(days=1)
    at = f"{tomorrow.isoformat()}T08:00"  # 03:00 or 04:00 in Atlanta: inside the quiet hours
    page.fill("#whatif-form [name=at]", at)
    page.fill("#whatif-form [name=message]", "A reminder about your balance. Reply STOP to opt out.")
    page.click("#whatif-form button[type=submit]")
    page.wait_for_selector("#whatif-outcome:not(:empty)")
    assert "defer" in page.inner_text("#whatif-outcome"), page.inner_text("#whatif")
    assert f"Not before: {tomorrow.isoformat()}T1" in page.inner_text("#whatif-not-before")  # 12:00 or 13:00 UTC
    assert "America/New_York" in page.inner_text("#whatif-zones")
    assert "us-federal/quiet-hours" in page.inner_text("#whatif-reasons")
    shoot(page, "what-if", tmp_path)


def test_a_wrong_key_shows_a_clear_error(browser, stack, tmp_path) -> None:
    page = console(browser, stack, key="cgw_not_a_key")
    page.fill("#search-debtor", "d-anyone")
    page.click("#search-form button[type=submit]")
    page.wait_for_selector("#status:has-text('rejected')")  # no string-eval waits: the page's CSP forbids them
    assert "The key was rejected" in page.inner_text("#status")
    assert page.locator("#events tbody tr").count() == 0
    shoot(page, "wrong-key", tmp_path)


def test_the_console_reads_in_chinese(browser, stack, seeded, tmp_path) -> None:
    page = console(browser, stack, locale="zh-CN")
    assert page.evaluate("document.documentElement.lang") == "zh-Hans"
    assert "合规控制台" in page.inner_text("h1")
    page.fill("#search-debtor", seeded)
    page.click("#search-form button[type=submit]")
    page.wait_for_selector("#events tbody tr")
    assert "显示" in page.inner_text("#results-count")
    page.select_option("#language", "en")
    page.wait_for_selector("h1:has-text('compliance console')")
    page.select_option("#language", "zh")
    page.wait_for_selector("h1:has-text('合规')")
    shoot(page, "search-zh", tmp_path)


def consent_shown(browser: Any, stack: Any, debtor: str, locale: str = "en-US") -> tuple[Any, str]:
    page = console(browser, stack, locale=locale, at="debtor")
    page.fill("#timeline-debtor", debtor)
    page.click("#timeline-form button[type=submit]")
    page.wait_for_selector("#consent li")
    page.locator("#consent li").nth(3).wait_for()  # the page's CSP allows no eval: no wait_for_function
    return page, page.inner_text("#consent")


def test_the_timeline_shows_each_restriction_in_words(browser, stack, restricted, tmp_path) -> None:
    page, shown = consent_shown(browser, stack, restricted)
    items = shown.splitlines()
    assert any(i.startswith("Cease") and "acct-1" in i for i in items), shown
    assert any(i.startswith("Attorney") and "every account" in i for i in items), shown
    assert any(i.startswith("STOP") and "+1404•••0166" in i and "texts" in i for i in items), shown
    assert any(i.startswith("Unsubscribed") and f"{restricted[:1]}•••" in i for i in items), shown
    assert "No opt-outs" not in shown and "{" not in shown and "}" not in shown  # words, not JSON
    assert RESTRICTED_NUMBER not in shown and f"{restricted}@example.com" not in shown  # masked
    history = page.inner_text("#consent-history")
    assert "letter received" in history and "{" not in history
    shoot(page, "consent", tmp_path)


def test_the_restrictions_read_in_chinese(browser, stack, restricted, tmp_path) -> None:
    page, _ = consent_shown(browser, stack, restricted)
    page.select_option("#language", "zh")
    page.click("#timeline-form button[type=submit]")
    page.locator("#consent li", has_text="停止联系").wait_for()
    shown = page.inner_text("#consent")
    for words in ("停止联系", "律师", "回复退订", "取消订阅", "所有账户"):
        assert words in shown, shown
    assert "{" not in shown
