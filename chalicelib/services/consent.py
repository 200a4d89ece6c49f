"""The person's consent state: read it, replace it, patch it; every change is an audit event."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any, Literal

from chalicelib.domain.audit import Draft
from chalicelib.domain.events import EventType
from chalicelib.domain.ledger import Ledger
from chalicelib.domain.preferences import Preferences
from chalicelib.services import suppression
from chalicelib.services.contacts import record_change
from chalicelib.services.unit_of_work import UnitOfWork

Source = Literal["api", "sms-reply", "email-unsubscribe", "ses-bounce", "ses-complaint"]


def preferences_view(debtor_id: str, preferences: Preferences) -> dict[str, Any]:
    return {"debtor_id": debtor_id, "preferences": preferences.model_dump(mode="json")}


MAX_ADDRESSES = 50  # two scopes each: one BatchGetItem holds 100 keys


def get_preferences(tenant: str, debtor_id: str, deps: UnitOfWork, addresses: tuple[str, ...] = ()) -> dict[str, Any]:
    """The person's own preferences, and beside them the suppressions of their addresses (those in the
    ledger, then ``addresses``): a STOP or an unsubscribe binds the address, not the person, and is kept
    in the address's own ledger."""
    person = deps.ledgers.get(tenant, debtor_id)
    view = preferences_view(debtor_id, person.preferences)
    view["address_suppressions"] = suppression.suppressions(deps, tenant, _addresses(person, addresses))
    return view


def _addresses(person: Ledger, named: tuple[str, ...]) -> list[str]:
    known = (
        *(r.to for r in person.history),
        *(d.request.to for d in person.deferred),
        *(o.address for o in person.preferences.opt_outs),
        *named,
    )
    unique = {a.strip().lower(): a for a in reversed(known) if a}  # one per address, in first-seen order
    return list(reversed(unique.values()))[:MAX_ADDRESSES]


def change_preferences(
    tenant: str,
    debtor_id: str,
    deps: UnitOfWork,
    now: datetime,
    change: Preferences | dict[str, Any],
    *,
    source: Source = "api",
    actor: str | None = None,
    reason: str | None = None,
    key_id: str | None = None,
) -> dict[str, Any]:
    """Replace the preferences (a ``Preferences``) or merge top-level fields (a dict, as PATCH does).

    ``actor`` is who the caller says made the change (an agent's name); ``key_id`` is the key that sent it.

    Committed in the person's ledger, so every decision after it (submits, the dispatcher's deferred
    contacts, dialer permits) reads it in the same atomic step as the history.
    """

    def mutate(led: Ledger) -> Ledger:
        return replace(led, preferences=_changed(led.preferences, change))

    def drafts(before: Ledger, after: Ledger) -> list[Draft]:
        data = {
            "source": source,
            "actor": actor,  # as the caller names the person who made the change
            "key_id": key_id,  # the API key that made it, as the authorizer named it
            "reason": reason,
            "before": before.preferences.model_dump(mode="json"),
            "after": after.preferences.model_dump(mode="json"),
        }
        return [Draft(EventType.PREFERENCES_CHANGED, f"preferences:{debtor_id}", data)]

    new = record_change((tenant, debtor_id), deps, now, drafts, mutate)
    return preferences_view(debtor_id, new.preferences)


def _changed(current: Preferences, change: Preferences | dict[str, Any]) -> Preferences:
    """The new preferences; the open disputes are kept whatever the change says (only a resolution closes
    one, with its own event), so replacing the preferences never lifts a dispute's hold."""
    if isinstance(change, Preferences):
        return change.model_copy(update={"disputes": current.disputes})
    merged = {**current.model_dump(mode="json"), **change}
    return Preferences.model_validate(merged).model_copy(update={"disputes": current.disputes})
