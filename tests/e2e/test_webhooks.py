"""Webhooks on the local stack: a receiver on 127.0.0.1 registered through the API hears a text it was told
about (``contact.sent``) and its delivery receipt (``contact.delivered``), each signed per Standard Webhooks,
through the stack's ledger stream, webhook queue and sender, as deployed."""

from __future__ import annotations

import hmac
import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from standardwebhooks import Webhook

from tests.e2e.support import eventually, gateway_command, new_debtor, open_message_number, sms_body

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
TOLERANCE = timedelta(minutes=5)  # the Standard Webhooks libraries' default


def verified(secret: str, raw: bytes, headers: dict[str, str], now: datetime) -> Any:
    """The payload, once its signature is the library's for its id, timestamp and body, and its timestamp is
    fresh by the stack's clock (the one it signs with: GATEWAY_CLOCK_AT's, when a run sets one)."""
    headers = {k.lower(): v for k, v in headers.items()}
    signed_at = datetime.fromtimestamp(int(headers["webhook-timestamp"]), UTC)
    assert abs(signed_at - now) < TOLERANCE, (signed_at, now)
    expected = Webhook(secret).sign(headers["webhook-id"], signed_at, raw)
    assert any(hmac.compare_digest(expected, given) for given in headers["webhook-signature"].split(" "))
    return json.loads(raw)


class Inbox:
    """What the receiver was posted: (headers, body) pairs, in order."""

    def __init__(self) -> None:
        self.posts: list[tuple[dict[str, str], bytes]] = []
        self.lock = threading.Lock()

    def wait_for(self, kind: str, contact_id: str | None = None, timeout: float = 30) -> tuple[dict[str, str], bytes]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                for headers, body in self.posts:
                    payload = json.loads(body)
                    if payload["type"] == kind and contact_id in (None, payload["data"].get("contact_id")):
                        return headers, body
            time.sleep(0.2)
        raise AssertionError(f"no {kind} within {timeout} s; got {[json.loads(b)['type'] for _h, b in self.posts]}")


@pytest.fixture
def receiver() -> Iterator[tuple[str, Inbox]]:
    inbox = Inbox()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with inbox.lock:
                inbox.posts.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/hooks/gateway", inbox
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.slow  # the stream, the queue and the sender twice over: about ten seconds
def logged_attempts(api: Any, webhook_id: str, expected: set[Any], timeout: float = 15) -> set[Any]:
    """The webhook's logged attempts once they hold ``expected``: the sender logs an attempt after the
    receiver has answered it, so the receiver hears a message a moment before its attempt is logged."""

    def read() -> set[Any]:
        attempts = api.get(f"/v1/webhooks/{webhook_id}/deliveries").json()["deliveries"]
        return {(a["type"], a["status"], a["outcome"]) for a in attempts}

    return eventually(read, lambda found: found >= expected, timeout)


def test_a_local_receiver_hears_a_text_sent_and_delivered_signed(api, stack, receiver) -> None:
    url, inbox = receiver
    created = api.post("/v1/webhooks", json={"url": url, "events": ["contact.sent", "contact.delivered"]})
    assert created.status_code == 201, created.text
    hook = created.json()

    debtor, (number, location) = new_debtor(), open_message_number(stack.now())
    body = sms_body(debtor, number, **({"location": location} if location else {}))
    sent = api.post("/v1/contacts", json=body).json()
    assert sent["status"] == "sent", sent

    headers, raw = inbox.wait_for("contact.sent", sent["contact_id"])
    payload = verified(hook["secret"], raw, headers, stack.now())  # a valid signature, a fresh timestamp
    assert payload["data"]["debtor_id"] == debtor and payload["data"]["status"] == "sent"
    assert number not in raw.decode() and "overdue" not in raw.decode()  # a masked address, never the body

    # A delivery receipt, injected as SNS writes it to its delivery-status log group (docs/decisions/0030).
    gateway_command(stack, "sms-status", sent["provider_message_id"], "delivered")
    headers, raw = inbox.wait_for("contact.delivered", sent["contact_id"])
    delivered = verified(hook["secret"], raw, headers, stack.now())
    assert delivered["data"]["delivery"]["status"] == "delivered"
    assert headers["webhook-id"] != inbox.wait_for("contact.sent", sent["contact_id"])[0]["webhook-id"]

    expected = {("contact.sent", 204, "delivered"), ("contact.delivered", 204, "delivered")}
    assert logged_attempts(api, hook["webhook_id"], expected) >= expected
    assert api.delete(f"/v1/webhooks/{hook['webhook_id']}").status_code == 200


def test_a_test_event_reaches_the_receiver_signed(api, stack, receiver) -> None:
    url, inbox = receiver
    hook = api.post("/v1/webhooks", json={"url": url, "events": ["export.done"]}).json()
    assert api.post(f"/v1/webhooks/{hook['webhook_id']}/test").status_code == 202
    headers, raw = inbox.wait_for("webhook.test")
    assert verified(hook["secret"], raw, headers, stack.now())["data"]["webhook_id"] == hook["webhook_id"]
    assert api.delete(f"/v1/webhooks/{hook['webhook_id']}").status_code == 200
