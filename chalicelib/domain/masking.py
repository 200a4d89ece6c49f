"""Masking of addresses and message text: enough to recognise, not enough to use.

Reports and logs render an address the same way, so support can match a log line to an export row and a
person reading a number out can be found by eye: ``+14045550100`` → ``+1404•••0100``,
``jane.doe+x@example.com`` → ``j•••x@example.com``. A hash was the alternative; it was not chosen because
an unkeyed hash of a phone number is reversed by enumerating the few billion numbers of a country, so it
would only look safer, and nobody can read one over the phone. Numbers shorter than 11 digits keep two
leading and two trailing digits, so at least three are always hidden.

``mask_addresses`` finds E.164 numbers (also grouped by single spaces or hyphens, or URL-encoded as
``%2B…``) and email addresses (also with ``%40``) anywhere in a string: a log message, a traceback, a
serialised JSON line. One pass of one compiled pattern.

A message body cannot be recognised by what it says, so it is recognised by where it sits: the value of a
key named in ``BODY_KEYS`` (any case), whether in a dict (``mask_fields``) or written out as a quoted
JSON or Python-repr pair inside text (``mask_text``), becomes ``•••(N chars)``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from chalicelib.domain.addresses import EMAIL_LOCAL_CHARS

BODY_KEYS = frozenset({"body", "subject", "message", "messagebody", "text", "html"})

# A local part: every character the API accepts (so ``x=jane{doe}`` and ``o'brien`` are masked whole), any
# letter (``张三``), and the mask's own dot (a line masked twice reads the same). URL-encoded (``%40``), "="
# and "&" separate a query's fields instead: an address's own would be written %3D and %26.
_LOCAL = rf"[\w•{EMAIL_LOCAL_CHARS}]"
_ENCODED_LOCAL = r"[\w.+%•-]"
_ADDRESS = re.compile(
    # the look-behinds make each run of characters a single attempt: linear time on long lines
    rf"(?<!{_LOCAL})(?P<email>{_LOCAL}+@[\w-]+(?:\.[\w-]+)+)"
    rf"|(?<!{_ENCODED_LOCAL})(?P<encoded>{_ENCODED_LOCAL}+%40[\w-]+(?:\.[\w-]+)+)"
    # people write numbers grouped by spaces, hyphens, dots and brackets: +1 (404) 555-0100, +1.404.555.0100
    r"|(?<![0-9])(?P<phone>(?:\+|%2[bB])[1-9](?:[ .()-]{0,2}[0-9]){6,14})(?![0-9])"
)
# characters that open a quotation or a group before an address are shown, not counted as its first letter
_OPENERS = "'`{"
# a quote may be escaped (JSON inside a JSON string: \"body\": \"…\"); a value ends at its own quote
_BODY_PAIR = re.compile(
    r"""(?P<key>(?<!\\)(?P<q>\\*["'])(?:body|subject|message|messagebody|text|html)(?P=q)\s*:\s*)"""
    r"""(?P<vq>\\*["'])(?P<value>.*?)(?<!\\)(?P=vq)""",
    re.IGNORECASE,
)

_MASKED_BODY = re.compile(r"•••(?:\([0-9]+ chars\))?")


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


def mask_phone(number: str) -> str:
    """Any written form of an E.164 number → the masked canonical form (``+1 404-555-0100`` → ``+1404•••0100``)."""
    digits = re.sub(r"[^0-9]", "", number.removeprefix("%2B").removeprefix("%2b"))
    if len(digits) >= 11:
        return mask_address("+" + digits)
    return "+" + digits[:2] + "•••" + digits[-2:]


def mask_body(value: Any) -> Any:
    """A body's length is kept (it tells an SMS's segment count); its text is not."""
    if value is None or value == "" or (isinstance(value, str) and _MASKED_BODY.fullmatch(value)):
        return value  # nothing to hide, or hidden already (a line masked twice keeps the first length)
    if isinstance(value, str):
        return f"•••({len(value)} chars)"
    return "•••"


def mask_addresses(text: str) -> str:
    """Every phone number and email address in ``text``, masked; everything else unchanged."""
    return _ADDRESS.sub(_mask_match, text)


def mask_text(text: str) -> str:
    """``mask_addresses``, and the value of each quoted body pair (``"body": "…"``, ``'Message': '…'``)."""
    return mask_addresses(_BODY_PAIR.sub(_mask_pair, text))


def mask_fields(value: Any, key: str = "") -> Any:
    """A copy of ``value`` with bodies (by key) and addresses (in every string) masked, at any depth."""
    if key.lower() in BODY_KEYS:
        return mask_body(value)
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, BaseException):
        return mask_text(f"{type(value).__name__}: {provider_error_text(value) or value}")
    if isinstance(value, Mapping):
        return {k: mask_fields(v, str(k)) for k, v in value.items()}
    if type(value) is list:
        return [mask_fields(v) for v in value]
    if type(value) is tuple:  # a log record's args
        return tuple(mask_fields(v) for v in value)
    return value


def provider_error_text(exc: BaseException) -> str | None:
    """A provider's error (botocore's ``ClientError`` shape: a ``response`` with an ``Error``) named by its code
    and operation. Its message is the provider's free text (a number, an account, a carrier's rule), which no
    mask can be sure to follow, so it is never written; ``None`` for any other exception."""
    response = getattr(exc, "response", None)
    error = response.get("Error") if isinstance(response, Mapping) else None
    if not isinstance(error, Mapping):
        return None
    operation = getattr(exc, "operation_name", None) or "unknown"
    return f"({error.get('Code', 'Unknown')}) when calling the {operation} operation (provider text not logged)"


def _mask_match(match: re.Match[str]) -> str:
    if match["phone"]:
        return mask_phone(match["phone"])
    email = match["email"] or match["encoded"]
    if "•" in email:
        return email  # masked already: a line masked twice reads the same
    address = email.lstrip(_OPENERS)
    opener = email[: len(email) - len(address)]
    return opener + mask_address(unquote(address) if match["encoded"] else address)


def _mask_pair(match: re.Match[str]) -> str:
    quote = match["vq"]
    return f"{match['key']}{quote}{mask_body(match['value'])}{quote}"


# The keys whose string value is message text wherever it sits in an event's content (``masked_tree``).
TEXT_KEYS = frozenset({"body", "subject", "html", "text"})


def masked_tree(value: Any, pointer: str, key: str, hidden: list[str]) -> Any:
    """``value`` with message text (under ``TEXT_KEYS``) and every address in any other string masked; the
    JSON pointer (RFC 6901) of each string changed is added to ``hidden``."""
    if isinstance(value, dict):
        return {k: masked_tree(v, f"{pointer}/{_escaped(str(k))}", str(k), hidden) for k, v in value.items()}
    if isinstance(value, list):
        return [masked_tree(v, f"{pointer}/{i}", "", hidden) for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value
    shown = mask_body(value) if key.lower() in TEXT_KEYS else mask_addresses(value)
    if shown != value:
        hidden.append(pointer)
    return shown


def holds_hidden(value: Any, key: str = "") -> bool:
    """Whether ``masked_tree`` would hide anything in ``value``: the same test, stopping at the first string it
    would change and building nothing (audit.link asks it of every event on the request path)."""
    if isinstance(value, dict):
        return any(holds_hidden(v, str(k)) for k, v in value.items())
    if isinstance(value, list):
        return any(holds_hidden(v) for v in value)
    if not isinstance(value, str):
        return False
    return (mask_body(value) if key.lower() in TEXT_KEYS else mask_addresses(value)) != value


def _escaped(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")
