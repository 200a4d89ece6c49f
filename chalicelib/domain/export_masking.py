"""An audit event as a masked export shows it: addresses and message text hidden, its link still checkable.

A masked event cannot be re-hashed: its hash covers the original content. So a line that hides anything
carries the original's ``content_hash`` (as a redacted stub does) and names what it hides in ``masked``, a
sorted list of JSON pointers (RFC 6901) into the line. Its link recomputes from ``content_hash``
(``audit.line_hash``); whoever holds the hidden values (the person, an unmasked export) can put them back at
those pointers and recompute the original's hash. A line with nothing to hide is the event itself.

What is hidden: message text (a ``body``, ``subject``, ``html`` or ``text`` string, its length kept) and every
address in any other string (``masking.mask_addresses``). A rule's ``message`` is the rule's own wording and
stays: it is what a regulator reads a decision by.
"""

from __future__ import annotations

from typing import Any, cast

from chalicelib.domain.audit import CONTENT_KEYS, content_hash
from chalicelib.domain.events import AuditEvent
from chalicelib.domain.masking import mask_addresses, mask_body

TEXT_KEYS = frozenset({"body", "subject", "html", "text"})


def masked_line(event: AuditEvent) -> dict[str, Any]:
    """The event with its addresses and message text masked; the event itself when it holds none."""
    hidden: list[str] = []
    shown = {k: _masked(v, f"/{k}", k, hidden) if k in CONTENT_KEYS else v for k, v in event.items()}
    if not hidden:
        return cast(dict[str, Any], event)
    return {**shown, "content_hash": content_hash(event), "masked": sorted(hidden)}


def _masked(value: Any, pointer: str, key: str, hidden: list[str]) -> Any:
    if isinstance(value, dict):
        return {k: _masked(v, f"{pointer}/{_escaped(str(k))}", str(k), hidden) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v, f"{pointer}/{i}", "", hidden) for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value
    shown = mask_body(value) if key.lower() in TEXT_KEYS else mask_addresses(value)
    if shown != value:
        hidden.append(pointer)
    return shown


def _escaped(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")
