"""Attacks: the jailbreak under test. A Protocol, a registry and the YAML forms.

Common cases are declared in YAML (``kind: template`` with optional
transforms, or ``kind: multi_turn`` with scripted turns); anything adaptive is
a Python plug-in registered with :func:`register_attack` or through the
``jbgrade.attacks`` entry-point group. The bundled attacks are benign
mechanics (a role-play wrapper, encodings, a prefix request, a two-turn
framing), never harmful text.
"""

from __future__ import annotations

import base64
import codecs
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from jbgrade._base import FrozenRecord, validation_error
from jbgrade._errors import InputError
from jbgrade._yaml import LocatedDoc, Path_, load_located, read_located
from jbgrade.harness._located import located_error, value_at
from jbgrade.harness._registry import Registry
from jbgrade.harness._targets import TargetReply
from jbgrade.records import Behaviour, ChatMessage

__all__ = [
    "ATTACKS",
    "TRANSFORMS",
    "Attack",
    "AttackCapabilities",
    "AttackFactory",
    "AttackRun",
    "AttackSpec",
    "BaselineAttack",
    "ChatFn",
    "MultiTurnAttack",
    "TemplateAttack",
    "attack_atlas",
    "attack_from_doc",
    "attack_from_spec",
    "bundled_attacks",
    "load_attack",
    "register_attack",
]

#: Sends one conversation to the target and returns its reply.
ChatFn = Callable[[list[ChatMessage]], Awaitable[TargetReply]]


@dataclass(frozen=True, slots=True)
class AttackRun:
    """What an attack sent last and what came back."""

    messages: list[ChatMessage]
    reply: TargetReply
    turns: int = 1


@dataclass(frozen=True, slots=True)
class AttackCapabilities:
    """Fast paths an attack declares (``capabilities`` class attribute); all off by default."""

    #: ``run`` returns :class:`ChatMessage` records and the target's own reply, so
    #: (with a target whose replies are typed) attempts need no re-validation.
    typed_messages: bool = False


@runtime_checkable
class Attack(Protocol):
    """A jailbreak: turns a behaviour into one or more turns sent to a target.

    Optional: ``capabilities: ClassVar[AttackCapabilities]`` declares fast paths.
    """

    @property
    def id(self) -> str: ...

    @property
    def tags(self) -> tuple[str, ...]:
        """Technique tags (e.g. 'roleplay', 'base64'); the reference target keys its
        weaknesses on them."""
        ...

    @property
    def kind(self) -> str:
        """'baseline', 'template', 'transform', 'multi_turn' or a plug-in's own kind."""
        ...

    def spec(self) -> dict[str, Any]:
        """Parameters from which the attack can be rebuilt (stored in the manifest)."""
        ...

    async def run(self, behaviour: Behaviour, chat: ChatFn) -> AttackRun: ...


# ---------------------------------------------------------------- transforms

_LEET = str.maketrans({"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7"})


def _rot13(text: str) -> str:
    return codecs.encode(text, "rot13")


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


#: Text transforms applied to the behaviour before templating (all benign mechanics).
TRANSFORMS: dict[str, Callable[[str], str]] = {
    "base64": _b64,
    "rot13": _rot13,
    "leetspeak": lambda t: t.lower().translate(_LEET),
    "reverse": lambda t: t[::-1],
    "spaced": " ".join,
    "upper": str.upper,
}


def _fill(template: str, behaviour: Behaviour, text: str) -> str:
    return (
        template.replace("{behaviour}", text)
        .replace("{category}", behaviour.category)
        .replace("{domain}", behaviour.domain)
    )


_ATLAS_ID = re.compile(r"^AML\.T\d{4}(\.\d{3})?$")


def attack_atlas(attack: object) -> tuple[str, ...]:
    """The ATLAS technique ids an attack declares: a YAML attack's ``atlas:`` list, or a
    plug-in's optional ``atlas`` attribute (the Attack protocol does not require it)."""
    ids = getattr(attack, "atlas", None) or ()
    return tuple(str(i) for i in ids)


