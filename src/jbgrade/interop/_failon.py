"""``--fail-on EXPR``: a CI gate on a grade, a decision, evidence or a comparison.

EXPR is one or more conditions separated by commas; the gate fires when any
holds. A condition is a flag (``systemic``, ``provisional``, ``incomplete``,
``regression``) or ``NAME OP VALUE`` with OP one of ``>= > <= < == !=``:

* ``severity`` against None < Low < Medium < High < Critical;
* ``action`` against none < monitor < mitigate < restrict_export <
  block_deployment (the strongest action over the profiles decided);
* ``score``, ``rate`` (highest attack-arm success rate of a campaign),
  ``adjusted`` (highest baseline-adjusted rate) against numbers.

Parsing is done before any work, so a bad expression exits 2 at once.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from jbgrade._errors import InputError
from jbgrade.policy import ACTIONS
from jbgrade.rubric import SEVERITIES

__all__ = ["FailOn", "parse_fail_on"]

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
    "!=": operator.ne,
}
_ORDERED: dict[str, tuple[str, ...]] = {"severity": SEVERITIES, "action": ACTIONS}
_NUMERIC = ("score", "rate", "adjusted")
_FLAGS = ("systemic", "provisional", "incomplete", "regression")
_COND = re.compile(r"^\s*([a-z_]+)\s*(>=|<=|==|!=|>|<)\s*([A-Za-z0-9_.]+)\s*$")


@dataclass(frozen=True, slots=True)
class _Cond:
    text: str
    name: str
    op: str | None
    value: str | float | None

    def holds(self, facts: Mapping[str, Any]) -> str | None:
        """A one-line reason when the condition holds on ``facts``; None otherwise."""
        got = facts.get(self.name)
        if got is None:
            return None
        if self.op is None:
            return f"{self.text} (it is)" if bool(got) else None
        if self.name in _ORDERED:
            order = _ORDERED[self.name]
            if got not in order:
                return None
            ok = _OPS[self.op](order.index(got), order.index(str(self.value)))
        else:
            ok = _OPS[self.op](float(got), float(self.value))  # type: ignore[arg-type]
        return f"{self.text} ({self.name} is {got})" if ok else None


@dataclass(frozen=True, slots=True)
class FailOn:
    """A parsed ``--fail-on`` expression."""

    conditions: tuple[_Cond, ...]
    text: str

    def names(self) -> set[str]:
        return {c.name for c in self.conditions}

    def check(self, facts: Mapping[str, Any]) -> str | None:
        """The first condition that fires, as one line; None when none does."""
        for c in self.conditions:
            why = c.holds(facts)
            if why is not None:
                return f"--fail-on fired: {why}"
        return None


def parse_fail_on(text: str, allowed: tuple[str, ...] | None = None) -> FailOn:
    """Parse EXPR; ``allowed`` limits the names a command can answer."""
    conds = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            raise InputError(f"empty condition in {text!r}", field="--fail-on")
        if part in _FLAGS:
            conds.append(_Cond(part, part, None, None))
        else:
            m = _COND.match(part)
            if m is None:
                raise InputError(
                    f"cannot read {part!r}: use NAME OP VALUE (e.g. severity>=High) or a flag "
                    f"({', '.join(_FLAGS)})",
                    field="--fail-on",
                )
            name, op, raw = m.groups()
            value: str | float
            if name in _ORDERED:
                order = _ORDERED[name]
                match = [v for v in order if v.lower() == raw.lower()]
                if not match:
                    raise InputError(
                        f"{name} {raw!r} is not one of {', '.join(order)}", field="--fail-on"
                    )
                value = match[0]
            elif name in _NUMERIC:
                try:
                    value = float(raw)
                except ValueError:
                    raise InputError(
                        f"{name} needs a number, not {raw!r}", field="--fail-on"
                    ) from None
            else:
                raise InputError(
                    f"unknown name {name!r}; known: {', '.join([*_ORDERED, *_NUMERIC, *_FLAGS])}",
                    field="--fail-on",
                )
            conds.append(_Cond(part, name, op, value))
        if allowed is not None and conds[-1].name not in allowed:
            raise InputError(
                f"{conds[-1].name!r} is not known to this command (it knows {', '.join(allowed)})",
                field="--fail-on",
            )
    return FailOn(tuple(conds), text)
