"""The history a proposed policy set would have produced: replay's counterfactual mode (decision 0039).

A recorded decision's history is what the ledger held then: the contacts the recorded decisions sent.
Counterfactually, each contact's place in the history is what the proposed set made of it instead:
- allowed: it is sent at its decision's instant (its recorded record stays where the trail sent it then;
  where the trail did not send it then, a reservation enters, counted as the worst case until a result,
  as the ledger counts one);
- denied: it leaves the history;
- deferred: it leaves its place. It enters again only where the trail holds a later decision of the same
  contact (a dispatcher's, at its recorded ``not_before``), decided again there like any other. Whether a
  deferral would have been scheduled at all (``on_blocked``, a call is never scheduled, the ledger's bound)
  is not in the decided event, and its decision at the proposed ``not_before`` is not in the trail.
An allow or a deny is the contact's last word: a later decision of it (the trail's re-decision of a
deferral the proposed set did not make) is reported, but moves nothing.

A recorded record names no contact (decision 0035): it is matched to the replayed decision of the same
person at the same instant, which is the instant the ledger reserved it at. Records of decisions outside
the replay (before the range, or not replayable) stay as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib.domain.model import Channel, ContactRecord, Decision, Outcome, Result
from chalicelib.domain.replay import Case


@dataclass(frozen=True)
class _Fate:
    """Where the proposed set placed a contact: sent at ``at`` (as ``record`` until its result), or nowhere."""

    at: datetime | None
    record: ContactRecord | None
    final: bool


def _reservation(case: Case, decision: Decision) -> ContactRecord:
    """The contact as the ledger would have counted it once allowed: placed or pending (the worst case)."""
    request = case.request
    voice = request.channel is Channel.VOICE
    return ContactRecord(
        contact_id=case.contact_id,
        at=case.at,
        channel=request.channel,
        account_id=request.account_id,
        to=request.to,
        result=Result.PLACED if voice else Result.PENDING,
        agency=request.agency,
        recipient_role=request.recipient_role,
        valid_until=decision.valid_until,
    )


class History:
    """Each person's history as the proposed set would have made it, built decision by decision in the
    order of their instants. ``window``: how far back a record that entered is kept (the ledger's bound)."""

    def __init__(self, window: timedelta) -> None:
        self.window = window
        self.instants: dict[tuple[str, datetime], str] = {}  # (person, instant) -> the contact decided then
        self.fates: dict[str, dict[str, _Fate]] = {}  # person -> contact -> its fate
        self.left = 0
        self.entered = 0

    def of(self, case: Case) -> tuple[ContactRecord, ...]:
        """The history ``case`` would have been decided against: ``case.history`` itself when unchanged."""
        fates = self.fates.get(case.debtor_id)
        if not fates:
            return case.history
        kept, placed = [], {case.contact_id}
        for record in case.history:
            contact = self.instants.get((case.debtor_id, record.at))
            fate = fates.get(contact) if contact else None
            if fate is None or fate.at == record.at:
                kept.append(record)
                placed.add(contact or "")
        entered = [f.record for c, f in fates.items() if c not in placed and self._seen(f, case.at)]
        if len(kept) == len(case.history) and not entered:
            return case.history
        return tuple(kept) + tuple(r for r in entered if r is not None)

    def _seen(self, fate: _Fate, now: datetime) -> bool:
        return fate.record is not None and fate.at is not None and now - self.window <= fate.at <= now

    def decided(self, case: Case, decision: Decision) -> None:
        """Place the contact as ``decision`` (the proposed set's) would have."""
        self.instants[(case.debtor_id, case.at)] = case.contact_id
        fates = self.fates.setdefault(case.debtor_id, {})
        earlier = fates.get(case.contact_id)
        if earlier is None or not earlier.final:
            fates[case.contact_id] = self._fate(case, decision)
        sent, was_sent = fates[case.contact_id].at == case.at, case.recorded_outcome == Outcome.ALLOW.value
        self.left += was_sent and not sent
        self.entered += sent and not was_sent

    @staticmethod
    def _fate(case: Case, decision: Decision) -> _Fate:
        if decision.outcome is Outcome.ALLOW:
            return _Fate(case.at, _reservation(case, decision), True)
        return _Fate(None, None, decision.outcome is Outcome.DENY)

    def to_json(self) -> dict[str, int]:
        return {"left": self.left, "entered": self.entered}


class Histories:
    """The current set's history and the proposed set's, each as the set would have made it: the difference
    between the two sets' decisions is then the sets' alone, whatever the trail was decided under."""

    def __init__(self, window: timedelta) -> None:
        self.current, self.proposed = History(window), History(window)

    def to_json(self) -> dict[str, dict[str, int]]:
        return {"current": self.current.to_json(), "proposed": self.proposed.to_json()}
