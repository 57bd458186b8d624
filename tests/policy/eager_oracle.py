"""The eager decision engine, frozen as the oracle for the lazy one.

This is ``src/jbgrade/policy/_decide.py`` as it was at commit 23070af, before
decisions became lazily explained: it builds every part of the Decision at once
and validates it with ``Decision.model_validate``. tests/policy/test_lazy.py
checks that :func:`jbgrade.decide` gives exactly the same record and JSON.
Only its ``decide`` is used; do not "fix" it to follow the engine.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from jbgrade._errors import PolicyError
from jbgrade.policy._compile import Compiled, CtxEval, Outcome, PartInfo
from jbgrade.policy._load import list_profiles, load_profile
from jbgrade.policy._model import Decision
from jbgrade.policy._profile import Profile
from jbgrade.policy._spec import ACTIONS, Atom, Citation, ObligationSpec, RuleSpec
from jbgrade.rubric import SEVERITIES, Grade, Grader, default_tables

__all__ = ["decide"]

_Date = _dt.date | str | None


def _date(v: _Date, what: str) -> _dt.date | None:
    if v is None or isinstance(v, _dt.date):
        return v.date() if isinstance(v, _dt.datetime) else v
    try:
        return _dt.date.fromisoformat(v)
    except ValueError:
        raise PolicyError(f"{what} must be an ISO date (YYYY-MM-DD), got {v!r}") from None


@lru_cache(maxsize=8192)
def add_days(
    start: _dt.date, days: int, calendar: str, holidays: frozenset[_dt.date] = frozenset()
) -> _dt.date:
    """``start`` plus ``days`` calendar days, or business days (Mon-Fri, not holidays).

    Business days count from the day after ``start``: Friday + 1 business day
    is Monday; Saturday + 1 is Monday too. Zero days is ``start`` itself.
    """
    if calendar == "calendar":
        return start + _dt.timedelta(days=days)
    d, left = start, days
    one = _dt.timedelta(days=1)
    while left > 0:
        d += one
        if d.weekday() < 5 and d not in holidays:
            left -= 1
    return d


def _grader(profile: Profile) -> Grader:
    from jbgrade.rubric import default_grader

    if profile.tables is default_tables():
        return default_grader()
    return Grader(profile.tables)


def _grade(g: Grade | str, profile: Profile) -> Grade:
    if isinstance(g, Grade):
        if g.version != profile.tables.version:
            raise PolicyError(
                f"grade is JBG {g.version}, profile {profile.id} is for {profile.tables.version}"
            )
        return g
    if not isinstance(g, str):
        raise PolicyError(f"decide() needs a Grade or a vector string, got {type(g).__name__}")
    return _grader(profile).grade(g.strip())


_Json = dict[str, Any]


@lru_cache(maxsize=256)
def _cite(c: Citation) -> _Json:
    return c.to_dict()


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


def _gate_entry(prof: Profile, cx: _Ctx) -> _Json | None:
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


def _assumption_entry(prof: Profile, ce: CtxEval) -> _Json | None:
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


@lru_cache(maxsize=4096)
def _obligations(
    prof: Profile,
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


def _near_misses(comp: Compiled, cx: _Ctx, out: Outcome, fired: int) -> list[_Json]:
    """Rules one change away that would change the decision, with the changes."""
    prof = comp.profile
    sp = comp.space
    ce = cx.ce
    cur_obs = set(out.obligations)
    useful = 0  # rules not firing whose firing would change action or obligations
    for r in prof.rules:
        if not fired >> r.index & 1 and (
            r.rank > out.rank or not cur_obs.issuperset(r.obligations)
        ):
            useful |= 1 << r.index
    if not useful:
        return []
    found: dict[int, dict[str, tuple[float, _Json]]] = {}  # rule -> input -> (distance, change)

    def consider(new_fired: int, on: str, frm: Any, to: Any, dist: float) -> None:
        gained = new_fired & useful
        if not gained:
            return
        action = comp.outcome(new_fired).action
        while gained:
            low = gained & -gained
            gained ^= low
            per = found.setdefault(low.bit_length() - 1, {})
            if on not in per or dist < per[on][0]:
                per[on] = (dist, {"on": on, "from": frm, "to": to, "action": action})

    bp, ec, ri = cx.parts
    if ce.applicable:
        pm = comp.part_mask
        base = ce.mask & useful
        for c, part, o1, o2 in (("BP", bp, ec, ri), ("EC", ec, bp, ri), ("RI", ri, bp, ec)):
            others = base & pm[o1.crit][o1.key] & pm[o2.crit][o2.key]
            if not others:
                continue
            pmc = pm[c]
            mine = pmc[part.key]
            table = sp.parts[c]
            for metric, frm, to, key, dist in sp.neighbours(part):
                pk = pmc[key]
                if not others & pk:
                    continue  # cheap filter: no useful rule can fire
                np_ = table[key]
                same = pk == mine and np_.level == part.level and np_.sys == part.sys
                if same and np_.has_x == part.has_x:
                    continue  # same inputs to every rule: same decision
                trio = {"BP": bp, "EC": ec, "RI": ri, c: np_}
                t_bp, t_ec, t_ri = trio["BP"], trio["EC"], trio["RI"]
                prov = t_bp.has_x or t_ec.has_x or t_ri.has_x
                consider(comp.grade_mask(t_bp, t_ec, t_ri, prov) & ce.mask, metric, frm, to, dist)
    gm = comp.grade_mask(bp, ec, ri, cx.provisional)
    if gm & useful or not ce.applicable:
        for field in prof.context:
            if not comp.ctx_relevant(field):
                continue
            cur = ce.values[field]
            for alt in _context_alternatives(comp, field, cur):
                mask, _ = comp.eval_values({**ce.values, field: alt})
                consider(gm & mask, f"context.{field}", cur, alt, _distance(comp, field, cur, alt))
    res = []
    for r in prof.rules:
        per = found.get(r.index)
        if per:
            res.append(
                {
                    "id": r.id,
                    "title": r.title,
                    "action": r.action,
                    "citation": _cite(r.citation),
                    "adds_obligations": [o for o in r.obligations if o not in cur_obs],
                    "changes": [ch for _, ch in per.values()],
                }
            )
    res.sort(key=lambda n: -ACTIONS.index(n["action"]))
    return res


def _not_in_force(prof: Profile, on: _dt.date) -> _Json:
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


def decide(
    grade: Grade | str,
    context: Mapping[str, Any] | None = None,
    profile: str | Path | Profile | None = None,
    *,
    aware_on: _Date = None,
    notified_on: _Date = None,
    patched_on: _Date = None,
) -> Decision:
    """Decide what ``profile`` requires for ``grade`` in ``context``.

    ``grade`` is a :class:`~jbgrade.Grade` or a JBG vector string; ``context``
    maps the profile's declared context fields to values (missing fields take
    the profile's precautionary default and make the decision provisional);
    ``profile`` is a shipped profile name, a profile file path or a loaded
    :class:`Profile`. Due dates count from ``aware_on`` (default: today);
    obligations whose clock starts at notification or patch use
    ``notified_on`` / ``patched_on`` when given, else the awareness date
    (the earliest those events can happen), and say so.
    """
    if profile is None:
        raise PolicyError(f"decide() needs a profile; available: {', '.join(list_profiles())}")
    prof = load_profile(profile)
    g = _grade(grade, prof)
    aware = _date(aware_on, "aware_on") or _dt.date.today()
    clocks = {
        "notification": _date(notified_on, "notified_on"),
        "patch": _date(patched_on, "patched_on"),
    }
    for name, d in clocks.items():
        if d is not None and d < aware:
            raise PolicyError(f"the {name} date {d} is before the awareness date {aware}")
    comp = prof.compiled
    parts = comp.space.parts_of(g.vector)
    ce = comp.context(context)
    cx = _Ctx(comp, parts, ce)

    def make(action: str, obligations: Any, fired: list[_Json], near: list[_Json]) -> Decision:
        return Decision.model_validate(
            {
                "action": action,
                "obligations": obligations,
                "fired_rules": fired,
                "near_misses": near,
                "provisional": cx.provisional or bool(ce.assumed),
                "profile": prof.id,
                "profile_version": prof.version,
                "bundle_sha256": prof.bundle_sha256,
                "vector": g.vector,
                "aware_on": aware,
                "context": ce.values,
            }
        )

    assumption = _assumption_entry(prof, ce)
    head = [x for x in (_gate_entry(prof, cx), assumption) if x is not None]
    if not prof.in_force(aware):
        return make("none", (), [_not_in_force(prof, aware)], [])
    if not ce.applicable:
        return make("none", (), head, _near_misses(comp, cx, _NONE, 0))
    fired = ce.mask & comp.grade_mask(*parts, cx.provisional)
    if not fired:
        raise PolicyError(
            f"profile {prof.id}: no rule covers {g.vector} in this context "
            "(a coverage gap: run 'jbgrade policy check')",
            path=prof.source,
        )
    out = comp.outcome(fired)
    return make(
        out.action,
        _obligations(prof, out, aware, clocks["notification"], clocks["patch"]),
        head + [_fired_rule(prof.rule(rid), cx) for rid in out.rules],
        _near_misses(comp, cx, out, fired),
    )


_NONE = Outcome("none", 0, (), ())
