"""Pages of the audit trail stay right while events are appended between them."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.support import LISTINGS, NOW, Clock, build_trail, contact, every_page, ids, select, stored


@pytest.fixture
def trail(gateway):
    gateway.clock = Clock(NOW)
    return build_trail(gateway)


@pytest.mark.parametrize(("params", "wanted"), LISTINGS[:3])
def test_pages_stay_stable_when_events_are_appended_between_them(client, gateway, trail, params, wanted):
    """Oldest first, events appended meanwhile come after the old ones, each once; newest first, the
    listing keeps walking back from where it started and never repeats an event."""

    def appending(hours: int) -> Callable[[int], None]:
        def append(page: int) -> None:
            if page in (1, 3):
                contact(gateway, hours + page, "d-1", "a-1", "sms")
                contact(gateway, hours + page + 0.5, "d-2", "a-1", "email")

        return append

    before = ids(select(trail, **wanted))
    oldest_first = every_page(client, on_page=appending(120), **params, limit=4)
    after = ids(select(stored(gateway), **wanted))
    assert len(after) > len(before) and after[: len(before)] == before
    assert oldest_first == after

    newest_first = every_page(client, on_page=appending(130), **params, order="desc", limit=4)
    assert len(ids(select(stored(gateway), **wanted))) > len(after)
    assert newest_first == after[::-1]
