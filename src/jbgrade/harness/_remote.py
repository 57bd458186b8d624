"""Cluster-wide limits: one limiter (a Ray actor) and the worker-side handles that ask it.

:class:`Limiter` holds, for a whole campaign run on a cluster, every target's
``requests_per_s`` pacing and ``tokens_per_min`` bucket (the same
:class:`TargetThrottle` the local runner uses), Retry-After pauses (a 429 seen
by one worker pauses the target for all), each target's ``concurrency`` (a
semaphore whose permits are held per worker, so a dead worker's permits are
released by the driver) and the campaign ``budget``. Nothing here imports Ray:
the executor wraps :class:`Limiter` with ``ray.remote``; workers call it
through :class:`RemoteLimits`.

A request is paced inside the limiter (``reserve`` returns when the request
may go), so the spacing between requests is decided by one clock in one
process, whichever node sends them.
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Any

from jbgrade.harness._limits import BudgetExhausted, BudgetMeter, TargetThrottle

__all__ = ["Limiter", "RemoteBudget", "RemoteCap", "RemoteLimits", "RemoteThrottle"]


class Limiter:
    """Every target's pacing, concurrency and the budget of one campaign run."""

    def __init__(
        self,
        rates: list[tuple[float | None, float | None]],
        concurrency: list[int | None],
        max_requests: int | None,
        max_tokens: int | None,
    ) -> None:
        self.throttles = [TargetThrottle(r, t) for r, t in rates]
        self.budget = BudgetMeter(max_requests, max_tokens)
        self.sems = [asyncio.Semaphore(c) if c else None for c in concurrency]
        self.held: dict[str, list[int]] = {}

    async def reserve(self, target: int) -> bool:
        """Count one request against the budget and wait for the target's next slot;
        False when the budget is spent."""
        try:
            self.budget.reserve_request()
        except BudgetExhausted:
            return False
        th = self.throttles[target]
        if not th.open():
            await th.acquire()
        return True

    def tokens(self, target: int, n: int) -> None:
        self.budget.add_tokens(n)
        self.throttles[target].spend_tokens(n)

    def pause(self, target: int, seconds: float) -> None:
        self.throttles[target].pause(seconds)

    async def enter(self, target: int, holder: str) -> None:
        sem = self.sems[target]
        if sem is not None:
            await sem.acquire()
            self.held.setdefault(holder, []).append(target)

    def leave(self, target: int, holder: str) -> None:
        sem = self.sems[target]
        held = self.held.get(holder)
        if sem is not None and held and target in held:
            held.remove(target)
            sem.release()

    def release_holder(self, holder: str) -> int:
        """Free the permits of a worker that died; how many."""
        held = self.held.pop(holder, [])
        for t in held:
            sem = self.sems[t]
            if sem is not None:
                sem.release()
        return len(held)

    def spent(self) -> tuple[int, int, bool]:
        return self.budget.requests, self.budget.tokens, self.budget.exhausted


class RemoteLimits:
    """A worker's view of the limiter actor (``handle``) under the name ``holder``."""

    def __init__(self, handle: Any, holder: str, count_tokens: bool = True) -> None:
        self.handle = handle
        self.holder = holder
        # False when no tokens/min limit nor token budget is set: usage is then
        # not sent to the limiter (one actor call less per request).
        self.count_tokens = count_tokens
        self.budget = RemoteBudget()

    def throttle(self, target: int) -> RemoteThrottle:
        return RemoteThrottle(self, target)

    def cap(self, target: int) -> RemoteCap:
        return RemoteCap(self, target)


class RemoteBudget:
    """The budget is counted by the limiter (in ``reserve``); this only remembers
    that it said no."""

    def __init__(self) -> None:
        self.exhausted = False

    def reserve_request(self) -> None:
        if self.exhausted:
            raise BudgetExhausted

    def add_tokens(self, n: int) -> None:
        """Counted by :meth:`RemoteThrottle.spend_tokens`."""


class RemoteThrottle:
    """A target's pacing, asked of the limiter (the TargetThrottle interface)."""

    def __init__(self, limits: RemoteLimits, target: int) -> None:
        self._limits = limits
        self._target = target

    def open(self) -> bool:
        """Never: every request reserves its slot and budget at the limiter."""
        return False

    async def acquire(self) -> None:
        ok = await self._limits.handle.reserve.remote(self._target)
        if not ok:
            self._limits.budget.exhausted = True
            raise BudgetExhausted

    def pause(self, seconds: float) -> None:
        self._limits.handle.pause.remote(self._target, seconds)

    def spend_tokens(self, n: int) -> None:
        if self._limits.count_tokens:
            self._limits.handle.tokens.remote(self._target, n)


class RemoteCap:
    """A target's concurrency permit held at the limiter (an async context manager)."""

    def __init__(self, limits: RemoteLimits, target: int) -> None:
        self._limits = limits
        self._target = target

    async def __aenter__(self) -> None:
        await self._limits.handle.enter.remote(self._target, self._limits.holder)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._limits.handle.leave.remote(self._target, self._limits.holder)
