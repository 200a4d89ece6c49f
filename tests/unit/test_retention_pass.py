"""The retention pass over a large tenant: it extends items as it reads them, a page at a time."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from chalicelib.domain.ledger import Ledger
from chalicelib.services import retention
from tests.fakes import InMemoryLedger

NOW = datetime(2029, 3, 1, 0, 20, tzinfo=UTC)


class StreamingExpiryIndex:
    """The ``by_expiry`` index of a large tenant: a day's items come a page at a time, and this one
    records how many it had handed out when each extension was written."""

    def __init__(self, per_day: int) -> None:
        self.per_day, self.read, self.read_at_each_write = per_day, 0, list[int]()

    def expiring(self, day: date) -> Iterator[dict[str, Any]]:
        if day != NOW.date():
            return
        expires = int((NOW + timedelta(hours=12)).timestamp())
        for seq in range(1, self.per_day + 1):
            self.read += 1
            yield {"pk": "t#d-1", "seq": seq, "tenant": "t", "debtor_id": "d-1", "expires_at": expires}

    def extend_retention(self, pk: str, seq: int, expires_at: int) -> int:
        self.read_at_each_write.append(self.read)
        return 1


def test_the_retention_pass_extends_items_as_it_reads_them_not_after_holding_a_whole_day():
    ledgers = InMemoryLedger()
    active = replace(Ledger(tenant="t", debtor_id="d-1"), last_event_at=NOW - timedelta(days=10), seq=1)
    ledgers.commit(active, 0)
    index = StreamingExpiryIndex(per_day=5000)

    report = retention.extend_retention(index, ledgers, NOW)

    assert report.extended == 5000
    # Each item is extended as soon as it is read: memory holds a page, not a day of a big tenant's trail.
    assert index.read_at_each_write[0] == 1 and index.read_at_each_write == list(range(1, 5001))
