"""``policy diff``: which grades change action between two versions of a profile.

Both profiles are compiled and the whole concrete grade space is enumerated
by joint equivalence classes (see :mod:`jbgrade.policy._enum`), over every
representative context combination of the union of their context fields (or
one fixed context). The report counts (vector, context) points by
``from -> to`` action, lists examples, and counts obligation changes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from jbgrade._errors import PolicyError
from jbgrade.policy._compile import Compiled
from jbgrade.policy._enum import GradeClasses, context_points
from jbgrade.policy._load import load_profile
from jbgrade.policy._profile import Profile
from jbgrade.policy._spec import ACTIONS

__all__ = ["DiffReport", "diff_profiles"]

_GAP = "(no rule)"


@dataclass(slots=True)
class Transition:
    """Points whose action moves from ``old`` to ``new``."""

    old: str
    new: str
    points: int = 0
    examples: list[dict[str, Any]] = field(default_factory=list)

    @property
    def direction(self) -> str:
        if _GAP in (self.old, self.new):
            return "gap"
        a, b = ACTIONS.index(self.old), ACTIONS.index(self.new)
        return "same" if a == b else ("stricter" if b > a else "weaker")

    def to_dict(self) -> dict[str, Any]:
        return {
            "from": self.old,
            "to": self.new,
            "direction": self.direction,
            "points": self.points,
            "examples": self.examples,
        }


@dataclass(slots=True)
class DiffReport:
    """What changes between two profiles over the whole grade x context space."""

    old: dict[str, Any]
    new: dict[str, Any]
    vectors: int
    contexts: list[dict[str, Any]]
    points: int = 0
    changed_points: int = 0
    vectors_changed: int = 0
    transitions: list[Transition] = field(default_factory=list)
    obligations_added: dict[str, int] = field(default_factory=dict)
    obligations_removed: dict[str, int] = field(default_factory=dict)
    obligation_changes: int = 0
    changed: list[dict[str, Any]] | None = None  # every changed point, when asked

    def to_dict(self) -> dict[str, Any]:
        out = {
            "old": self.old,
            "new": self.new,
            "vectors": self.vectors,
            "contexts": self.contexts,
            "points": self.points,
            "changed_points": self.changed_points,
            "vectors_changed": self.vectors_changed,
            "transitions": [t.to_dict() for t in self.transitions],
            "obligation_changes": self.obligation_changes,
            "obligations_added": self.obligations_added,
            "obligations_removed": self.obligations_removed,
        }
        if self.changed is not None:
            out["changed"] = self.changed
        return out


def _ident(p: Profile) -> dict[str, Any]:
    return {
        "profile": p.id,
        "version": p.version,
        "source": p.source,
        "bundle_sha256": p.bundle_sha256,
    }


def _outcome(comp: Compiled, gm: int, cm: int, applicable: bool) -> tuple[str, tuple[str, ...]]:
    if not applicable:
        return "none", ()
    f = gm & cm
    if not f:
        return _GAP, ()
    o = comp.outcome(f)
    return o.action, o.obligations


def diff_profiles(
    old: str | Profile,
    new: str | Profile,
    *,
    context: Mapping[str, Any] | None = None,
    examples: int = 5,
    list_all: bool = False,
) -> DiffReport:
    """Compare two profiles (typically two versions of one) over every grade."""
    po, pn = load_profile(old), load_profile(new)
    if po.tables.prefix != pn.tables.prefix:
        raise PolicyError(f"{po.id} is for {po.tables.prefix}, {pn.id} for {pn.tables.prefix}")
    co, cn = po.compiled, pn.compiled
    gc = GradeClasses(co.space, [co, cn])
    fixed = None
    if context is not None:
        fixed = {}
        for prof in (po, pn):
            ev = prof.compiled.context(context)
            fixed.update({k: v for k, v in ev.values.items() if k in context})
    _names, _reps, points = context_points([co, cn], fixed)
    rep = DiffReport(
        old=_ident(po),
        new=_ident(pn),
        vectors=co.space.total,
        contexts=[pt.values for pt in points],
    )
    trans: dict[tuple[str, str], Transition] = {}
    memo: dict[tuple[int, int, int, int, bool, bool], Any] = {}
    if list_all:
        rep.changed = []
    for i, j, k, n in gc.triples():
        gmo = gc.grade_mask(co, i, j, k, False)
        gmn = gc.grade_mask(cn, i, j, k, False)
        any_change = False
        for pt in points:
            key = (gmo, gmn, pt.masks[0], pt.masks[1], pt.applicable[0], pt.applicable[1])
            res = memo.get(key)
            if res is None:
                a = _outcome(co, gmo, pt.masks[0], pt.applicable[0])
                b = _outcome(cn, gmn, pt.masks[1], pt.applicable[1])
                res = memo[key] = (a, b)
            (aa, ao), (ba, bo) = res
            rep.points += n
            if ao != bo:
                rep.obligation_changes += n
                for x in set(bo) - set(ao):
                    rep.obligations_added[x] = rep.obligations_added.get(x, 0) + n
                for x in set(ao) - set(bo):
                    rep.obligations_removed[x] = rep.obligations_removed.get(x, 0) + n
            if aa == ba:
                continue
            any_change = True
            rep.changed_points += n
            t = trans.get((aa, ba))
            if t is None:
                t = trans[aa, ba] = Transition(aa, ba)
            t.points += n
            if len(t.examples) < examples:
                # One per class triple: examples that differ in more than one letter.
                for v in gc.vectors(i, j, k, 1):
                    t.examples.append({"vector": v, "context": pt.values})
            if rep.changed is not None:
                for v in _all_vectors(gc, i, j, k):
                    rep.changed.append({"vector": v, "context": pt.values, "from": aa, "to": ba})
        if any_change:
            rep.vectors_changed += n
    rep.transitions = sorted(trans.values(), key=lambda t: (-t.points, t.old, t.new))
    rep.obligations_added = dict(sorted(rep.obligations_added.items()))
    rep.obligations_removed = dict(sorted(rep.obligations_removed.items()))
    return rep


def _all_vectors(gc: GradeClasses, i: int, j: int, k: int) -> Iterator[str]:
    for a in gc.members["BP"][i]:
        for b in gc.members["EC"][j]:
            for c in gc.members["RI"][k]:
                yield gc.space.vector(a, b, c)
