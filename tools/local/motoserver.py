"""moto server for the local stack, with each request applied atomically.

DynamoDB applies a conditional write atomically; moto's threaded server checks the condition and
writes without a lock, so two concurrent commits of the same ledger version could both succeed
there, which AWS never allows. This server is moto's own application behind one lock: requests are
still accepted concurrently, but applied one at a time.

``GET /_local/sent`` answers what the providers sent (moto's SNS SMS and SES lists), for the invariant
checker (``./gateway audit check-invariants``); AWS has no such list.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import run_simple


class Serialized:
    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self._app = app
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        with self._lock:
            if environ.get("PATH_INFO") == SENT_PATH:
                start_response("200 OK", [("Content-Type", "application/json")])
                return [json.dumps(sent_messages()).encode()]
            return [b"".join(self._app(environ, start_response))]


SENT_PATH = "/_local/sent"


def sent_messages() -> list[dict[str, str]]:
    """Every SMS and email moto's backends in this process sent: id, channel, address, text."""
    from moto.ses.models import ses_backends
    from moto.sns.models import sns_backends

    found: list[dict[str, str]] = []
    for account in list(sns_backends):
        for backend in list(sns_backends[account].values()):
            for message_id, (number, text) in list(backend.sms_messages.items()):
                found.append({"message_id": message_id, "channel": "sms", "to": number, "body": text})
    for account in list(ses_backends):
        for mail in list(ses_backends[account].values()):
            for message in list(mail.sent_messages):
                for to in getattr(message, "destinations", {}).get("ToAddresses", []):
                    found.append({"message_id": message.id, "channel": "email", "to": to, "body": ""})
    return found


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=5000)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    app = Serialized(DomainDispatcherApplication(create_backend_app))
    run_simple(args.host, args.port, app, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
