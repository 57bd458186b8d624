"""Targets: what a campaign sends prompts to. A Protocol, a registry and the shared types."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel, Field, ValidationError

from jbgrade._base import FrozenRecord, JsonObject, validation_error
from jbgrade._errors import TargetError
from jbgrade._plugins import positional_arity
from jbgrade._vocab import Layer
from jbgrade.chat import CHAT_MODELS, AttemptHints, ChatModel, ChatReply, ChatRequest
from jbgrade.harness._registry import Registry

__all__ = [
    "TARGETS",
    "AttemptHints",
    "Layer",
    "NoSettings",
    "Target",
    "TargetCapabilities",
    "TargetError",
    "TargetFactory",
    "TargetInfo",
    "TargetModelOptions",
    "TargetOptions",
    "TargetReply",
    "TargetRequest",
    "TargetSpec",
    "build_target",
    "register_target",
    "target_chat_model",
    "target_settings",
]


class TargetSpec(FrozenRecord):
    """One target as declared in a campaign spec."""

    id: str = Field(
        pattern=r"^[A-Za-z0-9_.:-]+$", description="Target id, unique within the campaign."
    )
    type: str = Field(
        default="openai",
        description="Registered target type: openai, reference, transformers or a plug-in.",
    )
    model: str | None = Field(default=None, description="Model name sent to the endpoint.")
    vendor: str | None = Field(
        default=None, description="Vendor or model family, used for transfer (TR)."
    )
    base_url: str | None = Field(
        default=None, description="OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1."
    )
    api_key_env: str | None = Field(
        default=None, description="Name of the environment variable holding the API key."
    )
    params: JsonObject = Field(
        default_factory=dict,
        description="Generation parameters sent with each request (temperature, max_tokens...).",
    )
    system_prompt: str | None = Field(
        default=None, description="System message prepended to every conversation."
    )
    layers: list[Layer] = Field(
        default_factory=list,
        description="Protection layers the deployment declares (for LY). The reference "
        "target declares its own.",
    )
    hints: bool = Field(
        default=False,
        description="Send a 'jbgrade' object (behaviour domain, attack tags, sample) with "
        "each request. Only for endpoints that accept it, such as the reference target.",
    )
    send_seed: bool = Field(
        default=True,
        description="Send a per-attempt 'seed' derived from the campaign seed and sample.",
    )
    headers: dict[str, str] = Field(default_factory=dict, description="Extra HTTP headers.")
    concurrency: int | None = Field(
        default=None, ge=1, description="Cap on requests in flight to this target."
    )
    requests_per_s: float | None = Field(
        default=None, gt=0, description="Overrides the campaign's requests/s for this target."
    )
    tokens_per_min: float | None = Field(
        default=None, gt=0, description="Overrides the campaign's tokens/min for this target."
    )
    reference: JsonObject | None = Field(
        default=None, description="Reference target: inline simulation config."
    )
    config_file: str | None = Field(
        default=None,
        description="Reference target: path to a simulation config (YAML), relative to the spec.",
    )
    options: JsonObject = Field(
        default_factory=dict, description="Type-specific options (e.g. transformers: model_dir)."
    )


class TargetInfo(FrozenRecord):
    """What a target says about itself; stored in the campaign manifest."""

    id: str = Field(description="Target id from the campaign spec.")
    type: str = Field(description="Registered target type.")
    model: str = Field(description="Model name at the target.")
    vendor: str = Field(description="Vendor or family (for transfer).")
    layers: list[str] = Field(default_factory=list, description="Declared protection layers.")
    endpoint: str | None = Field(default=None, description="Base URL, for HTTP targets.")
    params: JsonObject = Field(default_factory=dict, description="Generation parameters.")


#: Per-call settings of a target call: the chat layer's request (seed, timeout, hints).
TargetRequest = ChatRequest
#: One answer of a target: the chat layer's reply.
TargetReply = ChatReply


@dataclass(frozen=True, slots=True)
class TargetCapabilities:
    """Fast paths a target declares (``capabilities`` class attribute); all off by default.

    Read with :func:`jbgrade._plugins.capabilities_of`: a third party's target that
    declares them gets the same fast paths as the built-ins.
    """

    #: The target applies ``TargetRequest.timeout_s`` itself (the runner then sets no timer).
    enforces_timeout: bool = False
    #: Replies are well typed (str text, declared layers, int usage): with an attack
    #: whose messages are typed too, the runner stores attempts without re-validating.
    typed_replies: bool = False


@runtime_checkable
class Target(ChatModel, Protocol):
    """A model deployment the harness can query: a :class:`~jbgrade.chat.ChatModel`
    (``complete``, ``aclose``; failures raise :class:`TargetError`) with its info.

    Optional: ``capabilities: ClassVar[TargetCapabilities]`` declares fast paths.
    """

    @property
    def info(self) -> TargetInfo: ...


class TargetOptions(FrozenRecord):
    """The options of every target factory: the target's spec and where it was read.

    Type-specific settings travel in ``target.options`` (validated by the target
    type) and ``target.reference``/``config_file`` (the reference target).
    """

    target: TargetSpec = Field(description="The target spec, as in a campaign spec.")
    base_dir: str | None = Field(
        default=None, description="Directory that relative config paths are resolved from."
    )

    @property
    def base_path(self) -> Path:
        """``base_dir`` as a path (the working directory when unset)."""
        return Path(self.base_dir) if self.base_dir else Path.cwd()


class NoSettings(FrozenRecord):
    """The settings model of a target type that takes none in ``target.options``."""


_S = TypeVar("_S", bound=BaseModel)


def target_settings(spec: TargetSpec, model: type[_S]) -> _S:
    """``spec.options`` validated by the target type's settings model (design 0181);
    a bad or unknown setting is an input error naming ``targets.ID.options.KEY``."""
    try:
        return model.model_validate(spec.options)
    except ValidationError as exc:
        raise validation_error(exc, prefix=f"targets.{spec.id}.options") from None


#: A harness target as a chat model (``chat-model`` type ``target``): the same options.
TargetModelOptions = TargetOptions

#: A target factory: ``factory(options: TargetOptions) -> Target`` (design 0181).
TargetFactory = Callable[[TargetOptions], Target]


def _legacy_target(factory: Callable[[TargetSpec, Path], Target], opts: TargetOptions) -> Target:
    return factory(opts.target, opts.base_path)


#: Target types by name; third parties add theirs via the ``jbgrade.targets`` group
#: (an entry point naming a ``TargetFactory``, or a class with ``Options`` and
#: ``from_options``). A factory of the 0.1 convention ``(spec, base_dir)`` still works,
#: with a DeprecationWarning.
TARGETS: Registry[TargetFactory] = Registry(
    "target",
    "jbgrade.targets",
    options=TargetOptions,
    legacy=_legacy_target,
    legacy_if=lambda f: positional_arity(f) >= 2,
)


def register_target(
    name: str, *, options: type[TargetOptions] | None = None
) -> Callable[[TargetFactory], TargetFactory]:
    """Decorator registering a target factory ``(options: TargetOptions) -> Target``
    (``options`` may be a subclass of :class:`TargetOptions`)."""
    return TARGETS.register(name, options=options)


def build_target(spec: TargetSpec, base_dir: Path | None = None) -> Target:
    """Build the target a spec declares; ``base_dir`` resolves relative config paths."""
    opts = TargetOptions(target=spec, base_dir=str(base_dir) if base_dir is not None else None)
    target: Target = TARGETS.create(spec.type, opts)
    return target


@CHAT_MODELS.register("target", options=TargetOptions)
def target_chat_model(opts: TargetOptions) -> Target:
    """Any target type as a chat model (e.g. a judge's model)."""
    return build_target(opts.target, Path(opts.base_dir) if opts.base_dir else None)
