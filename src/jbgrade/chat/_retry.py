"""The one retry policy: equal-jitter exponential backoff, never shorter than Retry-After.

The harness runner applies it per attempt (with its budget and throttles) and
:func:`complete_with_retries` applies it to a single model call (judges).
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass

from jbgrade._errors import TargetError
from jbgrade.chat._model import ChatModel, ChatReply, ChatRequest
from jbgrade.records import ChatMessage

__all__ = [
    "RETRYABLE_STATUS",
    "RetriesExhausted",
    "RetryPolicy",
    "backoff_delay",
    "complete_with_retries",
    "parse_retry_after",
]

#: HTTP statuses worth retrying besides 5xx.
RETRYABLE_STATUS = frozenset({408, 409, 425, 429})


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        dt = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, dt.timestamp() - (time.time() if now is None else now))


def backoff_delay(
    retry: int, base: float, cap: float, retry_after: float | None, rng: random.Random
) -> float:
    """Equal-jitter exponential backoff (half fixed, half random), at least Retry-After."""
    span = min(cap, base * (2**retry))
    delay = span / 2 + rng.uniform(0, span / 2)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return float(min(delay, cap) if cap > 0 else delay)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long to retry a retryable failure."""

    retries: int = 3
    backoff_s: float = 0.5
    max_backoff_s: float = 60.0


class RetriesExhausted(TargetError):
    """Every try of a retryable failure failed; ``tries`` says how many, ``last`` the last."""

    def __init__(self, last: TargetError, tries: int) -> None:
        super().__init__(
            f"{last} (after {tries} tries)",
            retryable=last.retryable,
            retry_after=last.retry_after,
            status=last.status,
        )
        self.last = last
        self.tries = tries


async def complete_with_retries(
    model: ChatModel,
    messages: Sequence[ChatMessage],
    request: ChatRequest,
    policy: RetryPolicy,
    rng: random.Random | None = None,
) -> ChatReply:
    """``model.complete`` under ``policy``: a non-retryable failure raises at once,
    a retryable one is retried after :func:`backoff_delay` (at least Retry-After);
    when every try failed, :class:`RetriesExhausted` (a ``TargetError``) is raised."""
    rng = rng or random.Random()
    tries = 0
    while True:
        try:
            return await model.complete(messages, request)
        except TargetError as exc:
            if not exc.retryable:
                raise
            if tries >= policy.retries:
                raise RetriesExhausted(exc, tries + 1) from None
            await asyncio.sleep(
                backoff_delay(tries, policy.backoff_s, policy.max_backoff_s, exc.retry_after, rng)
            )
            tries += 1
