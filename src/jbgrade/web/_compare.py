"""Assessments side by side: which metrics differ, and which differences matter.

A difference on metric M between parties A and B "changes the label" when
putting B's value of M into A's vector (or A's into B's) moves that vector's
severity label; it "changes the action" under a profile when it moves the
decided action. Differences that change nothing are shown as such, so the
parties can stop arguing about them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from jbgrade.policy import Profile, decide
from jbgrade.rubric import default_tables, grade

__all__ = ["Comparison", "MetricRowDiff", "compare"]


@dataclass(frozen=True, slots=True)
class MetricRowDiff:
    key: str
    name: str
    values: tuple[str, ...]
    differs: bool
    changes_label: bool
    changes_action: tuple[str, ...]  # profile ids whose action a swap changes


@dataclass(frozen=True, slots=True)
class Comparison:
    rows: tuple[MetricRowDiff, ...]
    labels: tuple[str, ...] = field(default=())

    @property
    def n_differ(self) -> int:
        return sum(r.differs for r in self.rows)


def _with(letters: dict[str, str], key: str, value: str) -> str:
    t = default_tables()
    changed = {**letters, key: value}
    return t.prefix + "/".join(f"{m.key}:{changed[m.key]}" for m in t.metrics)


def compare(
    vectors: Sequence[str],
    profiles: Sequence[Profile] = (),
    *,
    aware_on: dt.date,
    context: dict[str, Any] | None = None,
) -> Comparison:
    """Compare parties' vectors metric by metric (labels and, per profile, actions).

    ``aware_on`` is the day the profiles' clocks start (the case page gives the day
    the case was reported, as a decision recorded on it would use by default).
    """
    t = default_tables()
    grades = [grade(v) for v in vectors]
    lets = [g.letters for g in grades]
    sev = [g.severity for g in grades]
    day = aware_on
    ctx = context or {}
    base_action: dict[tuple[int, str], str] = {}
    for i, v in enumerate(vectors):
        for p in profiles:
            base_action[(i, p.id)] = decide(v, ctx, p, aware_on=day).action
    rows = []
    for m in t.metrics:
        values = tuple(lt[m.key] for lt in lets)
        differs = len(set(values)) > 1
        label = False
        actions: set[str] = set()
        if differs:
            for i, li in enumerate(lets):
                for j, lj in enumerate(lets):
                    if i == j or li[m.key] == lj[m.key]:
                        continue
                    swapped = _with(li, m.key, lj[m.key])
                    if grade(swapped).severity != sev[i]:
                        label = True
                    for p in profiles:
                        if p.id in actions:
                            continue
                        if decide(swapped, ctx, p, aware_on=day).action != base_action[(i, p.id)]:
                            actions.add(p.id)
        rows.append(
            MetricRowDiff(
                m.key,
                m.name,
                values,
                differs,
                label,
                tuple(p.id for p in profiles if p.id in actions),
            )
        )
    return Comparison(tuple(rows), tuple(sev))
