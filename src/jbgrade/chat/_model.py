"""The chat-model abstraction every caller of a model shares: targets and judges.

A :class:`ChatModel` answers chat messages; a harness target is a chat model
with a :class:`~jbgrade.harness.TargetInfo`, and an endpoint judge asks one. So
any target type (the reference target in process, the transformers target, an
OpenAI-compatible endpoint, a third party's) can serve as a judge's model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from jbgrade.records import ChatMessage

__all__ = ["AttemptHints", "ChatModel", "ChatReply", "ChatRequest"]


@dataclass(frozen=True, slots=True)
class AttemptHints:
    """What the harness knows about an attempt; sent to targets that accept hints."""

    behaviour_id: str
    domain: str
    category: str
    attack: str
    tags: tuple[str, ...]
    arm: str
    sample: int

    def to_json(self) -> dict[str, Any]:
        return {
            "behaviour_id": self.behaviour_id,
            "domain": self.domain,
            "category": self.category,
            "attack": self.attack,
            "tags": list(self.tags),
            "arm": self.arm,
            "sample": self.sample,
        }


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """Per-call settings: the derived seed, the timeout and optional hints."""

    seed: int
    timeout_s: float
    hints: AttemptHints | None = None


@dataclass(frozen=True, slots=True)
class ChatReply:
    """One answer. ``status`` is 'blocked' when a declared layer withheld the answer."""

    text: str
    status: Literal["ok", "blocked"] = "ok"
    stopped_by: str | None = None
    layers_passed: tuple[str, ...] = ()
    detected: bool | None = None
    usage: dict[str, int] = field(default_factory=dict)
    finish_reason: str | None = None


@runtime_checkable
class ChatModel(Protocol):
    """Answers chat messages. Failures raise :class:`~jbgrade.TargetError`
    (``retryable``, ``retry_after`` and ``status`` say what the retry policy may do)."""

    async def complete(self, messages: Sequence[ChatMessage], request: ChatRequest) -> ChatReply:
        """Send one chat and return the answer."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...
