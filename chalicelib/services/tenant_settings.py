"""A tenant's settings (``/v1/settings``): read, changed by its admin, every change audited before/after.

Today they hold the tenant's own sending rates (docs/decisions/0017). A later setting is a field of
``domain.pacing.TenantSettings`` (and of ``api.SettingsIn``), its check here, and the path that reads it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from chalicelib.domain.errors import ConflictError, InvalidFieldError, StorageUnavailableError
from chalicelib.domain.events import EventType
from chalicelib.domain.model import Channel
from chalicelib.domain.pacing import RATE_FIELDS, TenantSettings
from chalicelib.domain.ports import SettingsStore
from chalicelib.services.keys import audit_access
from chalicelib.services.unit_of_work import UnitOfWork

SUBJECT = "settings"  # the access chain's subject of every change
TRIES = 5  # two admins changing the settings at once: each change applies to what the other left


def view(settings: TenantSettings, limits: Mapping[Channel, float | None]) -> dict[str, Any]:
    """The tenant's settings (null: the deployment's limit applies) and the deployment's limits."""
    deployment = {name: limits.get(channel) for channel, name in RATE_FIELDS.items()}
    return {"settings": settings.model_dump(), "deployment": deployment}


def read_settings(store: SettingsStore, tenant: str, limits: Mapping[Channel, float | None]) -> dict[str, Any]:
    stored, _version = store.get(tenant)
    return view(TenantSettings.model_validate(stored), limits)


def check_limits(settings: TenantSettings, limits: Mapping[Channel, float | None]) -> None:
    """A tenant's rate can only lower the deployment's: above it, the provider would throttle anyway."""
    for channel, name in RATE_FIELDS.items():
        own, limit = settings.rate(channel), limits.get(channel)
        if own is not None and limit is not None and own > limit:
            raise InvalidFieldError(name, f"at most the deployment's {limit:g} per second")


def change_settings(
    store: SettingsStore,
    deps: UnitOfWork,
    now: datetime,
    *,
    tenant: str,
    patch: Mapping[str, Any],
    by: str,
    limits: Mapping[Channel, float | None],
) -> dict[str, Any]:
    """Apply ``patch`` (null clears a setting) on the stored version, then audit it with before and after.
    An audit that cannot be written puts the settings back and raises: no change goes unaudited."""
    for _ in range(TRIES):
        stored, version = store.get(tenant)
        before = TenantSettings.model_validate(stored)
        after = TenantSettings.model_validate({**before.model_dump(), **patch})
        check_limits(after, limits)
        try:
            store.put(tenant, after.model_dump(exclude_defaults=True), version)
        except ConflictError:
            continue
        _audit(store, deps, now, tenant, (before, after, version + 1), by)
        if deps.pacing is not None:
            deps.pacing.forget(tenant)
        return view(after, limits)
    raise StorageUnavailableError("the tenant's settings stayed contended")


def _audit(
    store: SettingsStore,
    deps: UnitOfWork,
    now: datetime,
    tenant: str,
    change: tuple[TenantSettings, TenantSettings, int],
    by: str,
) -> None:
    before, after, version = change
    data = {"before": before.model_dump(), "after": after.model_dump(), "changed_by": by}
    try:
        audit_access(deps, tenant, now, EventType.SETTINGS_CHANGED, SUBJECT, data)
    except StorageUnavailableError:
        try:
            store.put(tenant, before.model_dump(exclude_defaults=True), version)
        except (ConflictError, StorageUnavailableError):  # another change came after: it is audited itself
            pass
        raise
