"""``./gateway sms-status`` stamps the receipt by the local stack's clock, as its processes read it: a stack
run as if at another instant (GATEWAY_CLOCK_AT) gets receipts of that time, never the real one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.services.receipt_sources import sms_receipt
from tools.cli import main as cli
from tools.local import provision


def stamped(monkeypatch: pytest.MonkeyPatch) -> datetime:
    written: list[str] = []

    def put(client: Any, line: str, failed: bool) -> str:
        written.append(line)
        return "sns/us-east-1/000000000000/DirectPublishToPhoneNumber"

    monkeypatch.setattr(provision, "put_sms_status", put)
    monkeypatch.setattr(cli, "_local_client", lambda service: None)
    assert cli.main(["sms-status", "msg-1", "delivered"]) == 0
    return sms_receipt(written[0]).at


def test_a_receipt_is_stamped_by_the_stacks_offset_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GATEWAY_CLOCK_AT", raising=False)
    monkeypatch.setenv("GATEWAY_CLOCK_OFFSET_SECONDS", str(-200 * 86400.0))
    at = stamped(monkeypatch)
    expected = datetime.now(UTC) - timedelta(days=200)
    assert abs(at - expected) < timedelta(minutes=1), at


def test_a_receipt_is_stamped_at_the_chosen_instant(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GATEWAY_CLOCK_OFFSET_SECONDS", raising=False)
    monkeypatch.setenv("GATEWAY_CLOCK_AT", "2026-03-16T10:00:00-04:00")
    at = stamped(monkeypatch)
    assert abs(at - datetime(2026, 3, 16, 14, tzinfo=UTC)) < timedelta(minutes=1), at


def test_from_another_shell_a_receipt_is_stamped_by_the_clock_make_run_wrote(monkeypatch, tmp_path) -> None:
    from tools.local import stack

    monkeypatch.delenv("GATEWAY_CLOCK_AT", raising=False)
    monkeypatch.delenv("GATEWAY_CLOCK_OFFSET_SECONDS", raising=False)
    written = tmp_path / "clock.json"
    written.write_text('{"clock_offset_seconds": -8640000.0}\n')
    monkeypatch.setattr(stack, "STACK_CLOCK", written)
    at = stamped(monkeypatch)
    assert abs(at - (datetime.now(UTC) - timedelta(days=100))) < timedelta(minutes=1), at
