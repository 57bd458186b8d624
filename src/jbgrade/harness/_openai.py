"""OpenAI-compatible chat-completions target: the chat layer's client with a target's info.

The HTTP client, its body encoding and its reading of replies (including the
``jbgrade`` layer extension) are :class:`jbgrade.chat.OpenAIChatModel`'s; the
target adds what a campaign needs: the spec, the API key from the environment,
its :class:`TargetInfo` and its declared capabilities.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import ClassVar

from jbgrade._errors import InputError
from jbgrade.chat import OpenAIChatModel, parse_retry_after, reply_from_json
from jbgrade.harness._targets import (
    NoSettings,
    TargetCapabilities,
    TargetInfo,
    TargetOptions,
    TargetSpec,
    register_target,
    target_settings,
)

__all__ = ["OpenAITarget", "parse_retry_after", "reply_from_json"]


class OpenAITarget(OpenAIChatModel):
    """POST /chat/completions on an OpenAI-compatible endpoint."""

    #: aiohttp applies ``TargetRequest.timeout_s`` to the whole request; replies are
    #: well typed (str text, declared layers, int usage).
    capabilities: ClassVar[TargetCapabilities] = TargetCapabilities(
        enforces_timeout=True, typed_replies=True
    )

    def __init__(self, spec: TargetSpec, base_dir: Path | None = None) -> None:
        if not spec.base_url:
            raise InputError("an openai target needs base_url", field=f"targets.{spec.id}")
        if not spec.model:
            raise InputError("an openai target needs model", field=f"targets.{spec.id}")
        headers = dict(spec.headers)
        if spec.api_key_env:
            key = os.environ.get(spec.api_key_env)
            if key is None:
                raise InputError(
                    f"environment variable {spec.api_key_env} is not set",
                    field=f"targets.{spec.id}.api_key_env",
                )
            headers["authorization"] = f"Bearer {key}"
        super().__init__(
            base_url=spec.base_url,
            model=spec.model,
            headers=headers,
            params=spec.params,
            system_prompt=spec.system_prompt,
            send_seed=spec.send_seed,
            hints=spec.hints,
            layers=spec.layers,
        )
        self._spec = spec
        self._info = TargetInfo(
            id=spec.id,
            type=spec.type,
            model=spec.model,
            vendor=spec.vendor or "unknown",
            layers=list(spec.layers),
            endpoint=spec.base_url,
            params=dict(spec.params),
        )

    @property
    def info(self) -> TargetInfo:
        return self._info


@register_target("openai")
def _openai_factory(opts: TargetOptions) -> OpenAITarget:
    target_settings(opts.target, NoSettings)  # this type takes no options
    return OpenAITarget(opts.target, opts.base_path)
