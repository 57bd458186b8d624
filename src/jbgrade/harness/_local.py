"""A local model through Hugging Face transformers (extra ``local``).

torch and transformers are imported only when such a target is built, so the
core install never needs them. Nothing is downloaded: ``model_dir`` must be a
local directory (``local_files_only``), or ``random_config`` builds a randomly
initialised model from a config (for tests). Without a tokenizer directory a
byte-level tokenizer is used, enough to exercise the adapter.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field, JsonValue, model_validator

from jbgrade._base import FrozenRecord
from jbgrade._errors import InputError, TargetError
from jbgrade.harness._targets import (
    TargetCapabilities,
    TargetInfo,
    TargetOptions,
    TargetReply,
    TargetRequest,
    TargetSpec,
    register_target,
    target_settings,
)
from jbgrade.records import ChatMessage

__all__ = ["TransformersSettings", "TransformersTarget"]


class _ByteTokenizer:
    """UTF-8 bytes as token ids (ids >= 256 decode to nothing)."""

    def encode(self, text: str) -> list[int]:
        return list(text.encode("utf-8"))

    def decode(self, ids: Sequence[int]) -> str:
        return bytes(i for i in ids if 0 <= i < 256).decode("utf-8", "replace")


class TransformersSettings(FrozenRecord):
    """``options`` of a ``transformers`` target: a local model, or a random one (tests)."""

    model_dir: str | None = Field(
        default=None, description="Directory of a saved model (relative to the spec)."
    )
    random_config: dict[str, JsonValue] | None = Field(
        default=None,
        description="A randomly initialised model of this config (model_type and sizes).",
    )
    init_seed: int = Field(default=0, description="Seed of the random initialisation.")

    @model_validator(mode="after")
    def _one_source(self) -> TransformersSettings:
        if (self.model_dir is None) == (self.random_config is None):
            raise ValueError("give exactly one of model_dir and random_config")
        return self


class TransformersTarget:
    """Runs generation in a worker thread, one request at a time."""

    #: Replies are well typed (str text, declared layers, int usage), so the
    #: runner stores their attempts without re-validating them.
    capabilities: ClassVar[TargetCapabilities] = TargetCapabilities(typed_replies=True)
    #: The model of ``target.options`` (design 0181).
    Settings: ClassVar[type[TransformersSettings]] = TransformersSettings

    def __init__(self, spec: TargetSpec, base_dir: Path) -> None:
        settings = target_settings(spec, TransformersSettings)
        try:
            import torch
            import transformers
        except ImportError:
            raise InputError(
                "the transformers target needs the 'local' extra: pip install 'jbgrade[local]'",
                field=f"targets.{spec.id}.type",
            ) from None
        self._torch = torch
        self._tokenizer: Any
        if settings.random_config is not None:
            cfg_raw = dict(settings.random_config)
            model_type = str(cfg_raw.pop("model_type", "gpt2"))
            config = transformers.AutoConfig.for_model(model_type, **cfg_raw)
            torch.manual_seed(settings.init_seed)
            self._model = transformers.AutoModelForCausalLM.from_config(config)
            self._tokenizer = _ByteTokenizer()
            name = spec.model or f"random-{model_type}"
        else:
            mdir = Path(str(settings.model_dir))
            if not mdir.is_absolute():
                mdir = base_dir / mdir
            if not mdir.is_dir():
                raise InputError(f"model_dir {mdir} is not a directory", field=f"targets.{spec.id}")
            self._model = transformers.AutoModelForCausalLM.from_pretrained(
                mdir, local_files_only=True
            )
            try:
                self._tokenizer = transformers.AutoTokenizer.from_pretrained(
                    mdir, local_files_only=True
                )
            except (OSError, ValueError):
                self._tokenizer = _ByteTokenizer()
            name = spec.model or mdir.name
        self._model.eval()
        self._params: dict[str, Any] = dict(spec.params)
        self._lock = asyncio.Lock()
        self._info = TargetInfo(
            id=spec.id,
            type=spec.type,
            model=name,
            vendor=spec.vendor or "local",
            layers=list(spec.layers),
            params=dict(spec.params),
        )

    @property
    def info(self) -> TargetInfo:
        return self._info

    def _prompt_ids(self, messages: Sequence[ChatMessage]) -> list[int]:
        tok = self._tokenizer
        chat = [{"role": m.role, "content": m.content} for m in messages]
        if getattr(tok, "chat_template", None):
            ids: list[int] = tok.apply_chat_template(chat, add_generation_prompt=True)
            return ids
        text = "".join(f"{m['role']}: {m['content']}\n" for m in chat) + "assistant:"
        encoded: list[int] = tok.encode(text)
        return encoded

    def _generate(self, messages: Sequence[ChatMessage], seed: int) -> TargetReply:
        torch = self._torch
        ids = self._prompt_ids(messages)
        cfg = self._model.config
        max_pos = int(
            getattr(cfg, "n_positions", None)
            or getattr(cfg, "max_position_embeddings", None)
            or 1024
        )
        max_new = int(self._params.get("max_tokens", self._params.get("max_new_tokens", 32)))
        ids = ids[-max(1, max_pos - max_new) :]
        temperature = float(self._params.get("temperature", 0.0))
        torch.manual_seed(seed)
        with torch.no_grad():
            out = self._model.generate(
                torch.tensor([ids]),
                attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                max_new_tokens=max_new,
                do_sample=temperature > 0,
                temperature=temperature if temperature > 0 else None,
                top_p=self._params.get("top_p"),
                pad_token_id=0,
            )
        new = out[0][len(ids) :].tolist()
        text = self._tokenizer.decode(new)
        return TargetReply(
            text=text,
            usage={
                "prompt_tokens": len(ids),
                "completion_tokens": len(new),
                "total_tokens": len(ids) + len(new),
            },
            finish_reason="length" if len(new) >= max_new else "stop",
        )

    async def complete(
        self, messages: Sequence[ChatMessage], request: TargetRequest
    ) -> TargetReply:
        async with self._lock:
            try:
                return await asyncio.to_thread(self._generate, messages, request.seed)
            except (RuntimeError, ValueError) as exc:
                raise TargetError(f"local generation failed: {exc}") from None

    async def aclose(self) -> None:
        return None


@register_target("transformers")
def _transformers_factory(opts: TargetOptions) -> TransformersTarget:
    return TransformersTarget(opts.target, opts.base_path)
