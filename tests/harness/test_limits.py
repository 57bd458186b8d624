"""A target's pacing (TargetThrottle, the local runner's and the Ray limiter's) on a fake clock.

The module's ``time`` and ``asyncio`` names are replaced by a clock that only
moves when the throttle sleeps, so the order of events is exact and nothing
depends on the machine's speed.
"""

from __future__ import annotations

import itertools
import types
from collections.abc import Callable

import pytest

from jbgrade.harness import _limits
from jbgrade.harness._limits import TargetThrottle


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self.on_sleep: Callable[[int], None] | None = None

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if self.on_sleep is not None:
            self.on_sleep(len(self.sleeps))
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> _Clock:
    c = _Clock()
    monkeypatch.setattr(_limits, "time", types.SimpleNamespace(monotonic=c.monotonic))
    monkeypatch.setattr(_limits, "asyncio", types.SimpleNamespace(sleep=c.sleep))
    return c


async def test_requests_are_spaced_by_the_rate(clock: _Clock) -> None:
    th = TargetThrottle(2.0, None)
    sent = []
    for _ in range(4):
        await th.acquire()
        sent.append(clock.now)
    assert [b - a for a, b in itertools.pairwise(sent)] == [0.5, 0.5, 0.5]


async def test_a_pause_holds_a_request_already_waiting_for_its_slot(clock: _Clock) -> None:
    th = TargetThrottle(1.0, None)
    await th.acquire()  # the first slot: at once
    start = clock.now

    def pause_while_waiting(n: int) -> None:
        if n == 1:  # the second request sleeps until its slot; a 429 arrives meanwhile
            th.pause(30.0)

    clock.on_sleep = pause_while_waiting
    await th.acquire()
    # Not sent at its slot (start + 1 s), but after the pause the 429 asked for.
    assert clock.now >= start + 30.0


async def test_a_pause_delays_every_later_request(clock: _Clock) -> None:
    th = TargetThrottle(None, None)
    th.pause(5.0)
    assert not th.open()
    start = clock.now
    await th.acquire()
    assert clock.now >= start + 5.0
    assert th.open()


async def test_tokens_per_minute_bucket(clock: _Clock) -> None:
    th = TargetThrottle(None, 600.0)  # 10 tokens/s, one minute's worth to start with
    await th.acquire()
    th.spend_tokens(700)  # 100 tokens over: the next request waits for 10 s of refill
    start = clock.now
    await th.acquire()
    assert clock.now - start == pytest.approx(10.0, abs=0.01)
