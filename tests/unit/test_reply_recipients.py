"""Whom an address was texted about: one entry per debtor, recent ones only, bounded."""

from __future__ import annotations

from datetime import timedelta

from chalicelib.domain.recipients import KEEP, MAX_DEBTORS, MAX_REPLIES_SEEN, SentTo, debtors, latest, remembered, seen
from tests.support import utc

NOW = utc(2026, 3, 2, 17, 0)


def sent(debtor: str, at_minutes: int = 0, third_party: bool = False) -> SentTo:
    return SentTo("t", debtor, f"ct_{debtor}_{at_minutes}", "a-1", NOW + timedelta(minutes=at_minutes), third_party)


def test_the_latest_contact_per_debtor_is_kept_and_the_last_text_is_what_a_reply_answers():
    kept = remembered((sent("d-1", -5), sent("d-2", -3)), sent("d-1", 0), NOW)
    assert [s.contact_id for s in kept] == ["ct_d-2_-3", "ct_d-1_0"]
    assert latest(kept, NOW) == sent("d-1", 0)


def test_old_contacts_and_third_parties_are_not_answered_by_a_cease():
    old = SentTo("t", "d-old", "ct_old", "a-1", NOW - KEEP - timedelta(minutes=1))
    kept = remembered((old, sent("d-2", -1, third_party=True)), sent("d-1"), NOW)
    assert [s.debtor_id for s in debtors(kept, NOW)] == ["d-1"]


def test_the_lists_are_bounded():
    kept: tuple[SentTo, ...] = ()
    for n in range(MAX_DEBTORS + 5):
        kept = remembered(kept, sent(f"d-{n}", n), NOW + timedelta(minutes=n))
    assert len(kept) == MAX_DEBTORS and kept[-1].debtor_id == f"d-{MAX_DEBTORS + 4}"
    replies: tuple[str, ...] = ()
    for n in range(MAX_REPLIES_SEEN + 5):
        replies = seen(replies, f"m-{n}")
    assert len(replies) == MAX_REPLIES_SEEN and seen(replies, f"m-{MAX_REPLIES_SEEN + 4}") == replies