class AttackSpec(FrozenRecord):
    """An attack declared in YAML."""

    id: str = Field(pattern=r"^[A-Za-z0-9_.:-]+$", description="Attack id.")
    kind: Literal["template", "multi_turn"] = Field(
        default="template", description="template: one turn; multi_turn: scripted turns."
    )
    description: str = Field(default="", description="What the mechanic is.")
    tags: list[str] = Field(default_factory=list, description="Technique tags.")
    atlas: list[str] = Field(
        default_factory=list,
        description="MITRE ATLAS technique ids the attack implements (e.g. AML.T0054); "
        "shown in reports and carried by exports (descriptive: not part of the spec hash).",
    )
    system: str | None = Field(default=None, description="Optional system message.")
    template: str = Field(
        default="{behaviour}",
        description="User message; {behaviour}, {category} and {domain} are replaced.",
    )
    transforms: list[str] = Field(
        default_factory=list, description="Applied in order to the behaviour text first."
    )
    turns: list[str] = Field(
        default_factory=list,
        description="multi_turn: user messages in order, each a template like 'template'.",
    )
    stop_on_block: bool = Field(
        default=True, description="multi_turn: stop when a layer blocks a turn."
    )

    @field_validator("id")
    @classmethod
    def _not_baseline(cls, v: str) -> str:
        if v == "baseline":
            raise ValueError("'baseline' is reserved for the baseline arm")
        return v

    @field_validator("transforms")
    @classmethod
    def _known_transforms(cls, v: list[str]) -> list[str]:
        for t in v:
            if t not in TRANSFORMS:
                raise ValueError(f"unknown transform {t!r}; known: {', '.join(sorted(TRANSFORMS))}")
        return v

    @model_validator(mode="after")
    def _atlas_ids(self) -> AttackSpec:
        bad = [t for t in self.atlas if not _ATLAS_ID.match(t)]
        if bad:
            raise ValueError(f"not a MITRE ATLAS technique id: {bad[0]!r} (e.g. AML.T0054)")
        return self

    @model_validator(mode="after")
    def _turns(self) -> AttackSpec:
        if self.kind == "multi_turn" and not self.turns:
            raise ValueError("a multi_turn attack needs turns")
        return self


class TemplateAttack:
    """Single-turn: optional transforms on the behaviour text, then a template."""

    capabilities: ClassVar[AttackCapabilities] = AttackCapabilities(typed_messages=True)

    def __init__(self, spec: AttackSpec) -> None:
        for t in spec.transforms:
            if t not in TRANSFORMS:
                raise InputError(
                    f"unknown transform {t!r}; known: {', '.join(sorted(TRANSFORMS))}",
                    field=f"attacks.{spec.id}.transforms",
                )
        self._spec = spec
        self._tags = tuple(spec.tags)

    @property
    def id(self) -> str:
        return self._spec.id

    @property
    def tags(self) -> tuple[str, ...]:
        return self._tags

    @property
    def kind(self) -> str:
        return "transform" if self._spec.transforms else "template"

    @property
    def atlas(self) -> tuple[str, ...]:
        """MITRE ATLAS technique ids the attack declares (descriptive: not in ``spec()``,
        so declaring them never changes a campaign's spec hash)."""
        return tuple(self._spec.atlas)

    def spec(self) -> dict[str, Any]:
        return self._spec.model_dump(exclude_defaults=False, exclude={"atlas"})

    def transformed(self, behaviour: Behaviour) -> str:
        text = behaviour.text
        for t in self._spec.transforms:
            text = TRANSFORMS[t](text)
        return text

    def messages(self, behaviour: Behaviour) -> list[ChatMessage]:
        text = self.transformed(behaviour)
        msgs = []
        if self._spec.system:
            msgs.append(
                ChatMessage(role="system", content=_fill(self._spec.system, behaviour, text))
            )
        msgs.append(ChatMessage(role="user", content=_fill(self._spec.template, behaviour, text)))
        return msgs

    async def run(self, behaviour: Behaviour, chat: ChatFn) -> AttackRun:
        msgs = self.messages(behaviour)
        return AttackRun(msgs, await chat(msgs))


class MultiTurnAttack(TemplateAttack):
    """Scripted turns; each reply is appended before the next turn."""

    def __init__(self, spec: AttackSpec) -> None:
        if not spec.turns:
            raise InputError("a multi_turn attack needs turns", field=f"attacks.{spec.id}.turns")
        super().__init__(spec)

    @property
    def kind(self) -> str:
        return "multi_turn"

    async def run(self, behaviour: Behaviour, chat: ChatFn) -> AttackRun:
        text = self.transformed(behaviour)
        msgs: list[ChatMessage] = []
        if self._spec.system:
            msgs.append(
                ChatMessage(role="system", content=_fill(self._spec.system, behaviour, text))
            )
        reply: TargetReply | None = None
        n = 0
        for turn in self._spec.turns:
            if reply is not None:
                msgs.append(ChatMessage(role="assistant", content=reply.text))
            msgs.append(ChatMessage(role="user", content=_fill(turn, behaviour, text)))
            reply = await chat(list(msgs))
            n += 1
            if reply.status == "blocked" and self._spec.stop_on_block:
                break
        assert reply is not None
        return AttackRun(msgs, reply, n)


