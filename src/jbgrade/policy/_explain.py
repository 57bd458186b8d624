"""The explanation parts of a decision: condition traces, fired-rule, gate and
assumption entries, concrete obligations, and the memos they are kept in.

Shared by :func:`~jbgrade.policy.decide` (which explains lazily) and the near-miss
search (``_near.py``). Entries are built as JSON objects and validated into the
Decision's records by the caller, exactly as the eager engine did.
"""

from __future__ import annotations

import datetime as _dt
from functools import lru_cache
from typing import Any

from jbgrade.policy._compile import Compiled, CtxEval, Outcome, PartInfo
from jbgrade.policy._due import add_days
from jbgrade.policy._model import (
    Obligation,
    RuleCitation,
)
from jbgrade.policy._spec import Atom, Citation, ObligationSpec, ProfileSpec, RuleSpec
from jbgrade.rubric import SEVERITIES

__all__: list[str] = []


_Json = dict[str, Any]


@lru_cache(maxsize=256)
def _cite(c: Citation) -> RuleCitation:
    return RuleCitation.model_validate(c.to_dict())


class _Ctx:
    """Per-decision inputs needed to explain (only built for full decisions)."""

    def __init__(self, comp: Compiled, parts: tuple[PartInfo, PartInfo, PartInfo], ce: CtxEval):
        self.comp = comp
        self.parts = parts
        self.ce = ce
        sp = comp.space
        bp, ec, ri = parts
        self.cell = sp.cell(bp, ec, ri)
        self.systemic = sp.systemic(bp, ec, ri)
        self.provisional = bp.has_x or ec.has_x or ri.has_x
        self.by_crit = {"BP": bp, "EC": ec, "RI": ri}

    def condition(self, a: Atom) -> _Json:
        sp = self.comp.space
        f = a.context_field
        if f is not None:
            cval = self.ce.values[f]
            out = {"on": a.on, "test": a.test, "actual": cval, "holds": a.holds(cval)}
            if f in self.ce.assumed:
                out["assumed"] = True
                out["reason"] = self.comp.profile.context[f].default_reason
            return out
        if a.kind == "metric":
            crit, pos = sp.metric_crit[a.on]
            part = self.by_crit[crit]
            given, used = part.letters[pos], part.resolved[pos]
            out = {"on": a.on, "test": a.test, "actual": used, "holds": a.holds(used)}
            if given != used:
                out["given"] = given
                out["reason"] = "not assessed (X): scored as the worst value by precaution"
            return out
        val: Any
        if a.kind == "criterion":
            val = self.by_crit[a.on].level
        elif a.kind == "severity":
            val = SEVERITIES[sp.sev[self.cell]]
        elif a.kind == "score":
            val = sp.score[self.cell]
        else:
            val = self.systemic if a.on == "systemic" else self.provisional
        return {"on": a.on, "test": a.test, "actual": val, "holds": a.holds(val)}


def _fired_rule(r: RuleSpec, cx: _Ctx) -> _Json:
    return {
        "id": r.id,
        "kind": "rule",
        "title": r.title,
        "action": r.action,
        "citation": _cite(r.citation),
        "obligations": list(r.obligations),
        "conditions": [cx.condition(a) for a in r.atoms],
    }


def _gate_entry(prof: ProfileSpec, cx: _Ctx) -> _Json | None:
    if not prof.gates:
        return None
    ce = cx.ce
    if ce.applicable:
        assert ce.gate is not None
        return {
            "id": f"applies_when[{ce.gate}]",
            "kind": "gate",
            "title": f"Profile {prof.id} applies",
            "conditions": [cx.condition(a) for a in prof.gates[ce.gate]],
        }
    return {
        "id": "applies_when",
        "kind": "gate",
        "title": f"Profile {prof.id} does not apply in this context (no applicability set holds)",
        "action": "none",
        "conditions": [cx.condition(a) for atoms in prof.gates for a in atoms],
    }


def _assumption_entry(prof: ProfileSpec, ce: CtxEval) -> _Json | None:
    if not ce.assumed:
        return None
    title = "Context not given: precautionary defaults assumed"
    if ce.ignored:
        # A misspelt field is the usual cause of an unexpected assumption: say so.
        title += f" (given but not declared by {prof.id}, ignored: {', '.join(ce.ignored)})"
    return {
        "id": "assumed_context",
        "kind": "assumption",
        "title": title,
        "conditions": [
            {
                "on": f"context.{f}",
                "test": "not given",
                "actual": ce.values[f],
                "holds": True,
                "assumed": True,
                "reason": prof.context[f].default_reason,
            }
            for f in ce.assumed
        ],
    }


