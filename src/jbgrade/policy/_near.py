"""Near misses: rules one change of one input away from firing that would change
the decision, each with the nearest such change and the action after it."""

from __future__ import annotations

import math
from typing import Any

from jbgrade.policy._compile import Compiled, CtxEval, Outcome, PartInfo
from jbgrade.policy._explain import _cite, _context_memo, _Ctx, _profile_memo
from jbgrade.policy._model import (
    NearMiss,
)

__all__: list[str] = []


def _context_alternatives(comp: Compiled, field: str, current: Any) -> list[Any]:
    """Representative values of a context field that could change some test."""
    f = comp.profile.context[field]
    if f.type == "enum":
        return [v for v in f.values if v != current]
    pts: set[float] = set()
    atoms = [a for _, a in comp.ctx_atoms[field]]
    atoms += [a for g in comp.profile.gates for a in g if a.context_field == field]
    for a in atoms:
        for b in a.bounds():
            pts.add(b)
        # Exclusive bounds: a value just across them (powers of ten are typical thresholds).
        if not a.lo_incl and a.lo > -math.inf:
            pts.add(a.lo * 2 if a.lo > 0 else a.lo + 1)
        if not a.hi_incl and a.hi < math.inf:
            pts.add(a.hi / 2 if a.hi > 0 else a.hi - 1)
    return sorted(p for p in pts if p != current and (f.minimum is None or p >= f.minimum))


def _distance(comp: Compiled, field: str, cur: Any, alt: Any) -> float:
    f = comp.profile.context[field]
    if f.type == "number":
        return abs(float(alt) - float(cur))
    return abs(f.values.index(alt) - f.values.index(cur)) if f.ordered else 0.0


# A single-metric change of a part that changes some rule input, with what the new
# part gives the compiled masks: (metric, from, to, steps, mask, level, sys, has_x).
_Neighbour = tuple[str, str, str, int, int, int, int, bool]
_CRIT_STRIDE = {"BP": 1, "EC": 2, "RI": 0}  # position of the level in the cell index


def _neighbours(comp: Compiled, part: PartInfo) -> tuple[_Neighbour, ...]:
    """The single-metric changes of ``part`` that can change a decision (memoised).

    A neighbour with the same rule mask, level, systemic bits and X flag as the part
    gives every rule the same inputs, so the same fired set: it can never be a near
    miss and is left out here rather than tested on every decision.
    """
    memo = _profile_memo(comp)
    key = ("neighbours", part.crit, part.key)
    got: tuple[_Neighbour, ...] | None = memo.get(key)
    if got is None:
        pmc = comp.part_mask[part.crit]
        table = comp.space.parts[part.crit]
        mine = (pmc[part.key], part.level, part.sys, part.has_x)
        res = []
        for metric, frm, to, nkey, dist in comp.space.neighbours(part):
            n = table[nkey]
            cls = (pmc[nkey], n.level, n.sys, n.has_x)
            if cls != mine:
                res.append((metric, frm, to, dist, *cls))
        got = memo[key] = tuple(res)
    return got


def _context_changes(comp: Compiled, ce: CtxEval) -> tuple[tuple[str, Any, Any, float, int], ...]:
    """Single context changes worth testing, with their context masks (memoised per context).

    Each is (input, from, to, distance, mask) for the fields some rule or gate tests.
    """
    memo = _context_memo(ce)
    got: tuple[tuple[str, Any, Any, float, int], ...] | None = memo.get("context_changes")
    if got is None:
        res = []
        for field in comp.profile.context:
            if not comp.ctx_relevant(field):
                continue
            cur = ce.values[field]
            for alt in _context_alternatives(comp, field, cur):
                mask, _ = comp.eval_values({**ce.values, field: alt})
                res.append((f"context.{field}", cur, alt, _distance(comp, field, cur, alt), mask))
        got = memo["context_changes"] = tuple(res)
    return got


def _useful(comp: Compiled, out: Outcome, fired: int) -> int:
    """Mask of the rules not firing whose firing would change the action or add obligations."""
    cur_obs = set(out.obligations)
    useful = 0
    for r in comp.profile.rules:
        if not fired >> r.index & 1 and (
            r.rank > out.rank or not cur_obs.issuperset(r.obligations)
        ):
            useful |= 1 << r.index
    return useful


# rule index -> input -> (distance, from, to, action after the change)
_Found = dict[int, dict[str, tuple[float, Any, Any, str]]]


