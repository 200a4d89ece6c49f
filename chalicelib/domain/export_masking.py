"""An audit event as a masked export shows it: addresses and message text hidden, its link still checkable.

A masked event cannot be re-hashed: its hash covers the original content. So a line that hides anything
carries the original's ``content_hash`` (as a redacted stub does) and names what it hides in ``masked``, a
sorted list of JSON pointers (RFC 6901) into the line. Its link recomputes from ``content_hash``
(``audit.line_hash``); whoever holds the hidden values (the person, an unmasked export) can put them back at
those pointers and recompute the original's hash. A line with nothing to hide is the event itself.

What is hidden: message text (a ``body``, ``subject``, ``html`` or ``text`` string, its length kept) and every
address in any other string (``masking.mask_addresses``), and with them the event's ``nonce``: without it the
hidden values cannot be found by hashing guesses against ``content_hash`` (docs/decisions/0042). A rule's
``message`` is the rule's own wording and stays: it is what a regulator reads a decision by.
"""

from __future__ import annotations

from typing import Any, cast

from chalicelib.domain.audit import CONTENT_KEYS, content_hash
from chalicelib.domain.events import AuditEvent
from chalicelib.domain.masking import masked_tree

MASKED_NONCE = "•••"


def masked_line(event: AuditEvent) -> dict[str, Any]:
    """The event with its addresses and message text masked, and its ``nonce`` hidden with them; the event
    itself when it holds none."""
    hidden: list[str] = []
    shown = {
        k: masked_tree(v, f"/{k}", k, hidden) if k in CONTENT_KEYS and k != "nonce" else v for k, v in event.items()
    }
    if not hidden:
        return cast(dict[str, Any], event)
    if "nonce" in shown:  # what makes the hidden values unguessable from content_hash (audit.link)
        shown["nonce"] = MASKED_NONCE
        hidden.append("/nonce")
    return {**shown, "content_hash": content_hash(event), "masked": sorted(hidden)}