class BaselineAttack:
    """The baseline arm: the behaviour as is, no attack."""

    capabilities: ClassVar[AttackCapabilities] = AttackCapabilities(typed_messages=True)
    id = "baseline"
    tags: tuple[str, ...] = ()
    kind = "baseline"

    def spec(self) -> dict[str, Any]:
        return {"id": "baseline", "kind": "baseline"}

    async def run(self, behaviour: Behaviour, chat: ChatFn) -> AttackRun:
        msgs = [ChatMessage(role="user", content=behaviour.text)]
        return AttackRun(msgs, await chat(msgs))


#: An attack factory: ``factory(options) -> Attack`` with the attack's options model
#: (design 0181): registered with ``options=Model``, or a class declaring ``Options``
#: and ``from_options``.
AttackFactory = Callable[..., Attack]


def _legacy_attack(factory: Callable[[dict[str, Any]], Attack], opts: Mapping[str, Any]) -> Attack:
    return factory(dict(opts))


#: Python attack plug-ins by name; third parties add theirs through the
#: ``jbgrade.attacks`` entry-point group. A 0.1-style factory taking the ``options``
#: mapping of the campaign spec still works, with a DeprecationWarning.
ATTACKS: Registry[AttackFactory] = Registry("attack", "jbgrade.attacks", legacy=_legacy_attack)


def register_attack(
    name: str, *, options: type[BaseModel] | None = None
) -> Callable[[AttackFactory], AttackFactory]:
    """Decorator registering an attack factory ``(options: Model) -> Attack``, where
    ``Model`` (``options``) validates the campaign spec's ``options`` for it."""
    return ATTACKS.register(name, options=options)


def _build(spec: AttackSpec) -> Attack:
    return MultiTurnAttack(spec) if spec.kind == "multi_turn" else TemplateAttack(spec)


def attack_from_spec(raw: Any, where: str | None = None) -> Attack:
    """Build a YAML-declared attack from its mapping (errors name ``where`` and the field)."""
    try:
        spec = AttackSpec.model_validate(raw)
    except ValidationError as exc:
        raise validation_error(exc, path=where) from None
    return _build(spec)


def attack_from_doc(
    doc: LocatedDoc, at: Path_ = (), *, cls: type[InputError] = InputError
) -> Attack:
    """Build the attack declared at ``at`` in a YAML document (an attack file, or an
    inline attack in a campaign spec); errors are ``cls`` naming file, line and field."""
    raw = value_at(doc, at)
    if not isinstance(raw, dict):
        raise doc.error("an attack is a mapping (id, template, ...)", at, cls=cls)
    try:
        spec = AttackSpec.model_validate(raw)
    except ValidationError as exc:
        raise located_error(exc, doc, at, cls=cls) from None
    return _build(spec)


def bundled_attacks() -> list[str]:
    """Names of the attacks shipped with jbgrade."""
    root = resources.files("jbgrade.harness").joinpath("data/attacks")
    return sorted(p.name[:-5] for p in root.iterdir() if p.name.endswith(".yaml"))


def load_attack(
    ref: str, base_dir: Path | None = None, options: dict[str, Any] | None = None
) -> Attack:
    """Resolve an attack reference: a bundled name, a YAML file, or a plug-in name."""
    if ref in bundled_attacks():
        res = resources.files("jbgrade.harness").joinpath(f"data/attacks/{ref}.yaml")
        where = f"jbgrade/harness/data/attacks/{ref}.yaml"
        return attack_from_doc(load_located(res.read_text("utf-8"), where))
    path = Path(ref)
    if base_dir is not None and not path.is_absolute():
        path = base_dir / path
    if ref.endswith((".yaml", ".yml")):
        if not path.is_file():
            raise InputError(f"attack file not found: {path}", field="attacks")
        return attack_from_doc(read_located(path))
    if ref in ATTACKS.names():
        attack: Attack = ATTACKS.create(ref, options)
        return attack
    known = ", ".join([*bundled_attacks(), *ATTACKS.names()])
    raise InputError(f"unknown attack {ref!r}; bundled or registered: {known}", field="attacks")
