"""The audit trail's daily pass: anchor the finished days, extend the retention of events still needed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from datetime import datetime
from typing import Any

from chalicelib.domain.access import SHARED_SCOPE
from chalicelib.domain.ports import KeyRegistry
from chalicelib.services import anchors, retention
from chalicelib.services.unit_of_work import UnitOfWork


def every_scope(keys: KeyRegistry) -> list[str]:
    """Every tenant ever issued a key, and the shared scope of inbound replies and provider feedback."""
    return [*keys.tenants(), SHARED_SCOPE]


def audit_pass(deps: UnitOfWork, tenants: Iterable[str], now: datetime) -> dict[str, Any]:
    anchored: dict[str, list[str]] = {}
    if deps.anchors is not None:
        retain_days = deps.retention_years * 366
        for tenant in tenants:
            anchored[tenant] = anchors.anchor_missing_days(deps.audit, deps.anchors, tenant, now, retain_days)
    report = retention.extend_retention(deps.audit, deps.ledgers, now)
    return {"anchored": anchored, "retention": asdict(report)}
