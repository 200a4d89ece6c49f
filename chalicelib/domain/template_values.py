"""The values a template's variables take: each type, how a value of it is checked and written.

A type ending in ``?`` is optional (``Variable.optional``). An amount is written as the locale writes it;
every other value as it was given, once checked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

MAX_STRING = 500
CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class VariableType(StrEnum):
    STRING = "string"
    AMOUNT = "amount"  # a sum of money: a number, or a decimal string with at most two decimals
    DATE = "date"  # YYYY-MM-DD
    CREDITOR = "creditor"  # the creditor's name
    AGENCY = "agency"  # the collection agency's name
    PAYMENT_LINK = "payment_link"  # an https:// URL
    PHONE = "phone"  # a callback number, E.164
    INTEGER = "integer"


@dataclass(frozen=True)
class Variable:
    """A declared variable: its type, and whether a contact may leave it out."""

    type: VariableType
    optional: bool = False

    def __str__(self) -> str:
        return self.type.value + ("?" if self.optional else "")


def _amount(value: Any, locale: str) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError("a number, or a decimal string such as '120.50'")
    text = repr(value) if isinstance(value, float) else str(value)
    if not re.fullmatch(r"-?\d{1,12}(\.\d{1,2})?", text):
        raise ValueError("a sum with at most 12 digits and 2 decimals")
    try:
        grouped = f"{Decimal(text):,.2f}"
    except InvalidOperation:
        raise ValueError("not a number") from None
    if locale.split("-")[0] in ("es", "de", "fr", "it", "pt"):  # 1.234,50
        grouped = grouped.replace(",", " ").replace(".", ",").replace(" ", ".")
    return grouped


def _date(value: Any, _locale: str) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("a date, YYYY-MM-DD")
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise ValueError("a date, YYYY-MM-DD") from None


def _string(value: Any, _locale: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("a non-empty string")
    if len(value) > MAX_STRING or CONTROLS.search(value):
        raise ValueError(f"at most {MAX_STRING} characters, without control characters")
    return value


def _link(value: Any, locale: str) -> str:
    text = _string(value, locale)
    if not re.fullmatch(r"https://[A-Za-z0-9.-]+(:\d+)?(/\S*)?", text):
        raise ValueError("an https:// link")
    return text


def _phone(value: Any, _locale: str) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"\+[1-9]\d{6,14}", value):
        raise ValueError("a phone number in E.164 form, such as +14045550100")
    return value


def _integer(value: Any, _locale: str) -> str:
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) > 10**12:
        raise ValueError("a whole number")
    return str(value)


FORMATS = {
    VariableType.STRING: _string,
    VariableType.CREDITOR: _string,
    VariableType.AGENCY: _string,
    VariableType.AMOUNT: _amount,
    VariableType.DATE: _date,
    VariableType.PAYMENT_LINK: _link,
    VariableType.PHONE: _phone,
    VariableType.INTEGER: _integer,
}


def formatted(kind: VariableType, value: Any, locale: str) -> str:
    """``value`` checked as a ``kind`` and written for ``locale``; a ValueError says what it must be."""
    return FORMATS[kind](value, locale)
