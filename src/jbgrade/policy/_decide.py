"""``decide``: grade + context + profile -> Decision, with a full trace.

Deterministic: the same grade, context, dates and profile bundle give the same
decision (see :func:`replay`). The action is the maximum of the fired rules'
actions; obligations are the union of their obligations, with due dates from
the awareness date (or the notification / patch date when given).
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from jbgrade._errors import PolicyError
from jbgrade.policy._compile import Compiled, CtxEval, Outcome, PartInfo
from jbgrade.policy._load import list_profiles, load_profile
from jbgrade.policy._model import (
    DECISION_FORMAT_VERSION,
    Decision,
    FiredRule,
    NearMiss,
    Obligation,
    RuleCitation,
    lazy_decision,
)
from jbgrade.policy._profile import Profile
from jbgrade.policy._spec import Atom, Citation, ObligationSpec, ProfileSpec, RuleSpec
from jbgrade.rubric import SEVERITIES, Grade, Grader

__all__ = ["add_days", "decide", "replay"]

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
    from jbgrade.rubric import VERSIONS, grader_for, tables_for

    v = profile.tables.version
    if v in VERSIONS and profile.tables is tables_for(v):
        return grader_for(v)
    return Grader(profile.tables)


def _grade_version(g: Grade | str) -> str | None:
    if isinstance(g, Grade):
        return g.version
    if isinstance(g, str):
        s = g.strip()
        if s.startswith("JBG:"):
            return s[4:].partition("/")[0]
    return None


def _for_grade(prof: Profile, g: Grade | str) -> Profile:
    """The edition of a shipped profile that reads ``g``'s JBG version.

    The shipped profiles read JBG 1.1 grades; each keeps its JBG 1.0 edition
    (``data/profiles/jbg-1.0/``), which decides 1.0 grades exactly as before 1.1, so
    recorded 1.0 decisions replay and 1.0 grades are still accepted. New work grades
    in 1.1 (``jbgrade migrate`` maps a 1.0 vector). A user's own profile file is never
    swapped: a version mismatch is reported as such.
    """
    ver = _grade_version(g)
    if ver is None or ver == prof.tables.version:
        return prof
    from jbgrade.policy._load import profile_edition

    try:
        cur = profile_edition(prof.id, prof.tables.version)
        ed = profile_edition(prof.id, ver)
    except PolicyError:
        return prof
    if cur is None or ed is None or cur.bundle_sha256 != prof.bundle_sha256:
        return prof
    return ed


def _edition_of(prof: Profile, bundle: object, g: Grade | str) -> Profile:
    """The shipped edition of ``prof`` whose bundle hash is ``bundle`` and which reads
    ``g``'s version (for replaying decisions made under an older edition)."""
    ver = _grade_version(g)
    if ver is None or prof.has_bundle(bundle):
        return prof
    from jbgrade.policy._load import profile_edition

    try:
        cur = profile_edition(prof.id, prof.tables.version)
        ed = profile_edition(prof.id, ver)
    except PolicyError:
        return prof
    if cur is None or cur.bundle_sha256 != prof.bundle_sha256:
        return prof  # a user's own profile is never swapped
    return ed if ed is not None and ed.bundle_sha256 == bundle else prof


def _grade(g: Grade | str, profile: Profile) -> Grade:
    if isinstance(g, Grade):
        if g.version != profile.tables.version:
            raise PolicyError(
                f"grade is JBG {g.version}, profile {profile.id} is for {profile.tables.version}"
                + (" (migrate it: jbgrade migrate VECTOR --to 1.1)" if g.version == "1.0" else "")
            )
        return g
    if not isinstance(g, str):
        raise PolicyError(f"decide() needs a Grade or a vector string, got {type(g).__name__}")
    return _grader(profile).grade(g.strip())


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


