"""One-click email unsubscribe (RFC 8058): signed, unguessable tokens that name one address.

A token is ``<payload>.<signature>``: the payload (tenant and address, base64url JSON) signed with
HMAC-SHA256 under the deployment's secret. It cannot be forged or pointed at another address, and
reveals nothing but the address its holder already received mail at.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass, replace
from datetime import datetime

from chalicelib.domain.audit import Draft
from chalicelib.domain.errors import NotFoundError
from chalicelib.domain.events import EventType
from chalicelib.domain.ledger import Ledger
from chalicelib.domain.model import Channel
from chalicelib.domain.preferences import OptOut
from chalicelib.services import suppression
from chalicelib.services.unit_of_work import UnitOfWork
from chalicelib.services.writes import record_change


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def make_token(secret: bytes, tenant: str, address: str) -> str:
    payload = _b64(json.dumps({"t": tenant, "a": address.strip().lower()}, separators=(",", ":")).encode())
    return f"{payload}.{_b64(hmac.new(secret, payload.encode(), hashlib.sha256).digest())}"


def read_token(secret: bytes, token: str) -> tuple[str, str]:
    """(tenant, address); a forged, altered or malformed token is simply not found."""
    payload, _, signature = token.partition(".")
    expected = _b64(hmac.new(secret, payload.encode(), hashlib.sha256).digest())
    if not payload or not hmac.compare_digest(signature.encode(), expected.encode()):
        raise NotFoundError("unsubscribe token")
    try:
        data = json.loads(_unb64(payload))
        return str(data["t"]), str(data["a"])
    except (ValueError, KeyError, TypeError) as exc:
        raise NotFoundError("unsubscribe token") from exc


def headers(secret: bytes, public_url: str, tenant: str, address: str) -> dict[str, str]:
    url = f"{public_url.rstrip('/')}/v1/unsubscribe/{make_token(secret, tenant, address)}"
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


@dataclass(frozen=True)
class Unsubscribed:
    address: str
    changed: bool  # False: the address was suppressed already, and nothing was recorded


def unsubscribe(secret: bytes, token: str, deps: UnitOfWork, now: datetime) -> Unsubscribed:
    """Suppress the token's address for email, for every debtor. The link is public and may be replayed any
    number of times: only the first use changes anything, so only the first is audited."""
    tenant, address = read_token(secret, token)

    def mutate(led: Ledger) -> Ledger:
        if any(o.channel is Channel.EMAIL and o.address == address for o in led.preferences.opt_outs):
            return led
        opt_outs = (
            *led.preferences.opt_outs,
            OptOut(channel=Channel.EMAIL, address=address, at=now, source="email-unsubscribe"),
        )
        return replace(led, preferences=led.preferences.model_copy(update={"opt_outs": opt_outs}))

    data = {"source": "email-unsubscribe", "channel": "email"}
    key = (tenant, suppression.address_key(address))
    changed = {"now": False}

    def drafts(before: Ledger, after: Ledger) -> list[Draft]:
        changed["now"] = after != before
        return [Draft(EventType.UNSUBSCRIBED, f"unsubscribe:{key[1]}", data)] if changed["now"] else []

    record_change(key, deps, now, drafts, mutate)
    return Unsubscribed(address, changed["now"])
