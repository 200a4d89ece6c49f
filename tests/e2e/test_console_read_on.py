"""The console in a real browser (Chromium, Playwright) over a routed API, no stack: a search page that
spent its read budget before anything matched (no events, a cursor) offers the next page instead of
saying there are no events (docs/decisions/0026)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from chalice import Response

from chalicelib import console

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

ORIGIN = "http://console.test"
EVENT = {
    "tenant": "local",
    "debtor_id": "d-1",
    "seq": 1,
    "at": "2026-03-02T17:00:00+00:00",
    "type": "requested",
    "contact_id": "c-1",
    "channel": "sms",
    "data": {},
    "prev_hash": "0" * 64,
    "hash": "a" * 64,
}


def serve(route: Any) -> None:
    """The console's own files as the gateway serves them; the audit search answers a first page that read
    its whole budget and found nothing, then a page with one event."""
    url = urlsplit(route.request.url)
    found: Response | None
    if url.path == "/console":
        found = console.page()
    elif url.path.startswith("/console/"):
        found = console.asset(url.path.removeprefix("/console/"))
    elif url.path == "/v1/audit/events":
        more = "cursor" in parse_qs(url.query)
        page = {"events": [EVENT] if more else [], "cursor": None if more else "c1", "order": "desc"}
        route.fulfill(status=200, content_type="application/json", body=json.dumps(page))
        return
    else:
        found = None
    if found is None:
        route.fulfill(status=404, body="")
        return
    route.fulfill(status=200, headers={k: str(v) for k, v in found.headers.items()}, body=found.body)


@pytest.mark.parametrize(
    ("locale", "read_on", "shown"),
    [
        ("en-US", "Nothing found in what was read so far. Next page reads on.", "1 events shown"),
        ("zh-CN", "已读取的部分中没有匹配的事件。请点“下一页”继续读取。", "显示 1 条事件"),
    ],
)
def test_an_empty_page_with_a_cursor_offers_the_next_page(browser, locale, read_on, shown) -> None:
    context = browser.new_context(locale=locale, timezone_id="UTC")
    page = context.new_page()
    page.route(f"{ORIGIN}/**", serve)
    page.goto(f"{ORIGIN}/console#search")  # the search page (the console shows one page at a time)
    page.fill("#api-key", "cgw_test")
    page.click("#key-form button[type=submit]")
    page.wait_for_selector("#status.ok")
    page.fill("#search-debtor", "d-1")
    page.click("#search-form button[type=submit]")
    page.wait_for_selector("#more:not([hidden])")
    assert page.inner_text("#results-count") == read_on
    assert page.locator("#events tbody tr").count() == 0
    page.click("#more")
    page.wait_for_selector("#events tbody tr")
    assert page.inner_text("#results-count") == shown
    assert page.locator("#more").is_hidden()
    context.close()
