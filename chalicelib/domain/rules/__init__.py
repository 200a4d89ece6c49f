"""The rule kinds, one module each, and the registry a policy pack's ``kind:`` key selects from.

A new kind: a module here with a ``BaseRule`` subclass whose ``kind`` is a ``Literal``, added to ``Rule``.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from chalicelib.domain.rules.base import BaseRule, Context
from chalicelib.domain.rules.consent import ConsentRule
from chalicelib.domain.rules.content import ContentRule
from chalicelib.domain.rules.delivery import DeliveryRule
from chalicelib.domain.rules.frequency import FrequencyRule
from chalicelib.domain.rules.lockout import LockoutRule
from chalicelib.domain.rules.quiet_hours import QuietHoursRule
from chalicelib.domain.rules.recipient import RecipientRule

Rule = Annotated[
    QuietHoursRule | FrequencyRule | LockoutRule | RecipientRule | ContentRule | ConsentRule | DeliveryRule,
    Field(discriminator="kind"),
]

__all__ = [
    "BaseRule",
    "ConsentRule",
    "ContentRule",
    "DeliveryRule",
    "Context",
    "FrequencyRule",
    "LockoutRule",
    "QuietHoursRule",
    "RecipientRule",
    "Rule",
]
