"""One local stack (moto server + ``chalice local``) per session, and an HTTP client for it.

Under ``pytest -n 2 --dist loadgroup`` each worker that runs an e2e test starts a stack of its own: the
modules' ``xdist_group("e2e")`` marks are not honoured by pytest-xdist 3.8 under pytest 9.2, so e2e tests
spread over both workers. No test may rely on being alone on a stack. The stack publishes
``chalicelib/policy_bundle.json``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from chalicelib.bootstrap import Runtime
from tests.auth import role_for
from tools.local.stack import LocalStack, free_port


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    log_dir = tmp_path_factory.mktemp("e2e-stack-logs")
    local_stack = LocalStack(
        moto_port=free_port(),
        port=free_port(),
        dispatch_interval=0,
        log_dir=log_dir,
        keys_path=log_dir / "dev-keys.json",
    )
    try:
        local_stack.start()
    except Exception as exc:
        local_stack.stop()
        logs = "\n".join(f"--- {p.name}\n{_tail(p)}" for p in sorted(log_dir.glob("*.log")))
        raise RuntimeError(f"the local stack did not start: {exc}\n{logs}") from exc
    try:
        yield local_stack
    finally:
        local_stack.stop()


@pytest.fixture(scope="session")
def gateway(stack: LocalStack) -> Runtime:
    """The product's composition root in this process, wired to the stack's moto server."""
    return stack.gateway()


class Client(requests.Session):
    """``requests`` against the stack's URL; every response is checked: never a 500, never a trace.

    A request that names no ``Authorization`` carries the stack's dev key of the role its route admits
    (``tests.auth.role_for``); ``keys`` are the ones ``make run`` writes to ``.gateway/dev-keys.json``.
    """

    def __init__(self, base_url: str, keys: dict[str, str] | None = None) -> None:
        super().__init__()
        self.base_url, self.keys = base_url, keys or {}
        self.hooks["response"].append(self._check)

    @staticmethod
    def _check(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        assert response.status_code != 500, f"{response.request.method} {response.url} -> 500: {response.text}"
        assert "Traceback" not in response.text, response.text

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 30)
        headers = dict(kwargs.pop("headers", None) or {})
        if self.keys and not any(name.lower() == "authorization" for name in headers):
            headers["Authorization"] = f"Bearer {self.keys[role_for(str(url)).value]}"
        kwargs["headers"] = headers
        verb = method if isinstance(method, str) else method.decode()
        return super().request(verb, f"{self.base_url}{url!s}", *args, **kwargs)


@pytest.fixture(scope="session")
def api(stack: LocalStack) -> Iterator[Client]:
    with Client(stack.url, stack.dev_keys["keys"]) as client:
        yield client


CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# Without the background-networking flags Chromium keeps dialling out.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, for the console's browser tests (one per module)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield launched
        launched.close()