def _obligations(
    prof: ProfileSpec,
    out: Outcome,
    aware: _dt.date,
    notified: _dt.date | None,
    patched: _dt.date | None,
) -> tuple[_Json, ...]:
    clocks = {"awareness": aware, "notification": notified, "patch": patched}
    by_ob: dict[str, list[str]] = {}
    for rid in out.rules:
        for oid in prof.rule(rid).obligations:
            by_ob.setdefault(oid, []).append(rid)
    res = []
    for n, oid in enumerate(out.obligations):
        o: ObligationSpec = prof.obligations[oid]
        start = clocks[o.clock]
        assumed = start is None
        start = start or aware
        ob = {
            "id": oid,
            "party": o.party,
            "what": o.what,
            "due": add_days(start, o.days, o.calendar, prof.holidays),
            "kind": o.kind,
            "clock": o.clock,
            "clock_start": start,
            "clock_start_assumed": assumed,
            "days": o.days,
            "calendar": o.calendar,
            "rules": by_ob[oid],
            "citation": _cite(o.citation),
        }
        if o.repeat_every_days:
            ob["recurs_every_days"] = o.repeat_every_days
        res.append((ob["due"], n, ob))
    res.sort(key=lambda x: (x[0], x[1]))
    return tuple(ob for _, _, ob in res)


def _not_in_force(prof: ProfileSpec, on: _dt.date) -> _Json:
    rng = f"in force from {prof.effective_from.isoformat()}"
    if prof.effective_to:
        rng += f" to {prof.effective_to.isoformat()}"
    if prof.rescinded_on:
        rng += f", rescinded on {prof.rescinded_on.isoformat()}"
    return {
        "id": "in_force",
        "kind": "gate",
        "title": f"Profile {prof.id} is not in force on {on.isoformat()}",
        "action": "none",
        "conditions": [{"on": "aware_on", "test": rng, "actual": on.isoformat(), "holds": False}],
    }


# Memo bounds: a long-running server sees many dates and contexts; a full memo is
# simply emptied (entries are cheap to rebuild, and bounded growth matters more).
_PROFILE_MEMO_MAX = 65536
_CONTEXT_MEMO_MAX = 16384


def _profile_memo(comp: Compiled) -> dict[Any, Any]:
    """Per-profile memo: obligations per fired rules and dates, neighbour lists, and
    explanation records that do not depend on context (their keys say all they show)."""
    if len(comp.memo) >= _PROFILE_MEMO_MAX:
        comp.memo.clear()
    return comp.memo


def _context_memo(ce: CtxEval) -> dict[Any, Any]:
    """Per-context memo: records that show context values (gate, assumptions, rules
    with context conditions) and the context changes worth testing."""
    if len(ce.memo) >= _CONTEXT_MEMO_MAX:
        ce.memo.clear()
    return ce.memo


def _concrete_obligations(
    comp: Compiled,
    out: Outcome,
    fired: int,
    *,
    aware: _dt.date,
    notified: _dt.date | None,
    patched: _dt.date | None,
) -> tuple[Obligation, ...]:
    """The Obligation records of an outcome (memoised per profile, fired rules and dates)."""
    memo = _profile_memo(comp)
    key = (fired, aware, notified, patched)
    got = memo.get(key)
    if got is None:
        got = memo[key] = tuple(
            Obligation.model_validate(o)
            for o in _obligations(comp.profile, out, aware, notified, patched)
        )
    return got


def _input_spec(comp: Compiled, r: RuleSpec) -> tuple[bool, tuple[tuple[int, int, int], ...]]:
    """How to read, from a decision, the inputs of ``r``'s grade conditions.

    Returns (whether ``r`` has context conditions, codes): 0 metric letter as given
    (part, position), 1 criterion level (part), 2 score-table cell, 3 systemic,
    4 provisional. Context conditions are left out: a rule that has them is
    memoised per context.
    """
    memo = _profile_memo(comp)
    key = ("inputs", r.index)
    got: tuple[bool, tuple[tuple[int, int, int], ...]] | None = memo.get(key)
    if got is None:
        sp = comp.space
        crit_pos = {"BP": 0, "EC": 1, "RI": 2}
        spec = []
        for a in r.atoms:
            if a.context_field is not None:
                continue
            if a.kind == "metric":
                crit, pos = sp.metric_crit[a.on]
                spec.append((0, crit_pos[crit], pos))
            elif a.kind == "criterion":
                spec.append((1, crit_pos[a.on], 0))
            elif a.kind in ("severity", "score"):
                spec.append((2, 0, 0))
            else:
                spec.append((3 if a.on == "systemic" else 4, 0, 0))
        has_ctx = any(a.context_field is not None for a in r.atoms)
        got = memo[key] = (has_ctx, tuple(spec))
    return got
