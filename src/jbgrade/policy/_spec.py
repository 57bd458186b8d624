"""The parsed, validated form of a policy profile (plain frozen dataclasses).

Every condition is normalised to an :class:`Atom`: a test on one input with
either a finite set of allowed values (metric letters, criterion levels,
severities, enumerated context values, booleans) or a numeric interval
(score, numeric context). That normal form is what the compiler, the checker,
the explanations and the naive baseline in ``bench/`` all share.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from jbgrade.rubric import Tables

from jbgrade._vocab import ACTIONS

__all__ = [
    "ACTIONS",
    "CLOCKS",
    "Atom",
    "Citation",
    "ContextField",
    "ObligationSpec",
    "ProfileSpec",
    "RuleSpec",
    "action_rank",
]

# Rank of each action (ACTIONS is weakest first). Several rules combine by the maximum.
_RANK = {a: i for i, a in enumerate(ACTIONS)}

#: Events that can start an obligation's clock.
CLOCKS: tuple[str, ...] = ("awareness", "notification", "patch")


def action_rank(action: str) -> int:
    """Position of ``action`` in :data:`ACTIONS` (KeyError if unknown)."""
    return _RANK[action]


@dataclass(frozen=True, slots=True)
class Citation:
    """Where a rule or obligation comes from."""

    illustrative: bool  # no official text: our own illustration
    source: str | None = None
    source_title: str | None = None
    section: str | None = None
    unconfirmed: bool = False
    mapping: str = "official"  # "illustrative": official text, our mapping from grades to it
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        if self.illustrative:
            return {"illustrative": True}
        out: dict[str, Any] = {"source": self.source, "title": self.source_title}
        if self.section:
            out["section"] = self.section
        if self.unconfirmed:
            out["unconfirmed"] = True
        if self.mapping != "official":
            out["mapping"] = self.mapping
        if self.note:
            out["note"] = self.note
        return out

    def text(self) -> str:
        if self.illustrative:
            return "illustrative"
        s = self.source_title or self.source or ""
        if self.section:
            s += f", {self.section}"
        if self.unconfirmed:
            s += " (unconfirmed)"
        if self.mapping != "official":
            s += " [mapping illustrative]"
        return s


@dataclass(frozen=True, slots=True)
class Atom:
    """One condition on one input.

    ``on`` is ``severity``, ``score``, ``systemic``, ``provisional``, a
    criterion key (``BP``/``EC``/``RI``), a metric key, or ``context.NAME``.
    Finite inputs use ``allowed``; numbers use the interval ``lo..hi``.
    """

    on: str
    kind: str  # metric | criterion | severity | score | flag | enum | number
    test: str  # as written, for people: "at_least W", "in [closed]", ">= 1e+25"
    line: int | None
    allowed: frozenset[Any] | None = None
    lo: float = -math.inf
    lo_incl: bool = True
    hi: float = math.inf
    hi_incl: bool = True

    @property
    def context_field(self) -> str | None:
        return self.on[8:] if self.on.startswith("context.") else None

    def holds(self, value: Any) -> bool:
        """Whether ``value`` (already resolved: X -> worst) satisfies the atom."""
        if self.allowed is not None:
            return value in self.allowed
        v = float(value)
        if v < self.lo or (v == self.lo and not self.lo_incl):
            return False
        return not (v > self.hi or (v == self.hi and not self.hi_incl))

    def bounds(self) -> list[float]:
        """Numeric thresholds this atom tests (for partitioning a number line)."""
        return [b for b in (self.lo, self.hi) if math.isfinite(b)]


@dataclass(frozen=True, slots=True)
class ContextField:
    """A declared context input with its precautionary default."""

    name: str
    type: str  # "enum" | "number"
    description: str
    values: tuple[str, ...]  # enum only; lowest risk first when ordered
    ordered: bool
    minimum: float | None
    unit: str | None
    default: Any
    default_reason: str
    line: int | None


@dataclass(frozen=True, slots=True)
class ObligationSpec:
    """An obligation in the profile's catalogue."""

    id: str
    party: str
    what: str
    kind: str
    days: int
    calendar: str  # "calendar" | "business"
    clock: str  # one of CLOCKS
    repeat_every_days: int | None
    citation: Citation
    line: int | None


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """One rule: all atoms must hold; then ``action`` and ``obligations`` apply."""

    id: str
    index: int
    title: str
    citation: Citation
    rationale: str | None
    atoms: tuple[Atom, ...]
    action: str
    obligations: tuple[str, ...]
    line: int | None

    @property
    def rank(self) -> int:
        return _RANK[self.action]


class ProfileSpec(Protocol):
    """What the compiler, the decision engine and the checker read of a profile.

    :class:`~jbgrade.policy.Profile` is the one implementation; the compiler is
    written against this protocol so that it does not import the loader (which
    compiles profiles on first use).
    """

    @property
    def id(self) -> str: ...
    @property
    def source(self) -> str | None: ...
    @property
    def tables(self) -> Tables: ...
    @property
    def context(self) -> Mapping[str, ContextField]: ...
    @property
    def gates(self) -> tuple[tuple[Atom, ...], ...]: ...
    @property
    def rules(self) -> tuple[RuleSpec, ...]: ...
    @property
    def obligations(self) -> Mapping[str, ObligationSpec]: ...
    @property
    def holidays(self) -> frozenset[_dt.date]: ...
    @property
    def effective_from(self) -> _dt.date: ...
    @property
    def effective_to(self) -> _dt.date | None: ...
    @property
    def rescinded_on(self) -> _dt.date | None: ...

    def rule(self, rule_id: str) -> RuleSpec:
        """The rule with id ``rule_id`` (KeyError if none)."""
        ...
