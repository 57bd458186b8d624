"""The chat layer's one retry policy, on a model that fails as told."""

from __future__ import annotations

import random
from collections.abc import Sequence

import pytest

from jbgrade import TargetError
from jbgrade.chat import (
    ChatModel,
    ChatReply,
    ChatRequest,
    RetriesExhausted,
    RetryPolicy,
    backoff_delay,
    complete_with_retries,
    parse_retry_after,
)
from jbgrade.records import ChatMessage


class Flaky:
    """Raises the given errors in turn, then answers."""

    def __init__(self, errors: list[TargetError]) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def complete(self, messages: Sequence[ChatMessage], request: ChatRequest) -> ChatReply:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return ChatReply(text="ok")

    async def aclose(self) -> None:
        return None


REQ = ChatRequest(seed=0, timeout_s=1.0)
FAST = RetryPolicy(retries=2, backoff_s=0.001, max_backoff_s=0.01)


async def test_retryable_failures_are_retried_then_answered() -> None:
    m = Flaky([TargetError("HTTP 503", retryable=True, status=503)] * 2)
    assert isinstance(m, ChatModel)
    assert (await complete_with_retries(m, [], REQ, FAST)).text == "ok"
    assert m.calls == 3


async def test_a_non_retryable_failure_raises_at_once() -> None:
    m = Flaky([TargetError("HTTP 404", status=404)])
    with pytest.raises(TargetError, match="404"):
        await complete_with_retries(m, [], REQ, FAST)
    assert m.calls == 1


async def test_exhausted_retries_say_how_many_tries() -> None:
    m = Flaky([TargetError("HTTP 500", retryable=True, status=500)] * 3)
    with pytest.raises(RetriesExhausted) as info:
        await complete_with_retries(m, [], REQ, FAST)
    assert info.value.tries == 3 and "after 3 tries" in str(info.value)


def test_backoff_never_undercuts_retry_after_within_the_cap() -> None:
    rng = random.Random(1)
    for retry in range(6):
        d = backoff_delay(retry, 0.25, 60.0, 7.0, rng)
        assert 7.0 <= d <= 60.0
    assert backoff_delay(0, 0.25, 5.0, 30.0, rng) == 5.0
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert parse_retry_after("soon") is None
