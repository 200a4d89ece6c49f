"""The console's templates page in a real browser (Chromium via Playwright) against the local stack: an
officer sees the drafts awaiting approval, previews one with its segments and content findings, and
approves or retires it; a draft with findings shows them and is not approved."""

from __future__ import annotations

from typing import Any

import pytest
import requests

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

VARIABLES = {"creditor": "creditor", "amount": "amount", "due": "date"}
CLEAN = (
    "This is North Recovery, a debt collector. This is an attempt to collect a debt and any information "
    "obtained will be used for that purpose. {{ creditor }}: {{ amount }} is due on {{ due }}. "
    "Reply STOP to opt out."
)
THREAT = "Pay {{ amount }} to {{ creditor }} by {{ due }} or we will have you arrested."  # and no opt-out notice


def drafted(stack: Any, name: str, text: str) -> str:
    """A template with one draft, written by the submitter key: the compliance officer is its checker."""
    headers = {"Authorization": f"Bearer {stack.dev_keys['keys']['submitter']}"}
    made = requests.post(
        f"{stack.url}/v1/templates",
        json={"name": name, "channel": "sms", "jurisdictions": ["us-federal"]},
        headers=headers,
        timeout=30,
    )
    assert made.status_code == 201, made.text
    template_id = str(made.json()["template_id"])
    version: dict[str, Any] = {"locale": "en", "text": text, "variables": VARIABLES}
    answer = requests.post(
        f"{stack.url}/v1/templates/{template_id}/versions", json=version, headers=headers, timeout=30
    )
    assert answer.status_code == 201, answer.text
    return template_id


def templates_page(browser: Any, stack: Any) -> Any:
    context = browser.new_context(locale="en-US", timezone_id="UTC", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{stack.url}/console#templates")
    page.fill("#api-key", stack.dev_keys["keys"]["compliance"])
    page.click("#key-form button[type=submit]")
    page.wait_for_selector("#status.ok")
    page.click("#templates-load")
    page.wait_for_selector("#templates-list tbody tr")
    return page


def open_draft(page: Any, template_id: str) -> None:
    page.locator(f'#templates-list tbody tr[data-template="{template_id}"][data-status="draft"]').click()
    page.wait_for_selector("#template:not([hidden])")


def test_a_draft_awaiting_approval_previews_and_is_approved(browser, stack) -> None:
    template_id = drafted(stack, "Reminder (clean)", CLEAN)
    page = templates_page(browser, stack)
    assert "drafts awaiting approval" in page.inner_text("#templates-count")
    open_draft(page, template_id)
    assert "{{ creditor }}" in page.inner_text("#template-text")
    page.fill('#template-variables input[name="amount"]', "120.5")
    page.fill('#template-variables input[name="due"]', "2026-03-31")
    page.click("#template-preview")
    page.wait_for_selector("#template-findings li")
    assert "Acme Bank: 120.50 is due on 2026-03-31." in page.inner_text("#template-preview-text")
    assert "SMS segments, GSM-7" in page.inner_text("#template-segments")
    assert page.inner_text("#template-findings") == "No content findings."
    page.click("#template-approve")
    page.wait_for_selector('#template-status:text-is("approved")')
    assert "is approved" in page.inner_text("#status")
    assert page.is_disabled("#template-approve")
    page.click("#template-retire")
    page.wait_for_selector('#template-status:text-is("retired")')
    stored = requests.get(
        f"{stack.url}/v1/templates/{template_id}",
        headers={"Authorization": f"Bearer {stack.dev_keys['keys']['compliance']}"},
        timeout=30,
    ).json()
    assert [(v["status"], v["text"]) for v in stored["versions"]] == [("retired", CLEAN)]


def test_a_draft_with_a_finding_shows_it_and_is_not_approved(browser, stack) -> None:
    template_id = drafted(stack, "Reminder (threat)", THREAT)
    page = templates_page(browser, stack)
    open_draft(page, template_id)
    page.click("#template-preview")
    page.wait_for_selector("#template-findings.broken li")
    assert "us-federal/" in page.inner_text("#template-findings")
    page.click("#template-approve")
    page.wait_for_selector("#status:not(.ok)")
    assert "Content findings" in page.inner_text("#status")
    assert page.inner_text("#template-status") == "draft"
