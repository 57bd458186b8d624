"""Limits shared between processes (limits.sqlite) and by a cluster (the limiter actor's state).

Two SharedLimits on one directory stand for two shard processes; the limiter is
the plain class Ray wraps. Checked on the reservations themselves, not on timing.
"""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

import pytest

from jbgrade.harness._limits import BudgetExhausted
from jbgrade.harness._remote import Limiter
from jbgrade.harness._shared import SharedLimits


def _next_slot(shared: SharedLimits, target: int) -> float:
    with shared.transaction() as db:
        row = db.execute("SELECT next_slot FROM bucket WHERE target = ?", (target,)).fetchone()
    return float(row[0])


def test_shards_reserve_slots_one_after_another(tmp_path: Path) -> None:
    a, b = SharedLimits(tmp_path), SharedLimits(tmp_path)
    try:
        ta, tb = a.throttle(0, 10.0, None), b.throttle(0, 10.0, None)
        slots = []
        for th in (ta, tb, ta, tb):
            assert th._reserve() >= 0
            slots.append(_next_slot(a, 0))
        # Each reservation is one interval (0.1 s) after the previous, whoever made it.
        for prev, nxt in itertools.pairwise(slots):
            assert nxt - prev == pytest.approx(0.1, abs=1e-6)
        # Another target has its own slots: its first request goes at once.
        assert a.throttle(1, 10.0, None)._reserve() < 0.05
    finally:
        a.close()
        b.close()


def test_a_pause_seen_by_one_shard_holds_the_other(tmp_path: Path) -> None:
    a, b = SharedLimits(tmp_path), SharedLimits(tmp_path)
    try:
        ta, tb = a.throttle(0, None, None), b.throttle(0, None, None)
        assert tb._reserve() >= 0
        ta.pause(30.0)
        assert tb._reserve() < -20.0  # negative: wait that long, then try again
    finally:
        a.close()
        b.close()


def test_shards_share_one_budget(tmp_path: Path) -> None:
    a, b = SharedLimits(tmp_path), SharedLimits(tmp_path)
    try:
        ba, bb = a.budget(5, None), b.budget(5, None)
        sent = 0
        for meter in (ba, bb, ba, bb, ba, bb, ba, bb):
            try:
                meter.reserve_request()
                sent += 1
            except BudgetExhausted:
                pass
        assert sent == 5
        assert ba.exhausted and bb.exhausted
    finally:
        a.close()
        b.close()


def test_budget_restarts_when_no_shard_is_running(tmp_path: Path) -> None:
    a = SharedLimits(tmp_path)
    a.budget(1, None).reserve_request()
    a.close()
    b = SharedLimits(tmp_path)
    try:
        b.budget(1, None).reserve_request()  # a new run: its own budget
    finally:
        b.close()


def test_tokens_per_min_drain_the_shared_bucket(tmp_path: Path) -> None:
    a, b = SharedLimits(tmp_path), SharedLimits(tmp_path)
    try:
        ta, tb = a.throttle(0, None, 600.0), b.throttle(0, None, 600.0)
        assert tb._reserve() >= 0
        ta.spend_tokens(1200)  # two minutes' worth: the level is -600
        assert tb._reserve() < -30.0
    finally:
        a.close()
        b.close()


async def test_limiter_budget_pause_and_permits() -> None:
    lim = Limiter([(None, None), (None, None)], [1, None], 3, None)
    assert [await lim.reserve(0) for _ in range(4)] == [True, True, True, False]
    await lim.enter(0, "w1")
    second = asyncio.ensure_future(lim.enter(0, "w2"))
    await asyncio.sleep(0)
    assert not second.done()  # the target's one permit is held by w1
    assert lim.release_holder("w1") == 1  # w1 died: its permit comes back
    await asyncio.wait_for(second, 5)
    lim.leave(0, "w2")
    lim.pause(1, 30.0)
    assert not lim.throttles[1].open()
    assert lim.spent() == (3, 0, True)
