"""Exhaustive enumeration of the grade x context space, by equivalence classes.

Two concrete parts (say two BP parts) are *equivalent* for a set of compiled
profiles when they have the same rule mask in every profile, the same
criterion level, the same systemic clause bits, the same "could hold an X"
flag and the same hazard-domain letter. Every decision input of a vector is a
function of its three parts' classes, so evaluating one representative per
class triple, weighted by the product of the class sizes, is exactly the same
as evaluating all 139,968 vectors one by one - only faster. Single-step
raises map to class edges the same way.

Context is enumerated by representatives: every value of an enumerated field;
for a number, each threshold used by any condition, a point between
consecutive thresholds and one beyond each end (respecting ``minimum``),
deduplicated by which conditions they satisfy.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import pairwise, product
from typing import Any

from jbgrade.policy._compile import Compiled, PartInfo, Space
from jbgrade.policy._spec import Atom, ContextField
from jbgrade.rubric import CRITERIA

__all__ = ["CtxPoint", "GradeClasses", "context_points", "field_points"]


class GradeClasses:
    """Concrete parts grouped into classes for a list of compiled profiles."""

    def __init__(self, space: Space, comps: Sequence[Compiled]):
        self.space = space
        self.comps = comps
        hd = space.metric_crit.get("HD")
        self.members: dict[str, list[list[PartInfo]]] = {}
        self.index: dict[str, dict[str, int]] = {}
        for c in CRITERIA:
            keyed: dict[tuple[Any, ...], int] = {}
            members: list[list[PartInfo]] = []
            idx: dict[str, int] = {}
            for p in space.concrete[c]:
                dom = p.resolved[hd[1]] if hd is not None and hd[0] == c else ""
                k = (
                    tuple(cp.part_mask[c][p.key] for cp in comps),
                    p.level,
                    p.sys,
                    p.any_worst,
                    dom,
                )
                i = keyed.get(k)
                if i is None:
                    i = keyed[k] = len(members)
                    members.append([])
                members[i].append(p)
                idx[p.key] = i
            self.members[c] = members
            self.index[c] = idx
        self.sizes = {c: [len(m) for m in self.members[c]] for c in CRITERIA}

    def rep(self, c: str, i: int) -> PartInfo:
        return self.members[c][i][0]

    def triples(self) -> Iterator[tuple[int, int, int, int]]:
        """(bp class, ec class, ri class, number of vectors in it)."""
        sb, se, sr = (self.sizes[c] for c in CRITERIA)
        for i, j, k in product(range(len(sb)), range(len(se)), range(len(sr))):
            yield i, j, k, sb[i] * se[j] * sr[k]

    def grade_mask(self, comp: Compiled, i: int, j: int, k: int, prov: bool) -> int:
        return comp.grade_mask(self.rep("BP", i), self.rep("EC", j), self.rep("RI", k), prov)

    def vector(self, i: int, j: int, k: int) -> str:
        return self.space.vector(self.rep("BP", i), self.rep("EC", j), self.rep("RI", k))

    def vectors(self, i: int, j: int, k: int, limit: int) -> list[str]:
        out = []
        for a, b, c in product(self.members["BP"][i], self.members["EC"][j], self.members["RI"][k]):
            out.append(self.space.vector(a, b, c))
            if len(out) >= limit:
                break
        return out

    def can_be_x(self, i: int, j: int, k: int) -> bool:
        """Some metric is at its worst letter, so an X could stand there (provisional)."""
        return (
            self.rep("BP", i).any_worst
            or self.rep("EC", j).any_worst
            or self.rep("RI", k).any_worst
        )

    def edges(self, c: str) -> dict[tuple[int, int], tuple[str, str, str, str, str]]:
        """Class edges of single-step raises in criterion ``c``.

        Maps (class before, class after) to one example
        (metric, from, to, part key before, part key after).
        Raises that stay inside a class change nothing and are left out.
        """
        sp = self.space
        out: dict[tuple[int, int], tuple[str, str, str, str, str]] = {}
        ms = sp.crit_metrics[c]
        idx = self.index[c]
        for p in sp.concrete[c]:
            for pos, m in enumerate(ms):
                li = m.letters.index(p.letters[pos])
                if li + 1 >= len(m.letters):
                    continue
                letters = list(p.letters)
                letters[pos] = m.letters[li + 1]
                key = "/".join(f"{mm.key}:{v}" for mm, v in zip(ms, letters, strict=True))
                e = (idx[p.key], idx[key])
                if e[0] != e[1] and e not in out:
                    out[e] = (m.key, p.letters[pos], m.letters[li + 1], p.key, key)
        return out

    def raise_count(self) -> int:
        """Number of single-step raises over the whole concrete space."""
        total = self.space.total
        return sum(
            total * (len(m.letters) - 1) // len(m.letters) for m in self.space.tables.metrics
        )


def field_points(f: ContextField, atoms: Sequence[Atom]) -> list[Any]:
    """Representative values of one context field, lowest risk first when ordered."""
    if f.type == "enum":
        return list(f.values)
    bounds = sorted({b for a in atoms for b in a.bounds()})
    lo = f.minimum if f.minimum is not None else -math.inf
    cand: list[float] = []
    if bounds:
        first = bounds[0]
        below = first / 2 if first > 0 else first - 1
        if below >= lo and below != first:
            cand.append(below)
        for a, b in pairwise(bounds):
            cand += [a, (a + b) / 2]
        cand.append(bounds[-1])
        cand.append(bounds[-1] * 2 if bounds[-1] > 0 else bounds[-1] + 1)
    else:
        cand.append(f.default)
    cand = [c for c in cand if c >= lo]
    if f.minimum is not None and (not cand or cand[0] > f.minimum):
        cand.insert(0, f.minimum)
    # Deduplicate by the truth values of the atoms (keep the first of each class).
    seen: set[tuple[bool, ...]] = set()
    out: list[Any] = []
    for v in sorted(set(cand)):
        sig = tuple(a.holds(v) for a in atoms)
        if sig not in seen:
            seen.add(sig)
            out.append(v)
    return out


@dataclass(frozen=True, slots=True)
class CtxPoint:
    """One representative context (complete values) with its mask per profile."""

    values: dict[str, Any]
    masks: tuple[int, ...]  # per profile; 0 = profile does not apply
    applicable: tuple[bool, ...]


def _atoms_of(comps: Sequence[Compiled], field: str) -> list[Atom]:
    atoms: list[Atom] = []
    for cp in comps:
        if field in cp.ctx_atoms:
            atoms += [a for _, a in cp.ctx_atoms[field]]
            atoms += [a for g in cp.profile.gates for a in g if a.on == f"context.{field}"]
    return atoms


def context_points(
    comps: Sequence[Compiled], fixed: dict[str, Any] | None = None
) -> tuple[list[str], dict[str, list[Any]], list[CtxPoint]]:
    """Representative context combinations over the union of declared fields.

    Returns (field names, representatives per field, points). ``fixed`` pins
    fields to given values (others still enumerated).
    """
    decl: dict[str, ContextField] = {}
    for cp in comps:
        for name, f in cp.profile.context.items():
            decl.setdefault(name, f)
    names = sorted(decl)
    reps: dict[str, list[Any]] = {}
    for n in names:
        if fixed is not None and n in fixed:
            reps[n] = [fixed[n]]
        else:
            reps[n] = field_points(decl[n], _atoms_of(comps, n))
    points: list[CtxPoint] = []
    for combo in product(*(reps[n] for n in names)):
        values = dict(zip(names, combo, strict=True))
        masks: list[int] = []
        appl: list[bool] = []
        for cp in comps:
            own = {n: values.get(n, f.default) for n, f in cp.profile.context.items()}
            m, gate = cp.eval_values(own)
            masks.append(m)
            appl.append(gate is not None)
        points.append(CtxPoint(values, tuple(masks), tuple(appl)))
    return names, reps, points
