"""Chat models as plug-ins: ``factory(options) -> ChatModel`` on the plug-in kernel.

Built in: ``openai`` (an OpenAI-compatible endpoint). The harness registers
``target`` when it is imported (any target type, from a target spec), and third
parties add kinds through the ``jbgrade.chat_models`` entry-point group.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import Field

from jbgrade._base import FrozenRecord, JsonObject
from jbgrade._errors import InputError
from jbgrade._plugins import PluginRegistry
from jbgrade.chat._model import ChatModel
from jbgrade.chat._openai import OpenAIChatModel

__all__ = ["CHAT_MODELS", "ChatModelFactory", "OpenAIOptions", "build_chat_model"]

#: A chat-model plug-in: ``factory(options) -> ChatModel``.
ChatModelFactory = Callable[[Any], ChatModel]

#: Chat models by type (the plug-in kernel's registry).
CHAT_MODELS: PluginRegistry[ChatModelFactory] = PluginRegistry("chat-model", "jbgrade.chat_models")


class OpenAIOptions(FrozenRecord):
    """An OpenAI-compatible endpoint as a chat model."""

    base_url: str = Field(pattern=r"^https?://", description="Base URL, e.g. http://h/v1.")
    model: str = Field(min_length=1, description="Model name at the endpoint.")
    api_key_env: str | None = Field(default=None, description="Environment variable of the key.")
    params: JsonObject = Field(default_factory=dict, description="Generation parameters.")


@CHAT_MODELS.register("openai", options=OpenAIOptions)
def _openai(opts: OpenAIOptions) -> ChatModel:
    headers: dict[str, str] = {}
    if opts.api_key_env:
        key = os.environ.get(opts.api_key_env)
        if key:
            headers["authorization"] = f"Bearer {key}"
    return OpenAIChatModel(
        base_url=opts.base_url, model=opts.model, headers=headers, params=opts.params
    )


def build_chat_model(spec: Mapping[str, Any]) -> ChatModel:
    """A chat model from ``{"type": NAME, **options}`` (the options the type's model takes)."""
    kind = spec.get("type")
    if not isinstance(kind, str) or not kind:
        raise InputError("a chat model spec needs a 'type'", field="type")
    model: ChatModel = CHAT_MODELS.create(kind, {k: v for k, v in spec.items() if k != "type"})
    return model
