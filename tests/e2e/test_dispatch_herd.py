"""The 08:00 herd, dispatched by several worker processes (as parallel Lambda instances of ``dispatch_worker``)
under overlapping ticks, against the stack's moto server: every text leaves exactly once, none before 08:00.

The workers run on a clock set just before the herd's instant (GATEWAY_CLOCK_AT's offset), so the test does
not depend on the hour it runs."""

from __future__ import annotations

import multiprocessing
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from bench import herd
from chalicelib.services import dispatch

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.xdist_group("e2e")]

PEOPLE = 40
WORKERS = 3


def test_worker_processes_send_a_herd_once_each_and_never_early(stack, gateway) -> None:
    marker = f"h{uuid.uuid4().hex[:8]}"
    debtors = herd.seed(gateway.deps, PEOPLE, marker)
    offset = (herd.HERD_AT - timedelta(seconds=6) - datetime.now(UTC)).total_seconds()
    env = {**stack.env(), "GATEWAY_CLOCK_OFFSET_SECONDS": repr(offset)}

    def clock() -> datetime:
        return datetime.now(UTC) + timedelta(seconds=offset)

    until = time.time() + 60
    with multiprocessing.get_context("spawn").Pool(WORKERS) as pool:
        jobs = pool.starmap_async(herd.worker, [(env, until)] * WORKERS)
        ticks = 0
        while time.time() < until:
            dispatch.tick(gateway.deps, gateway.dispatch_queue, clock(), timedelta(seconds=2))  # every 2 s
            ticks += 1
            if clock() > herd.HERD_AT and herd.tally(gateway, stack.endpoint, debtors, marker)["herd_missing"] == 0:
                break
            time.sleep(2)
        pool.terminate()
        del jobs
    done = herd.tally(gateway, stack.endpoint, debtors, marker)
    assert ticks >= 3
    assert (done["herd_sent_twice"], done["herd_sent_early"], done["herd_missing"]) == (0, 0, 0), done
    assert len(done["lags"]) == PEOPLE and min(done["lags"]) >= 0