def _near_misses(comp: Compiled, cx: _Ctx, out: Outcome, fired: int) -> list[NearMiss]:
    """Rules one change away that would change the decision, with the changes.

    For each rule that does not fire but would change the action or add
    obligations, each input (metric or context field) whose single change fires
    it, with the nearest such change and the whole decision's action after it.
    The NearMiss records are memoised per profile (the key is all they show).
    """
    prof = comp.profile
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
    found: dict[int, dict[str, tuple[float, Any, Any, str]]] = {}  # rule -> input -> change
    outcome = comp.outcome

    def consider(new_fired: int, on: str, frm: Any, to: Any, dist: float) -> None:
        gained = new_fired & useful  # not 0: callers test first (a call per change is dear)
        action = outcome(new_fired).action
        while gained:
            low = gained & -gained
            gained ^= low
            per = found.setdefault(low.bit_length() - 1, {})
            if on not in per or dist < per[on][0]:
                per[on] = (dist, frm, to, action)

    bp, ec, ri = cx.parts
    sp = comp.space
    n = sp.n
    if ce.applicable:
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
                    consider(new, metric, frm, to, dist)
    gm = comp.grade_mask(bp, ec, ri, cx.provisional)
    if gm & useful or not ce.applicable:
        for on, cfrm, cto, cdist, mask in _context_changes(comp, ce):
            if gm & mask & useful:
                consider(gm & mask, on, cfrm, cto, cdist)
    res = []
    memo = _profile_memo(comp)
    for r in prof.rules:
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


# What a decision is: the profile not in force, not applicable, or rules fired.
_NONE = Outcome("none", 0, (), ())
_NOT_IN_FORCE, _NOT_APPLICABLE, _FIRED = 0, 1, 2


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


