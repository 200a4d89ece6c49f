"""The dispatcher's fan-out over a queue: the tick enqueues shards, shards enqueue their due people with a delay,
workers send them. Overlapping ticks, messages delivered twice and workers racing each other send every
contact of a herd exactly once, and none before its ``not_before``."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from chalicelib.domain.model import Result
from chalicelib.services import dispatch
from chalicelib.services.unit_of_work import UnitOfWork
from tests.fakes import RecordingQueue
from tests.support import EIGHT_ATLANTA, HERD, NIGHT_ATLANTA, TENANT, herd


def test_a_herd_leaves_once_each_and_not_early_under_overlapping_ticks_and_redeliveries(deps) -> None:
    debtors, queue = herd(deps), RecordingQueue(NIGHT_ATLANTA)
    for offset in (-40, -30):  # two ticks before 08:00, overlapping: both enqueue the whole herd
        queue.now = EIGHT_ATLANTA + timedelta(seconds=offset)
        assert dispatch.tick(deps, queue, queue.now) == deps.ledgers.shards + 1
        for _visible, shard in queue.receive(queue.now):
            dispatch.handle_message(shard, deps, queue, queue.now)
    assert max(queue.delays) <= dispatch.MAX_DELAY_SECONDS and any(d > 0 for d in queue.delays)
    early = queue.receive(EIGHT_ATLANTA - timedelta(seconds=1))
    assert early == []  # each people message is delayed until its people are due

    people = queue.receive(EIGHT_ATLANTA)
    deliveries = [message for _visible, message in people] * 2  # every message delivered twice
    with ThreadPoolExecutor(max_workers=4) as workers:  # four workers racing on the same people
        list(workers.map(lambda m: dispatch.handle_message(m, deps, queue, EIGHT_ATLANTA), deliveries))

    sent_to = Counter(m["to"] for m in deps.sms.sent)
    assert len(sent_to) == HERD and set(sent_to.values()) == {1}
    for debtor in debtors:
        ledger = deps.ledgers.get(TENANT, debtor)
        assert ledger.deferred == ()
        (record,) = ledger.history
        assert record.result is Result.SENT and record.at >= EIGHT_ATLANTA


def test_a_message_that_comes_early_sends_nothing_and_goes_back_delayed_until_due(deps) -> None:
    herd(deps)
    queue = RecordingQueue(NIGHT_ATLANTA)
    queue.now = early = EIGHT_ATLANTA - timedelta(seconds=5)
    report = dispatch.handle_message({"kind": "people", "people": [[TENANT, "d-0"]]}, deps, queue, early)
    assert report.dispatched == 0 and deps.sms.sent == []
    assert queue.receive(EIGHT_ATLANTA - timedelta(seconds=1)) == []
    [(_visible, again)] = queue.receive(EIGHT_ATLANTA)
    assert again["people"] == [[TENANT, "d-0"]]
    assert dispatch.handle_message(again, deps, queue, EIGHT_ATLANTA).dispatched == 1


def test_a_backlog_is_not_enqueued_again_by_every_tick_but_stragglers_are(deps: UnitOfWork) -> None:
    herd(deps)
    queue = RecordingQueue(NIGHT_ATLANTA)

    def people_enqueued_by_tick_at(at: datetime) -> int:
        queue.now = at
        dispatch.tick(deps, queue, at)
        for _visible, shard in [m for m in queue.receive(at) if m[1]["kind"] == "shard"]:
            dispatch.handle_message(shard, deps, queue, at)
        people = [m for m in queue.messages if m[1]["kind"] == "people"]
        queue.messages = []
        return sum(len(m["people"]) for _v, m in people)

    assert people_enqueued_by_tick_at(EIGHT_ATLANTA - timedelta(seconds=30)) == HERD  # due inside its window
    assert people_enqueued_by_tick_at(EIGHT_ATLANTA + timedelta(seconds=30)) == 0  # still due: already enqueued
    assert people_enqueued_by_tick_at(EIGHT_ATLANTA + dispatch.STRAGGLER) == HERD  # never sent: taken again
    assert people_enqueued_by_tick_at(EIGHT_ATLANTA + dispatch.STRAGGLER + timedelta(minutes=2)) == 0  # once
    assert people_enqueued_by_tick_at(EIGHT_ATLANTA + dispatch.ABANDONED) == HERD  # then by every tick


def test_shard_messages_name_every_shard_and_the_key_from_before_the_sharding(deps: UnitOfWork) -> None:
    queue = RecordingQueue(NIGHT_ATLANTA)
    dispatch.tick(deps, queue, NIGHT_ATLANTA)
    shards = [m["shard"] for _v, m in queue.receive(NIGHT_ATLANTA)]
    assert shards == [None, *range(deps.ledgers.shards)]
