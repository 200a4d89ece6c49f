"""Masking of addresses for readable reports: enough to recognise, not enough to use."""

from __future__ import annotations


def mask_address(address: str | None) -> str:
    """``+14045550100`` → ``+1404•••0100``; ``jane.doe@example.com`` → ``j•••e@example.com``."""
    if not address:
        return ""
    if "@" in address:
        local, _, domain = address.rpartition("@")
        shown = local[:1] + "•••" + (local[-1:] if len(local) > 2 else "")
        return f"{shown}@{domain}"
    if len(address) <= 6:
        return "•" * len(address)
    return address[:5] + "•••" + address[-4:]