class _Explainer:
    """What a Decision from :func:`decide` keeps to explain itself on first use.

    Everything here is immutable or append-only memo; explaining later gives
    exactly what explaining at once gives (tests/policy/test_lazy.py checks it
    against the eager engine on random vectors, contexts and dates).
    """

    __slots__ = ("aware", "ce", "comp", "fired", "mode", "out", "parts")

    def __init__(
        self,
        comp: Compiled,
        parts: tuple[PartInfo, PartInfo, PartInfo],
        ce: CtxEval,
        *,
        mode: int,
        out: Outcome,
        fired: int,
        aware: _dt.date,
    ):
        self.comp = comp
        self.parts = parts
        self.ce = ce
        self.mode = mode
        self.out = out
        self.fired = fired
        self.aware = aware

    def fired_rules(self) -> list[FiredRule]:
        comp, ce = self.comp, self.ce
        prof = comp.profile
        if self.mode == _NOT_IN_FORCE:
            return [FiredRule.model_validate(_not_in_force(prof, self.aware))]
        cmemo = _context_memo(ce)
        cx = _Ctx(comp, self.parts, ce)
        head = cmemo.get("head")
        if head is None:
            # Gate and assumption entries test context only: one per context.
            entries = (_gate_entry(prof, cx), _assumption_entry(prof, ce))
            head = cmemo["head"] = tuple(FiredRule.model_validate(x) for x in entries if x)
        res = list(head)
        if self.mode == _FIRED:
            pmemo = _profile_memo(comp)
            parts = self.parts
            for r in prof.rules:
                if not self.fired >> r.index & 1:
                    continue
                has_ctx, spec = _input_spec(comp, r)
                vals: list[Any] = ["rule", r.index]
                for code, ci, pos in spec:
                    if code == 0:
                        vals.append(parts[ci].letters[pos])
                    elif code == 1:
                        vals.append(parts[ci].level)
                    elif code == 2:
                        vals.append(cx.cell)
                    else:
                        vals.append(cx.systemic if code == 3 else cx.provisional)
                key = tuple(vals)
                memo = cmemo if has_ctx else pmemo
                fr = memo.get(key)
                if fr is None:
                    fr = memo[key] = FiredRule.model_validate(_fired_rule(r, cx))
                res.append(fr)
        return res

    def near_misses(self) -> list[NearMiss]:
        if self.mode == _NOT_IN_FORCE:
            return []
        cx = _Ctx(self.comp, self.parts, self.ce)
        return _near_misses(self.comp, cx, self.out, self.fired)


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

    The action, obligations and ``provisional`` are computed here; the
    explanation (``fired_rules``, ``near_misses``) when first read or
    serialised - the same values either way.
    """
    if profile is None:
        raise PolicyError(f"decide() needs a profile; available: {', '.join(list_profiles())}")
    prof = profile if isinstance(profile, Profile) else load_profile(profile)
    prof = _for_grade(prof, grade)
    g = _grade(grade, prof)
    aware = _date(aware_on, "aware_on") or _dt.date.today()
    notified = _date(notified_on, "notified_on") if notified_on is not None else None
    patched = _date(patched_on, "patched_on") if patched_on is not None else None
    for name, d in (("notification", notified), ("patch", patched)):
        if d is not None and d < aware:
            raise PolicyError(f"the {name} date {d} is before the awareness date {aware}")
    comp = prof.compiled
    parts = comp.space.parts_of(g[0])
    ce = comp.context(context)
    bp, ec, ri = parts
    has_x = bp.has_x or ec.has_x or ri.has_x
    obligations: list[Obligation] = []
    out, fired = _NONE, 0
    if not prof.in_force(aware):
        mode, action = _NOT_IN_FORCE, "none"
    elif not ce.applicable:
        mode, action = _NOT_APPLICABLE, "none"
    else:
        mode = _FIRED
        fired = ce.mask & comp.grade_mask(bp, ec, ri, has_x)
        if not fired:
            raise PolicyError(
                f"profile {prof.id}: no rule covers {g[0]} in this context "
                "(a coverage gap: run 'jbgrade policy check')",
                path=prof.source,
            )
        out = comp.outcome(fired)
        action = out.action
        if out.obligations:
            obligations = list(
                _concrete_obligations(
                    comp, out, fired, aware=aware, notified=notified, patched=patched
                )
            )
    return lazy_decision(
        {
            "format_version": DECISION_FORMAT_VERSION,
            "action": action,
            "obligations": obligations,
            "provisional": has_x or bool(ce.assumed),
            "profile": prof.id,
            "profile_version": prof.version,
            "bundle_sha256": prof.bundle_sha256,
            "vector": g[0],
            "aware_on": aware,
            "context": dict(ce.values),
        },
        _Explainer(comp, parts, ce, mode=mode, out=out, fired=fired, aware=aware),
    )


def decide_all(
    grade: Grade | str,
    context: Mapping[str, Any] | None = None,
    profiles: Iterable[str | Path | Profile] | None = None,
    **dates: _Date,
) -> dict[str, Decision]:
    """Decide under several profiles (default: every shipped one), by profile id."""
    refs = list(profiles) if profiles is not None else list_profiles()
    out: dict[str, Decision] = {}
    for ref in refs:
        d = decide(grade, context, ref, **dates)
        out[d.profile] = d
    return out


def replay(
    decision: Decision | Mapping[str, Any],
    grade: Grade | str,
    context: Mapping[str, Any] | None = None,
    profile: str | Path | Profile | None = None,
    **dates: _Date,
) -> Decision:
    """Recompute a recorded decision and check it is the same.

    Raises :class:`~jbgrade.PolicyError` when the profile's bundle hash differs
    from the recorded one (a different policy: not a replay) or when the
    recomputed decision differs. Returns the recomputed decision.
    """
    rec = decision.to_dict() if isinstance(decision, Decision) else dict(decision)
    prof = load_profile(profile if profile is not None else rec.get("profile", ""))
    prof = _edition_of(prof, rec.get("bundle_sha256"), grade)
    if not prof.has_bundle(rec.get("bundle_sha256")):
        raise PolicyError(
            f"bundle mismatch: decision was made with {str(rec.get('bundle_sha256'))[:16]}..., "
            f"profile {prof.id} {prof.version} is {prof.bundle_sha256[:16]}..."
        )
    again = decide(grade, context, prof, **dates)
    # A decision recorded under bundle format 1 carries that hash of the same bundle.
    if {**again.to_dict(), "bundle_sha256": rec.get("bundle_sha256")} != rec:
        raise PolicyError(f"replay differs from the recorded decision under {prof.id}")
    return again
