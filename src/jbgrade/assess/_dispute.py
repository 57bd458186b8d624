"""Disputes: which differences between two assessments actually matter?

Two parties grade the same case. Every metric (and policy-context fact) on
which they differ is an *item*; each item takes side A's or side B's value, so
the combinations form a cube of 2^n points (n <= 11 metrics plus a few
context facts). We evaluate the label and, under every profile, the decision
at every point, then read off:

- for each item, whether swapping it alone (from A's position, and from B's)
  changes the label, the action or the obligations, and whether it can change
  them in *any* combination (an item that cannot is shown as changing
  nothing: the parties can stop arguing about it);
- the *decisive* items per profile: the action depends on these and on no
  other item, so agreeing on them settles the action whatever is concluded on
  the rest;
- the *smallest agreements* per profile: the fewest items that, fixed at one
  side's value, make the action the same whatever the other items are. This is
  found exhaustively over every subset and assignment with a dynamic
  programme over the 3^n patterns (A, B or free per item).

Obligation due dates are computed from the earlier awareness date of the two
sides, so a difference in dates never masquerades as a difference in duty.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal

from jbgrade._errors import InputError
from jbgrade.assess._decider import Decider, Outcome, action_order, outcome_of
from jbgrade.assess._dispute_records import (
    Citation,
    Difference,
    DisputeSide,
    ItemEffect,
    PartySummary,
    ProfileComparison,
    Reconciliation,
    Settlement,
    SettlingAgreement,
)
from jbgrade.assess._settle import _Item, _settle, _show
from jbgrade.policy import Decision
from jbgrade.rubric import SEVERITIES, Grade, Tables, grade

__all__ = ["MAX_ITEMS", "Clock", "dispute"]

#: Items (differing metrics + context facts) analysed exhaustively: 2^13 points and
#: 3^13 (1.6M) partial assignments per profile, a few seconds; all 11 metrics plus two
#: context facts fit.
MAX_ITEMS = 13


def _flatten(ctx: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in ctx.items():
        if isinstance(v, Mapping):
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def _unflatten(flat: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in flat.items():
        cur = out
        parts = k.split(".")
        for p in parts[:-1]:
            cur = cur.setdefault(p, {})
        cur[parts[-1]] = v
    return out


def _citation(side: DisputeSide, it: _Item, value: Any) -> Citation:
    if it.kind == "context":
        return Citation(value=json.dumps(value), source="context")
    mm = side.metrics.get(it.key)
    if mm is None:
        return Citation(value=str(value), source="assessor")
    ev = [
        f"{e}: {side.evidence[e]}" if e in side.evidence else e
        for e in (mm.hand.evidence if mm.hand else [])
    ]
    return Citation(
        value=str(value),
        source=mm.source,
        rationale=mm.hand.rationale if mm.hand else None,
        evidence=ev,
        measured=(
            f"{mm.measured.value}: {mm.measured.summary}" if mm.measured is not None else None
        ),
    )


#: Where a reconciliation's ``created_at`` comes from (injectable: tests, replays).
Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _items(a: DisputeSide, b: DisputeSide) -> tuple[list[_Item], dict[str, Any]]:
    """Phase 1: the items the sides differ on (metrics, then context facts), and A's
    flattened context."""
    tables = a.vector.tables
    if b.vector.tables.version != tables.version:
        raise InputError(
            f"the two assessments use different JBG versions ({tables.version} and "
            f"{b.vector.tables.version}): migrate the 1.0 one (jbgrade migrate)"
        )
    items: list[_Item] = [
        _Item(m.key, "metric", m.name, a.vector[m.key], b.vector[m.key])
        for m in tables.metrics
        if a.vector[m.key] != b.vector[m.key]
    ]
    fa, fb = _flatten(a.context), _flatten(b.context)
    for k in sorted(set(fa) | set(fb)):
        if fa.get(k) != fb.get(k):
            items.append(_Item(f"context.{k}", "context", k, fa.get(k), fb.get(k)))
    if len(items) > MAX_ITEMS:
        raise InputError(
            f"{len(items)} differing items ({', '.join(i.key for i in items)}); at most "
            f"{MAX_ITEMS} can be analysed exhaustively: agree on some context facts first"
        )
    return items, fa


@dataclass(frozen=True)
class _Cube:
    """Every combination of the items (bit i set: item i takes B's value)."""

    items: list[_Item]
    grades: list[Grade]
    contexts: list[dict[str, Any]]
    ctx_keys: list[str]

    @property
    def points(self) -> int:
        return len(self.grades)

    @property
    def full(self) -> int:
        return self.points - 1

    @property
    def labels(self) -> list[str]:
        return [g.severity for g in self.grades]

    def can_change(self, values: Sequence[Any], i: int) -> bool:
        bit = 1 << i
        return any(values[m] != values[m | bit] for m in range(self.points) if not m & bit)


def _cube(items: list[_Item], a: DisputeSide, fa: dict[str, Any], tables: Tables) -> _Cube:
    """Phase 2: grade every combination (and build its context)."""
    grade_cache: dict[str, Grade] = {}
    letters_a = dict(a.vector.items())
    grades: list[Grade] = []
    contexts: list[dict[str, Any]] = []
    for mask in range(1 << len(items)):
        letters = dict(letters_a)
        ctx = dict(fa)
        for i, it in enumerate(items):
            v = it.b if mask >> i & 1 else it.a
            if it.kind == "metric":
                letters[it.key] = v
            elif v is None:
                ctx.pop(it.name, None)
            else:
                ctx[it.name] = v
        vec = tables.prefix + "/".join(f"{k}:{letters[k]}" for k in letters)
        g = grade_cache.get(vec)
        if g is None:
            g = grade_cache[vec] = grade(vec)
        grades.append(g)
        contexts.append(_unflatten(ctx))
    ctx_keys = [json.dumps(c, sort_keys=True, default=str) for c in contexts]
    return _Cube(items, grades, contexts, ctx_keys)


def _outcomes(
    cube: _Cube, profiles: list[str], decider: Decider, aware: date
) -> tuple[dict[str, list[Outcome]], dict[str, tuple[Decision, Decision]]]:
    """Phase 3: the outcome under every profile at every point, and each side's decision."""
    outcomes: dict[str, list[Outcome]] = {}
    decisions_ab: dict[str, tuple[Decision, Decision]] = {}
    g, c = cube.grades, cube.contexts
    for p in profiles:
        cache: dict[tuple[str, str], Outcome] = {}
        row: list[Outcome] = []
        for mask in range(cube.points):
            key = (g[mask].vector, cube.ctx_keys[mask])
            o = cache.get(key)
            if o is None:
                o = cache[key] = decider.outcome(p, g[mask], c[mask], aware)
            row.append(o)
        outcomes[p] = row
        decisions_ab[p] = (
            decider.decide(p, g[0], c[0], aware),
            decider.decide(p, g[cube.full], c[cube.full], aware),
        )
    return outcomes, decisions_ab


def _verdict(it: _Item, label_change: bool, effects: list[ItemEffect]) -> str:
    if not label_change and not any(e.changes_action or e.changes_obligations for e in effects):
        return (
            f"{it.key} ({_show(it.a)} vs {_show(it.b)}) changes neither the label nor any "
            "decision in any combination: no need to argue about it."
        )
    moved = [e.profile for e in effects if e.changes_action]
    parts = []
    if label_change:
        parts.append("the label")
    if moved:
        parts.append("the action under " + ", ".join(moved))
    obl_only = [e.profile for e in effects if e.changes_obligations and not e.changes_action]
    if obl_only:
        parts.append("the obligations under " + ", ".join(obl_only))
    if not parts:
        return f"{it.key} changes only the score."
    return f"{it.key} ({_show(it.a)} vs {_show(it.b)}) can change " + "; ".join(parts) + "."


def _differences(
    cube: _Cube, outcomes: dict[str, list[Outcome]], a: DisputeSide, b: DisputeSide
) -> tuple[list[Difference], list[str]]:
    """Phase 4: what each item can change, alone and in any combination."""
    differences: list[Difference] = []
    unchanged: list[str] = []
    full, labels, grades = cube.full, cube.labels, cube.grades
    for i, it in enumerate(cube.items):
        bit = 1 << i
        sa, sb = bit, full & ~bit  # swap from A: only i at B; swap from B: only i at A
        effects = []
        for p, row in outcomes.items():
            effects.append(
                ItemEffect(
                    profile=p,
                    changes_action=cube.can_change([o.action for o in row], i),
                    changes_obligations=cube.can_change([o.obligations for o in row], i),
                    swap_from_a=row[sa].action,
                    swap_from_b=row[sb].action,
                    swap_changes_action=row[sa].action != row[0].action
                    or row[sb].action != row[full].action,
                    swap_changes_obligations=row[sa].obligations != row[0].obligations
                    or row[sb].obligations != row[full].obligations,
                )
            )
        label_change = cube.can_change(labels, i)
        nothing = not label_change and not any(
            e.changes_action or e.changes_obligations for e in effects
        )
        if nothing:
            unchanged.append(it.key)
        differences.append(
            Difference(
                item=it.key,
                kind=it.kind,
                name=it.name,
                a=_citation(a, it, it.a),
                b=_citation(b, it, it.b),
                changes_label=label_change,
                swap_label_from_a=labels[sa],
                swap_label_from_b=labels[sb],
                swap_score_from_a=grades[sa].score,
                swap_score_from_b=grades[sb].score,
                effects=effects,
                changes_nothing=nothing,
                verdict=_verdict(it, label_change, effects),
            )
        )
    return differences, unchanged


def _settlement(
    profile: str, values: list[str], order: Callable[[str], int], cube: _Cube
) -> Settlement:
    names = sorted(set(values), key=order)
    dec, size, agreements, table = _settle(
        len(cube.items), [names.index(x) for x in values], names, cube.items
    )
    return Settlement(
        profile=profile,
        possible=names,
        settled=len(names) == 1,
        decisive=dec,
        smallest=size,
        agreements=agreements,
        table=table,
    )


def _comparisons(
    decisions_ab: dict[str, tuple[Decision, Decision]], decider: Decider
) -> list[ProfileComparison]:
    """Phase 6: each side's own decision under each profile, side by side."""
    out = []
    for p, (da, db) in decisions_ab.items():
        oa, ob = outcome_of(da), outcome_of(db)
        out.append(
            ProfileComparison(
                profile=p,
                title=decider.title(p),
                version=da.profile_version or None,
                action_a=oa.action,
                action_b=ob.action,
                same_action=oa.action == ob.action,
                obligations_only_a=_obl(oa.obligations - ob.obligations),
                obligations_only_b=_obl(ob.obligations - oa.obligations),
            )
        )
    return out


def dispute(
    a: DisputeSide, b: DisputeSide, decider: Decider, *, clock: Clock = _utc_now
) -> Reconciliation:
    """Analyse the differences between two assessments of one case.

    In phases: the differing items; every combination graded; the outcome under
    every profile at every point; what each item can change; the smallest
    settling agreements (per profile and for the label); each side's decisions
    side by side. ``clock`` gives ``created_at`` (inject one for reproducible
    records).
    """
    items, fa = _items(a, b)
    aware = min(a.aware_on, b.aware_on)
    known = set(decider.profiles())
    profiles = [p for p in dict.fromkeys([*a.profiles, *b.profiles]) if p in known]
    profiles = profiles or list(decider.profiles())
    cube = _cube(items, a, fa, a.vector.tables)
    outcomes, decisions_ab = _outcomes(cube, profiles, decider, aware)
    differences, unchanged = _differences(cube, outcomes, a, b)
    settle_action = [
        _settlement(p, [o.action for o in outcomes[p]], action_order, cube) for p in profiles
    ]
    settle_label = _settlement("(label)", cube.labels, SEVERITIES.index, cube)
    comparisons = _comparisons(decisions_ab, decider)
    ga, gb = cube.grades[0], cube.grades[cube.full]
    settled = ga.severity == gb.severity and all(
        c.same_action and not c.obligations_only_a and not c.obligations_only_b for c in comparisons
    )
    summary = _summary(
        a=a,
        b=b,
        ga=ga,
        gb=gb,
        comparisons=comparisons,
        differences=differences,
        settle_action=settle_action,
        settle_label=settle_label,
    )
    digest = hashlib.sha256((a.sha256 + b.sha256).encode()).hexdigest()
    return Reconciliation(
        created_at=clock(),
        case_id=a.case_id if a.case_id == b.case_id else f"{a.case_id} / {b.case_id}",
        status="settled" if settled else "open",
        parties=[_party("A", a, ga), _party("B", b, gb)],
        aware_on_used=aware,
        profiles=comparisons,
        differences=differences,
        unchanged=unchanged,
        settle_action=settle_action,
        settle_label=settle_label,
        summary=summary,
        inputs_sha256=digest,
    )


def _obl(obs: frozenset[tuple[str, str, str]]) -> list[dict[str, str]]:
    return [{"party": p, "what": w, "due": d} for p, w, d in sorted(obs)]


def _party(side: Literal["A", "B"], s: DisputeSide, g: Grade) -> PartySummary:
    return PartySummary(
        side=side,
        assessor=s.assessor,
        organisation=s.organisation,
        role=s.role,
        case_id=s.case_id,
        source=s.source,
        sha256=s.sha256,
        vector=g.vector,
        score=g.score,
        label=g.severity,
        provisional=g.provisional,
        systemic=g.systemic,
        aware_on=s.aware_on,
    )


def _agreement_text(ag: SettlingAgreement) -> str:
    return ", ".join(f"{k}={v} ({ag.sides[k]}'s)" for k, v in ag.agree.items())


def _summary(
    *,
    a: DisputeSide,
    b: DisputeSide,
    ga: Grade,
    gb: Grade,
    comparisons: Sequence[ProfileComparison],
    differences: Sequence[Difference],
    settle_action: Sequence[Settlement],
    settle_label: Settlement,
) -> list[str]:
    lines = [
        f"A ({a.party}) grades {ga.severity} {ga.score:.1f}; "
        f"B ({b.party}) grades {gb.severity} {gb.score:.1f}.",
    ]
    if not differences:
        lines.append("The two assessments do not differ.")
        return lines
    lines.append(
        f"They differ on {len(differences)} item(s): "
        + ", ".join(d.item for d in differences)
        + "."
    )
    for c, st in zip(comparisons, settle_action, strict=True):
        if c.same_action and st.settled:
            lines.append(f"{c.profile}: both lead to {c.action_a}; no difference changes that.")
            continue
        head = (
            f"{c.profile}: A -> {c.action_a}, B -> {c.action_b}."
            if not c.same_action
            else f"{c.profile}: both lead to {c.action_a}, but other combinations differ."
        )
        if st.settled:
            lines.append(head)
            continue
        moves = ", ".join(st.decisive) or "none"
        options = [ag for ag in st.agreements if ag.agree][:3]
        tail = (
            " Smallest agreement that settles it: "
            + " or ".join(f"{_agreement_text(ag)} -> {ag.outcome}" for ag in options)
            + "."
            if options
            else ""
        )
        lines.append(f"{head} The action turns on {moves}.{tail}")
    if not settle_label.settled:
        lines.append("The label turns on " + ", ".join(settle_label.decisive) + ".")
    idle = [d.item for d in differences if d.changes_nothing]
    if idle:
        lines.append("Changes nothing (stop arguing): " + ", ".join(idle) + ".")
    return lines
