"""The chat-model layer: one abstraction, one HTTP client, one retry policy.

Below the judges and the harness: a harness target is a :class:`ChatModel`
with campaign info, and endpoint judges ask a ``ChatModel`` - an
:class:`OpenAIChatModel` from their endpoint settings, or any registered
``chat-model`` plug-in (:data:`CHAT_MODELS`; the harness registers ``target``,
so any target type can serve as a judge's model). Failures are
:class:`~jbgrade.TargetError`; :func:`complete_with_retries` and the runner
apply the same :func:`backoff_delay`, never shorter than Retry-After.
"""

from jbgrade.chat._model import AttemptHints, ChatModel, ChatReply, ChatRequest
from jbgrade.chat._openai import UNREACHABLE, OpenAIChatModel, reply_from_json
from jbgrade.chat._registry import CHAT_MODELS, ChatModelFactory, build_chat_model
from jbgrade.chat._retry import (
    RETRYABLE_STATUS,
    RetriesExhausted,
    RetryPolicy,
    backoff_delay,
    complete_with_retries,
    parse_retry_after,
)

__all__ = [
    "CHAT_MODELS",
    "RETRYABLE_STATUS",
    "UNREACHABLE",
    "AttemptHints",
    "ChatModel",
    "ChatModelFactory",
    "ChatReply",
    "ChatRequest",
    "OpenAIChatModel",
    "RetriesExhausted",
    "RetryPolicy",
    "backoff_delay",
    "build_chat_model",
    "complete_with_retries",
    "parse_retry_after",
    "reply_from_json",
]
