"""The history a policy set would have produced: replay's counterfactual mode (decision 0039).

A recorded decision's history is what the ledger held then: the contacts the recorded decisions sent.
Counterfactually, each contact's place in a set's history is what that set made of it instead:
- allowed: it is sent. Where the trail sent it, its record stays where the trail put it (at the decision's
  instant, or at a provider slot's), with its real result; where the trail did not, a reservation enters at
  the decision's instant, counted as the worst case until a result, as the ledger counts one;
- denied: it leaves the history;
- deferred: it leaves its place. It enters again only where the trail holds a later decision of the same
  contact (a dispatcher's, at its recorded ``not_before``), decided again there like any other. Whether a
  deferral would have been scheduled at all (``on_blocked``, a call is never scheduled, the ledger's bound)
  is not in the decided event, and its decision at the proposed ``not_before`` is not in the trail.
An allow or a deny is the contact's last word: a later decision of it (the trail's re-decision of a
deferral the set did not make) is reported, but moves nothing.

A recorded record names no contact (decision 0035): it is matched to the replayed decision of the same
person at the same instant, which is the instant the ledger reserved it at. Records of decisions outside
the replay (before the range, or not replayable) stay as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from chalicelib.domain.ledger import reservation
from chalicelib.domain.model import ContactRecord, Decision, Outcome
from chalicelib.domain.replay import Case


@dataclass(frozen=True)
class _Fate:
    """What a set made of a contact: sent or not, decided when, and the record that stands for it where the
    trail holds none (a reservation: the trail did not send it)."""

    sent: bool
    decided_at: datetime
    final: bool
    record: ContactRecord | None = None


@dataclass
class _Person:
    instants: dict[datetime, str] = field(default_factory=dict)  # a replayed decision's instant -> its contact
    fates: dict[str, _Fate] = field(default_factory=dict)

    def prune(self, before: datetime) -> None:
        """Forget what no history can hold any more: what was decided before the ledger's bound."""
        self.instants = {at: c for at, c in self.instants.items() if at >= before}
        self.fates = {c: f for c, f in self.fates.items() if f.decided_at >= before}


class History:
    """Each person's history as one set would have made it, built decision by decision in the order of their
    instants. ``window``: how long the ledger keeps a record; what is older is forgotten."""

    def __init__(self, window: timedelta) -> None:
        self.window = window
        self.people: dict[str, _Person] = {}
        self.left = 0
        self.entered = 0

    def of(self, case: Case) -> tuple[ContactRecord, ...]:
        """The history ``case`` would have been decided against: ``case.history`` itself when unchanged."""
        person = self.people.get(case.debtor_id)
        if person is None or not person.fates:
            return case.history
        kept, placed = [], {case.contact_id}
        for record in case.history:
            contact = person.instants.get(record.at, "")
            fate = person.fates.get(contact)
            if fate is None or fate.sent:  # the trail's record of a contact sent stays where the trail put it
                kept.append(record)
                placed.add(contact)
        since = case.at - self.window
        entered = [f.record for c, f in person.fates.items() if f.record and c not in placed and f.decided_at >= since]
        if len(kept) == len(case.history) and not entered:
            return case.history
        return (*kept, *(r for r in entered if r is not None))

    def decided(self, case: Case, decision: Decision) -> None:
        """Place the contact as ``decision`` (this set's) would have."""
        person = self.people.setdefault(case.debtor_id, _Person())
        person.prune(case.at - self.window)
        person.instants[case.at] = case.contact_id
        was_sent = case.recorded_outcome == Outcome.ALLOW.value
        earlier = person.fates.get(case.contact_id)
        if earlier is not None and earlier.final:
            self.left += was_sent and not earlier.sent
            return
        sent = decision.outcome is Outcome.ALLOW
        record = None
        if sent and not was_sent:  # the ledger's reservation, counted as the worst case until a result
            record = reservation(case.request, case.contact_id, case.at, decision.valid_until)
        person.fates[case.contact_id] = _Fate(sent, case.at, sent or decision.outcome is Outcome.DENY, record)
        self.left += was_sent and not sent
        self.entered += sent and not was_sent

    def to_json(self) -> dict[str, int]:
        return {"left": self.left, "entered": self.entered}


class Histories:
    """The current set's history and the proposed set's, each as the set would have made it: the difference
    between the two sets' decisions is then the sets' alone, whatever the trail was decided under."""

    def __init__(self, window: timedelta) -> None:
        self.current, self.proposed = History(window), History(window)

    def to_json(self) -> dict[str, dict[str, int]]:
        return {"current": self.current.to_json(), "proposed": self.proposed.to_json()}
