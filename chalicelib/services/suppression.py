"""Suppression per address: an opt-out follows the number or email address, whoever the debtor is.

Each address has a ledger of its own (keyed by a hash of the address, so the key reveals nothing),
holding its opt-outs as preferences and its own audit chain.
"""

from __future__ import annotations

import hashlib
from typing import Any

from chalicelib.domain.access import SHARED_SCOPE
from chalicelib.domain.ledger import Ledger
from chalicelib.domain.model import ContactRequest
from chalicelib.domain.preferences import OptOut, Preferences
from chalicelib.services.unit_of_work import UnitOfWork


def address_key(address: str) -> str:
    """Starts with "@", which no debtor id may (api.SAFE_ID): the API cannot reach address ledgers."""
    return "@addr:" + hashlib.sha256(address.strip().lower().encode()).hexdigest()[:32]


def _scopes(tenant: str, address: str) -> list[tuple[str, str]]:
    key = address_key(address)
    return [(tenant, key)] if tenant == SHARED_SCOPE else [(tenant, key), (SHARED_SCOPE, key)]


def _found(ledgers: list[Ledger]) -> list[tuple[str, OptOut]]:
    return [(led.tenant, o) for led in ledgers for o in led.preferences.opt_outs]


def scoped_opt_outs(deps: UnitOfWork, tenant: str, address: str) -> list[tuple[str, OptOut]]:
    """(scope, opt-out): the tenant's own (its unsubscribe links) and the shared scope's (STOP replies to
    the gateway's shared numbers, bounces and complaints on its shared sender). Both bind every decision."""
    return _found(deps.ledgers.get_many(_scopes(tenant, address)))  # one read for both scopes


def read_with_opt_outs(
    deps: UnitOfWork, tenant: str, debtor_id: str, address: str
) -> tuple[Ledger, list[tuple[str, OptOut]], Ledger]:
    """The person's ledger, the address's scoped opt-outs and its shared-scope ledger (where replies land
    and which keeps who was texted there), in one strongly consistent BatchGetItem."""
    person, *addresses = deps.ledgers.get_many([(tenant, debtor_id), *_scopes(tenant, address)])
    return person, _found(addresses), addresses[-1]


def opt_outs(deps: UnitOfWork, tenant: str, address: str) -> tuple[OptOut, ...]:
    return tuple(o for _scope, o in scoped_opt_outs(deps, tenant, address))


def evidence(request: ContactRequest, found: list[tuple[str, OptOut]]) -> list[dict[str, Any]]:
    """The address's opt-outs that cover this request, as the decision records them: the tenant's officers
    see why and since when, and the address chain (``chain``, in ``scope``) holds the reply or feedback."""
    chain = address_key(request.to)
    return [
        {"scope": scope, "chain": chain, "channel": o.channel.value, "at": o.at.isoformat() if o.at else None}
        for scope, o in found
        if o.covers(request)
    ]


def suppressions(deps: UnitOfWork, tenant: str, addresses: list[str]) -> list[dict[str, Any]]:
    """The opt-outs recorded against each address (STOP, unsubscribe, bounce, complaint), in the tenant's
    scope and the shared one, in one strongly consistent read; what the console shows beside a debtor's own."""
    keys = [scope for address in addresses for scope in _scopes(tenant, address)]
    if not keys:
        return []
    return [
        {
            "address": o.address,
            "channel": o.channel.value,
            "source": o.source,
            "scope": "shared" if led.tenant == SHARED_SCOPE else "tenant",
            "at": o.model_dump(mode="json")["at"],
        }
        for led in deps.ledgers.get_many(keys)
        for o in led.preferences.opt_outs
    ]


def with_address(preferences: Preferences, extra: tuple[OptOut, ...]) -> Preferences:
    """The person's preferences plus the opt-outs recorded against the address being contacted."""
    return preferences.model_copy(update={"opt_outs": preferences.opt_outs + extra}) if extra else preferences
