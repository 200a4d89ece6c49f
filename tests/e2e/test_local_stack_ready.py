"""`make run`: health answers 200 only once everything is ready, the dev keys written included."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
import requests

from tools.local.stack import LocalStack, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def _healthy(url: str) -> bool:
    try:
        return requests.get(f"{url}/v1/health", timeout=2).status_code == 200
    except requests.RequestException:
        return False


class WatchedStack(LocalStack):
    """Notes whether the API already answered healthy when the dev keys were issued."""

    healthy_before_keys: bool | None = None

    def issue_dev_keys(self) -> dict[str, Any]:
        self.healthy_before_keys = _healthy(self.url)
        return super().issue_dev_keys()


def _first_keys_seen_healthy(stack: LocalStack, keys_path: Path, seen: dict[str, Any], stop: threading.Event) -> None:
    """What a script polling health and then reading the keys file would read."""
    while not stop.is_set():
        if _healthy(stack.url):
            seen["keys"] = json.loads(keys_path.read_text())["keys"] if keys_path.exists() else None
            return
        stop.wait(0.02)


def test_health_turns_green_only_after_the_dev_keys_are_written(tmp_path: Path) -> None:
    keys_path = tmp_path / "dev-keys.json"
    keys_path.write_text(json.dumps({"tenant": "demo", "keys": {"compliance": "a previous run's key"}}))
    stack = WatchedStack(
        moto_port=free_port(), port=free_port(), dispatch_interval=0, log_dir=tmp_path, keys_path=keys_path
    )
    seen: dict[str, Any] = {}
    stop = threading.Event()
    poller = threading.Thread(target=_first_keys_seen_healthy, args=(stack, keys_path, seen, stop), daemon=True)
    poller.start()
    try:
        stack.start()
        poller.join(timeout=30)
    finally:
        stop.set()
        stack.stop()
    assert stack.healthy_before_keys is False
    assert seen["keys"] == stack.dev_keys["keys"]
