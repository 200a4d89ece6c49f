"""The receivers' HTTP client over a real socket on 127.0.0.1: it connects to the address it is given
(not to what the name resolves to), follows no redirect, and reports a silent receiver as no answer."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from chalicelib.adapters.webhooks import HttpWebhookPoster


class Server:
    def __init__(self, status: int, headers: dict[str, str] | None = None, delay: float = 0.0) -> None:
        self.status, self.headers, self.delay = status, headers or {}, delay
        self.seen: list[tuple[str, dict[str, str], bytes]] = []


@pytest.fixture
def server() -> Iterator[tuple[Server, int]]:
    state = Server(200)
    release = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            state.seen.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            if state.delay:
                release.wait(state.delay)
            self.send_response(state.status)
            for name, value in state.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "22")
            self.end_headers()
            self.wfile.write(b"ok +14045550100 thanks")

        def log_message(self, *args: Any) -> None:
            return None

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield state, httpd.server_port
    finally:
        release.set()
        httpd.shutdown()
        httpd.server_close()


def test_it_posts_to_the_checked_address_with_the_name_as_host(server) -> None:
    state, port = server
    answer = HttpWebhookPoster().post(
        f"http://hooks.invalid:{port}/in?x=1", "127.0.0.1", b'{"a":1}', {"webhook-id": "msg_1"}
    )
    assert answer.status == 200 and answer.detail == "ok +1404•••0100 thanks"  # the answer is kept masked
    [(path, headers, body)] = state.seen
    assert (path, body, headers["host"]) == ("/in?x=1", b'{"a":1}', f"hooks.invalid:{port}")
    assert headers["webhook-id"] == "msg_1" and headers["content-type"] == "application/json"


def test_a_redirect_is_an_answer_not_followed(server) -> None:
    state, port = server
    state.status, state.headers = 302, {"Location": "http://169.254.169.254/latest/meta-data/"}
    answer = HttpWebhookPoster().post(f"http://127.0.0.1:{port}/", "127.0.0.1", b"{}", {})
    assert answer.status == 302 and len(state.seen) == 1


def test_a_receiver_that_does_not_answer_in_time_is_no_answer(server) -> None:
    state, port = server
    state.delay = 5.0
    answer = HttpWebhookPoster(timeout=0.3).post(f"http://127.0.0.1:{port}/", "127.0.0.1", b"{}", {})
    assert answer.status is None and "timed out" in answer.detail


def test_a_name_that_does_not_resolve_resolves_to_nothing() -> None:
    assert HttpWebhookPoster().resolve("nowhere.invalid") == []
    assert HttpWebhookPoster().resolve("127.0.0.1") == ["127.0.0.1"]