class _Search:
    """Collects, per useful rule and input, the nearest single change that fires it."""

    def __init__(self, comp: Compiled, useful: int):
        self.comp = comp
        self.useful = useful
        self.found: _Found = {}

    def consider(self, new_fired: int, on: str, frm: Any, to: Any, dist: float) -> None:
        gained = new_fired & self.useful  # not 0: callers test first (a call is dear)
        action = self.comp.outcome(new_fired).action
        while gained:
            low = gained & -gained
            gained ^= low
            per = self.found.setdefault(low.bit_length() - 1, {})
            if on not in per or dist < per[on][0]:
                per[on] = (dist, frm, to, action)

    def metric_changes(self, cx: _Ctx) -> None:
        """Single-metric changes of each part, with the other two parts fixed."""
        comp, useful, ce = self.comp, self.useful, cx.ce
        bp, ec, ri = cx.parts
        n = comp.space.n
        pm = comp.part_mask
        cell_mask, sys_keep, prov_keep = comp.cell_mask, comp.sys_keep, comp.prov_keep
        base = ce.mask & useful
        for part, o1, o2 in ((bp, ec, ri), (ec, bp, ri), (ri, bp, ec)):
            omask = ce.mask & pm[o1.crit][o1.key] & pm[o2.crit][o2.key]
            if not omask & base:
                continue
            osys = o1.sys & o2.sys
            ohx = o1.has_x or o2.has_x
            # Cell index (EC*n + BP)*n + RI with this part's level left out.
            lv = {"BP": bp.level, "EC": ec.level, "RI": ri.level}
            lv[part.crit] = 0
            cell0 = (lv["EC"] * n + lv["BP"]) * n + lv["RI"]
            stride = n ** _CRIT_STRIDE[part.crit]
            for metric, frm, to, dist, nmask, nlevel, nsys, nhx in _neighbours(comp, part):
                new = nmask & omask
                if not new & base:
                    continue  # cheap filter: no useful rule can fire
                new &= (
                    cell_mask[cell0 + nlevel * stride]
                    & sys_keep[(nsys & osys) != 0]
                    & prov_keep[nhx or ohx]
                )
                if new & useful:
                    self.consider(new, metric, frm, to, dist)

    def context_changes(self, cx: _Ctx) -> None:
        """Single context changes, with the grade fixed."""
        comp, useful, ce = self.comp, self.useful, cx.ce
        bp, ec, ri = cx.parts
        gm = comp.grade_mask(bp, ec, ri, cx.provisional)
        if gm & useful or not ce.applicable:
            for on, cfrm, cto, cdist, mask in _context_changes(comp, ce):
                if gm & mask & useful:
                    self.consider(gm & mask, on, cfrm, cto, cdist)


def _records(comp: Compiled, out: Outcome, found: _Found) -> list[NearMiss]:
    """The NearMiss records, strongest action first (memoised per profile: the key is
    all they show)."""
    cur_obs = set(out.obligations)
    res = []
    memo = _profile_memo(comp)
    for r in comp.profile.rules:
        per = found.get(r.index)
        if not per:
            continue
        adds = tuple(o for o in r.obligations if o not in cur_obs)
        changes = tuple((on, frm, to, action) for on, (_, frm, to, action) in per.items())
        key = ("near_miss", r.index, adds, changes)
        nm = memo.get(key)
        if nm is None:
            nm = memo[key] = NearMiss.model_validate(
                {
                    "id": r.id,
                    "title": r.title,
                    "action": r.action,
                    "citation": _cite(r.citation),
                    "adds_obligations": list(adds),
                    "changes": [
                        {"on": on, "from": frm, "to": to, "action": action}
                        for on, frm, to, action in changes
                    ],
                }
            )
        res.append((r.rank, nm))
    res.sort(key=lambda x: -x[0])  # stable: profile order within an action
    return [nm for _, nm in res]


def _near_misses(comp: Compiled, cx: _Ctx, out: Outcome, fired: int) -> list[NearMiss]:
    """Rules one change away that would change the decision, with the changes.

    For each rule that does not fire but would change the action or add
    obligations, each input (metric or context field) whose single change fires
    it, with the nearest such change and the whole decision's action after it.
    """
    useful = _useful(comp, out, fired)
    if not useful:
        return []
    search = _Search(comp, useful)
    if cx.ce.applicable:
        search.metric_changes(cx)
    search.context_changes(cx)
    return _records(comp, out, search.found)
