"""Suppression per address: an opt-out follows the number or email address, whoever the debtor is.

Each address has a ledger of its own (keyed by a hash of the address, so the key reveals nothing),
holding its opt-outs as preferences and its own audit chain.
"""

from __future__ import annotations

import hashlib

from chalicelib.domain.access import SHARED_SCOPE
from chalicelib.domain.model import ContactRequest
from chalicelib.domain.preferences import OptOut, Preferences
from chalicelib.services.writes import Deps


def address_key(address: str) -> str:
    """Starts with "@", which no debtor id may (api.SAFE_ID): the API cannot reach address ledgers."""
    return "@addr:" + hashlib.sha256(address.strip().lower().encode()).hexdigest()[:32]


def opt_outs(deps: Deps, tenant: str, address: str) -> tuple[OptOut, ...]:
    """The tenant's own (its unsubscribe links) and the shared scope's (STOP replies to the gateway's
    shared numbers, bounces and complaints on its shared sender): both bind every decision."""
    key = address_key(address)
    own = deps.ledgers.get(tenant, key).preferences.opt_outs
    return own + deps.ledgers.get(SHARED_SCOPE, key).preferences.opt_outs if tenant != SHARED_SCOPE else own


def with_address(preferences: Preferences, extra: tuple[OptOut, ...]) -> Preferences:
    """The person's preferences plus the opt-outs recorded against the address being contacted."""
    return preferences.model_copy(update={"opt_outs": preferences.opt_outs + extra}) if extra else preferences


def blocks(deps: Deps, request: ContactRequest) -> bool:
    """Read again just before a send: an opt-out recorded since the decision still stops it."""
    return any(o.covers(request) for o in opt_outs(deps, request.tenant, request.to))
