"""``chalice local`` with the gateway responses the deployed API has: problem+json, not API Gateway's own.

In AWS, API Gateway itself answers a request that carries no ``Authorization`` header (401) or that its
authorizer's policy denies (403), before any function runs; the packaged template sets those gateway
responses to the problem bodies of ``chalicelib.http.GATEWAY_PROBLEMS``. ``chalice local`` answers them
with fixed bodies of its own, so this entry point serves the same app through Chalice's own local server
and request handler, changing only how those two answers are written. Everything else (routing, the
authorizer, thread-local requests) is Chalice's. Before it serves, it hands the composition root the fault
injector of GATEWAY_FAULTS, if set (the soak's API processes).

    python -m tools.local.chalicelocal --host 127.0.0.1 --port 8000 --stage dev
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys

from chalice.cli.factory import CLIFactory
from chalice.local import (
    ChaliceRequestHandler,
    CustomLocalChalice,
    LocalChalice,
    LocalDevServer,
    LocalGatewayException,
)

from chalicelib import bootstrap as root
from chalicelib.http import GATEWAY_PROBLEMS
from chalicelib.http.problems import PROBLEM
from chalicelib.settings import Settings
from tools import ROOT
from tools.local import faults


class ProblemRequestHandler(ChaliceRequestHandler):
    def _send_error_response(self, error: LocalGatewayException) -> None:
        # chalice local's 500 for an authorizer that answered nothing is API Gateway's AUTHORIZER_FAILURE
        problem = GATEWAY_PROBLEMS.get(503 if error.CODE == 500 else error.CODE)
        if problem is None:
            super()._send_error_response(error)
            return
        headers = {**error.headers, "Content-Type": PROBLEM}
        if error.CODE == 401:
            headers["WWW-Authenticate"] = 'Bearer realm="contact-gateway"'
        body = json.dumps(problem.body(self.path.split("?", 1)[0])).encode()
        self._send_http_response(problem.status, headers, body)


def inject_faults(settings: Settings) -> None:
    """GATEWAY_FAULTS into every AWS client the app's composition root makes in this process (none unset)."""
    root.client_wrap = faults.client_wrap(settings)


def serve(host: str, port: int, stage: str) -> None:
    os.environ["AWS_CHALICE_CLI_MODE"] = "true"  # as the chalice command sets it
    inject_faults(Settings.from_env())
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(message)s")  # as `chalice local` does
    config = CLIFactory(str(ROOT), environ=os.environ).create_config_obj(chalice_stage_name=stage)
    app = config.chalice_app
    # What chalice.local.create_local_server does first: requests become thread-local in this server.
    CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
    app.__class__ = CustomLocalChalice
    LocalDevServer(app, config, host, port, handler_cls=ProblemRequestHandler).serve_forever()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="chalicelocal")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--stage", default="dev")
    args = parser.parse_args(argv)
    serve(args.host, args.port, args.stage)


if __name__ == "__main__":
    main()
