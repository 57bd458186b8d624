"""Rate limits, budgets and backoff for the runner (single event loop, no locks needed).

The backoff is the chat layer's one retry policy (:func:`jbgrade.chat.backoff_delay`).
"""

from __future__ import annotations

import asyncio
import time

from jbgrade.chat import backoff_delay

__all__ = ["BudgetExhausted", "BudgetMeter", "TargetThrottle", "backoff_delay"]


class BudgetExhausted(Exception):
    """Internal: the request or token budget is spent; the campaign stops cleanly."""


class BudgetMeter:
    """Counts target requests and tokens against optional caps."""

    def __init__(self, max_requests: int | None, max_tokens: int | None) -> None:
        self.max_requests = max_requests
        self.max_tokens = max_tokens
        self.requests = 0
        self.tokens = 0
        self.exhausted = False

    def reserve_request(self) -> None:
        """Count one request about to be sent, or raise if the budget is spent."""
        if self.exhausted:
            raise BudgetExhausted
        if (self.max_requests is not None and self.requests >= self.max_requests) or (
            self.max_tokens is not None and self.tokens >= self.max_tokens
        ):
            self.exhausted = True
            raise BudgetExhausted
        self.requests += 1

    def add_tokens(self, n: int) -> None:
        self.tokens += n


class TargetThrottle:
    """Per-target pacing: requests/s spacing, a tokens/min bucket, Retry-After pauses."""

    def __init__(self, requests_per_s: float | None, tokens_per_min: float | None) -> None:
        self._interval = 1.0 / requests_per_s if requests_per_s else 0.0
        self._next = 0.0
        self._tpm = tokens_per_min
        self._level = float(tokens_per_min or 0.0)
        self._stamp = time.monotonic()
        self.pause_until = 0.0

    def open(self) -> bool:
        """True when a request may go now without pacing (no limits set, no pause):
        the runner then skips ``acquire``."""
        return not (self._interval or self._tpm) and (
            not self.pause_until or self.pause_until <= time.monotonic()
        )

    def pause(self, seconds: float) -> None:
        """The server asked everyone to wait (429/503 with Retry-After)."""
        self.pause_until = max(self.pause_until, time.monotonic() + seconds)

    async def acquire(self) -> None:
        while True:
            now = time.monotonic()
            wait = self.pause_until - now
            if self._tpm:
                self._level = min(self._tpm, self._level + (now - self._stamp) * self._tpm / 60.0)
                self._stamp = now
                if self._level <= 0:
                    wait = max(wait, -self._level * 60.0 / self._tpm + 0.001)
            if wait > 0:
                await asyncio.sleep(wait)
                continue
            if not self._interval:
                return
            now = time.monotonic()
            slot = max(now, self._next)
            self._next = slot + self._interval
            if slot <= now:
                return
            await asyncio.sleep(slot - now)
            # A pause that came while this request waited for its slot holds it too
            # (its slot is given up; slots stay in order, so spacing still holds).
            if self.pause_until <= time.monotonic():
                return

    def spend_tokens(self, n: int) -> None:
        if self._tpm:
            self._level -= n
