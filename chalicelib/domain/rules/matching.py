"""The history sorted once per evaluation into the classes every counting rule tells apart.

What a counting rule asks of a record (``CountedRule.matches``) reads its channel, result, direction and
delivery state, and whether its debt, its address and its collector are the request's: nothing else.
Records alike in those seven are alike to every such rule. So the history is classified in one pass, each
rule answers once per class (and keeps the answer: it is pure in the rule and the class), and rules that
count the same classes share one selection of records, with its local dates and its date order.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import compress
from operator import itemgetter
from typing import Any

from chalicelib.domain.model import Channel, ContactRecord, ContactRequest, DeliveryStatus, Direction, Result
from chalicelib.domain.rules.base import Context

# channel, result, direction, delivery; same debt, same address, a collector the request's may count
Signature = tuple[Channel, Result, Direction, DeliveryStatus | None, bool, bool, bool]


@dataclass(frozen=True)
class Classified:
    """A history's records with the class of each; each class's signature and first record."""

    records: tuple[ContactRecord, ...]
    classes: tuple[int, ...]  # per record, the index of its class
    signatures: tuple[Signature, ...]
    samples: tuple[ContactRecord, ...]  # per class, a record of it: what a rule is asked about

    def selected(self, counted: tuple[bool, ...]) -> list[ContactRecord]:
        """The records of the classes ``counted`` marks, in history order."""
        if all(counted):
            return list(self.records)
        if not any(counted):
            return []
        return list(compress(self.records, map(counted.__getitem__, self.classes)))


_FIELDS = itemgetter("channel", "result", "direction", "delivery", "account_id", "to", "agency")


def signature(record: ContactRecord, request: ContactRequest) -> Signature:
    return _signature(_FIELDS(vars(record)), request)


def _signature(fields: tuple[Any, ...], request: ContactRequest) -> Signature:
    channel, result, direction, delivery, account_id, to, agency = fields
    same_collector = agency is None or request.agency is None or agency == request.agency
    return (channel, result, direction, delivery, account_id == request.account_id, to == request.to, same_collector)


_KEY = "classified"  # its entry in an evaluation's memo


def classified(ctx: Context) -> Classified:
    """The context's history classified, once per evaluation (every pack's context shares the memo)."""
    found = ctx.memo.get(_KEY)
    if found is None:
        found = ctx.memo[_KEY] = classify(ctx.history, ctx.request)
    return found  # type: ignore[return-value]


def classify(history: tuple[ContactRecord, ...], request: ContactRequest) -> Classified:
    """Records with the same fields are grouped first, which takes no Python step per record; each group's
    signature then once, and the groups with one signature are one class."""
    if not history:
        return Classified(history, (), (), ())
    fields = list(map(_FIELDS, map(vars, history)))  # a model's fields are its __dict__: read in one step
    groups = dict(zip(reversed(fields), reversed(history), strict=True))  # each group's first record
    index: dict[Signature, int] = {}
    samples: list[ContactRecord] = []
    for found, record in groups.items():
        kind = index.get(signature := _signature(found, request))
        if kind is None:
            kind = index[signature] = len(samples)
            samples.append(record)
        groups[found] = kind  # type: ignore[assignment]  # from here on: the group's class
    return Classified(
        records=history,
        classes=tuple(map(groups.__getitem__, fields)),  # type: ignore[arg-type]
        signatures=tuple(index),
        samples=tuple(samples),
    )
