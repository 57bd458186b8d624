"""The Judge protocol, the registry of judge types and ``build_judge``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel

from jbgrade._errors import JudgeSpecError
from jbgrade._plugins import PluginRegistry
from jbgrade.records import Behaviour, ChatMessage, Verdict

__all__ = [
    "ENTRY_POINT_GROUP",
    "Judge",
    "JudgeFactory",
    "MemberVerdicts",
    "SyncJudge",
    "build_judge",
    "judge_types",
    "register_judge",
]

#: Third-party judges register a factory under this entry-point group; the
#: entry point's name is the judge type used in specs.
ENTRY_POINT_GROUP = "jbgrade.judges"


@runtime_checkable
class Judge(Protocol):
    """Decides whether one response to one behaviour is a jailbreak success.

    ``judge`` never raises for trouble at the judge's end (an unreachable
    endpoint, an unparseable answer): it returns a :class:`Verdict` whose
    ``error`` says why, with ``success`` False and ``value`` 0, so the caller
    can count it as undecided.
    """

    @property
    def name(self) -> str:
        """The registered judge type, e.g. ``refusal``."""
        ...

    def spec(self) -> dict[str, Any]:
        """A JSON-able spec from which :func:`build_judge` rebuilds this judge."""
        ...

    async def judge(
        self, behaviour: Behaviour, messages: list[ChatMessage], response: str
    ) -> Verdict:
        """Judge ``response``, the answer to ``messages`` that tried to elicit ``behaviour``."""
        ...

    async def aclose(self) -> None:
        """Release connections (endpoint judges); a no-op for local judges."""
        ...


@runtime_checkable
class SyncJudge(Judge, Protocol):
    """Capability: a judge that does no I/O and can decide without a coroutine.

    The runner calls :meth:`judge_now` instead of awaiting :meth:`Judge.judge`
    (no coroutine per attempt). Any judge - built-in or a third party's - that
    defines it gets that fast path; it must return what ``judge`` would.
    """

    def judge_now(
        self, behaviour: Behaviour, messages: list[ChatMessage], response: str
    ) -> Verdict:
        """The verdict, synchronously."""
        ...


@runtime_checkable
class MemberVerdicts(Judge, Protocol):
    """Capability: a judge that combines others and reports every verdict it used.

    The runner records all of them on the attempt (the members' verdicts, then
    the combined one, last), so evidence can read each member's scores.
    """

    async def judge_members(
        self, behaviour: Behaviour, messages: list[ChatMessage], response: str
    ) -> list[Verdict]:
        """The members' verdicts, then the combined verdict (last)."""
        ...


#: A judge factory: ``factory(options) -> Judge`` with the judge's options model
#: (design 0181); a judge class declares ``Options`` and ``from_options``.
JudgeFactory = Callable[..., Judge]
_F = TypeVar("_F", bound=Callable[..., Any])


def _legacy_judge(factory: Callable[..., Judge], params: Mapping[str, Any]) -> Judge:
    try:
        return factory(**params)
    except TypeError as exc:
        raise JudgeSpecError(f"judge: {exc}") from None


#: Judge types by name (the plug-in kernel's registry); filled by @register_judge
#: at import time of the modules that define judges, and from the entry-point group.
#: A 0.1-style factory taking the parameters as keywords still works, deprecated.
JUDGES: PluginRegistry[JudgeFactory] = PluginRegistry(
    "judge", ENTRY_POINT_GROUP, error=JudgeSpecError, legacy=_legacy_judge
)


def register_judge(name: str, *, options: type[BaseModel] | None = None) -> Callable[[_F], _F]:
    """Class or factory decorator: make a judge type buildable from a spec.

    The judge follows the one factory convention: a class with an ``Options``
    model and a ``from_options`` classmethod, or a factory ``(options) -> Judge``
    registered with ``options=Model``.
    """

    def deco(factory: _F) -> _F:
        JUDGES.add(name, factory, options=options)
        return factory

    return deco


def judge_types() -> list[str]:
    """Registered judge types, built-in and from the entry-point group."""
    return JUDGES.names()


def build_judge(spec: dict[str, Any]) -> Judge:
    """Build a judge from its spec: ``{"type": NAME, **parameters}``.

    ``spec`` is what :meth:`Judge.spec` returns, or what a campaign spec
    declares; the parameters are validated by the judge type's options model.
    Unknown types are looked up in the ``jbgrade.judges`` entry-point group.
    Raises :class:`~jbgrade.JudgeSpecError` naming the field at fault.
    """
    if not isinstance(spec, dict):
        raise JudgeSpecError(f"a judge spec must be a mapping, not {type(spec).__name__}")
    kind = spec.get("type")
    if not isinstance(kind, str) or not kind:
        raise JudgeSpecError("a judge spec needs a 'type'", field="type")
    if kind not in JUDGES:
        raise JudgeSpecError(
            f"unknown judge type {kind!r}; known: {', '.join(judge_types())}", field="type"
        )
    # measured_error describes the judge (design 0110); it is not a parameter.
    params = {k: v for k, v in spec.items() if k not in ("type", "measured_error")}
    judge = JUDGES.create(kind, params)
    if not isinstance(judge, Judge):
        raise JudgeSpecError(f"judge type {kind!r} built an object that is not a Judge")
    return judge
