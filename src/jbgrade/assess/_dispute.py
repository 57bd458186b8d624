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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from itertools import combinations
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from jbgrade._errors import InputError
from jbgrade.assess._decider import Decider, Outcome, action_order, outcome_of
from jbgrade.assess._merge import MergedMetric
from jbgrade.policy import Decision
from jbgrade.rubric import SEVERITIES, Grade, Vector, default_tables, grade

__all__ = [
    "MAX_ITEMS",
    "Citation",
    "Difference",
    "DisputeSide",
    "ItemEffect",
    "PartySummary",
    "ProfileComparison",
    "Reconciliation",
    "Settlement",
    "SettlingAgreement",
    "dispute",
]

#: Items (differing metrics + context facts) analysed exhaustively: 2^13 points and
#: 3^13 (1.6M) partial assignments per profile, a few seconds; all 11 metrics plus two
#: context facts fit.
MAX_ITEMS = 13


@dataclass
class DisputeSide:
    """One party's assessment, reduced to what a dispute needs."""

    assessor: str
    organisation: str
    role: str
    case_id: str
    source: str
    sha256: str
    vector: Vector
    aware_on: date
    context: dict[str, Any]
    profiles: list[str]
    metrics: dict[str, MergedMetric] = field(default_factory=dict)
    evidence: dict[str, str] = field(default_factory=dict)  # evidence id -> description

    @property
    def party(self) -> str:
        return f"{self.organisation}, {self.assessor}"


class _R(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Citation(_R):
    """What one side cites for its value of a disputed item."""

    value: str = Field(description="The side's value.")
    source: str = Field(description="measured, assessor, both, none or context.")
    rationale: str | None = Field(default=None, description="The assessor's reasons.")
    evidence: list[str] = Field(
        default_factory=list, description="Evidence cited (resolved to descriptions where known)."
    )
    measured: str | None = Field(default=None, description="The measurement behind it, if any.")


class ItemEffect(_R):
    """An item's effect under one profile."""

    profile: str
    changes_action: bool = Field(description="Can change the action in some combination.")
    changes_obligations: bool = Field(description="Can change the obligations in some combination.")
    swap_from_a: str = Field(description="Action when only this item takes B's value.")
    swap_from_b: str = Field(description="Action when only this item takes A's value.")
    swap_changes_action: bool = Field(
        description="Swapping this item alone (from either side) changes the action."
    )
    swap_changes_obligations: bool = Field(
        description="Swapping this item alone (from either side) changes the obligations."
    )


class Difference(_R):
    """One item on which the parties differ, and what it changes."""

    item: str = Field(description="Metric key, or 'context.<key>' for a policy-context fact.")
    kind: Literal["metric", "context"]
    name: str
    a: Citation
    b: Citation
    changes_label: bool = Field(description="Can change the label in some combination.")
    swap_label_from_a: str = Field(description="Label when only this item takes B's value.")
    swap_label_from_b: str = Field(description="Label when only this item takes A's value.")
    swap_score_from_a: float
    swap_score_from_b: float
    effects: list[ItemEffect]
    changes_nothing: bool = Field(
        description="Changes neither label, action nor obligations under any profile, in any "
        "combination: not worth arguing about."
    )
    verdict: str = Field(description="One sentence for people.")


class SettlingAgreement(_R):
    """Agreeing on these items (at these values) settles the action."""

    agree: dict[str, str] = Field(description="Item -> agreed value.")
    sides: dict[str, Literal["A", "B"]] = Field(description="Item -> whose value that is.")
    outcome: str = Field(description="The action that follows whatever the rest is.")


class Settlement(_R):
    """What it takes to settle the action (or label) under one profile."""

    profile: str
    possible: list[str] = Field(description="Outcomes reachable by some combination.")
    settled: bool = Field(description="Already the same whatever the differences.")
    decisive: list[str] = Field(
        description="The items the outcome depends on; agreeing on all of them settles it."
    )
    smallest: int = Field(description="Size of the smallest settling agreement.")
    agreements: list[SettlingAgreement] = Field(
        description="Every smallest settling agreement (up to 12)."
    )
    table: list[SettlingAgreement] = Field(
        default_factory=list,
        description="The outcome for every combination of the decisive items (when there "
        "are at most 5): a decision table the parties can read at a glance.",
    )


class ProfileComparison(_R):
    """The two sides' decisions under one profile, as each side assessed."""

    profile: str
    title: str
    version: str | None
    action_a: str
    action_b: str
    same_action: bool
    obligations_only_a: list[dict[str, str]]
    obligations_only_b: list[dict[str, str]]


class PartySummary(_R):
    side: Literal["A", "B"]
    assessor: str
    organisation: str
    role: str
    case_id: str
    source: str
    sha256: str
    vector: str
    score: float
    label: str
    provisional: bool
    systemic: bool
    aware_on: date


class Reconciliation(_R):
    """A dispute analysed; storable on the case (format 1)."""

    format_version: Literal[1] = 1
    kind: Literal["jbgrade-reconciliation"] = "jbgrade-reconciliation"
    created_at: datetime
    case_id: str
    status: Literal["open", "settled"] = Field(
        description="settled when both sides reach the same label and the same decision "
        "under every profile."
    )
    parties: list[PartySummary]
    aware_on_used: date = Field(description="Awareness date used for due dates (the earlier).")
    profiles: list[ProfileComparison]
    differences: list[Difference]
    unchanged: list[str] = Field(description="Items that change nothing.")
    settle_action: list[Settlement]
    settle_label: Settlement
    summary: list[str] = Field(description="The findings in a few sentences.")
    agreed: dict[str, str] = Field(
        default_factory=dict,
        description="Values the parties have since agreed on (filled in by the parties).",
    )
    inputs_sha256: str = Field(description="SHA-256 over both sides' sources.")


@dataclass
class _Item:
    key: str
    kind: Literal["metric", "context"]
    name: str
    a: Any
    b: Any


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


def _table(
    decisive: Sequence[int],
    outcome_index: Sequence[int],
    names: Sequence[str],
    items: Sequence[_Item],
) -> list[SettlingAgreement]:
    """The outcome for each combination of the decisive items (the rest do not matter)."""
    rows = []
    for assign in range(1 << len(decisive)):
        mask = 0
        agree: dict[str, str] = {}
        sides: dict[str, Literal["A", "B"]] = {}
        for j, i in enumerate(decisive):
            side_b = (assign >> j) & 1
            mask |= side_b << i
            agree[items[i].key] = _show(items[i].b if side_b else items[i].a)
            sides[items[i].key] = "B" if side_b else "A"
        rows.append(SettlingAgreement(agree=agree, sides=sides, outcome=names[outcome_index[mask]]))
    return rows


def _settle(
    n: int, outcome_index: Sequence[int], names: Sequence[str], items: Sequence[_Item]
) -> tuple[list[str], int, list[SettlingAgreement], list[SettlingAgreement]]:
    """Decisive items, smallest agreement size, the smallest agreements, decision table."""
    points = 1 << n
    decisive_idx = [
        i
        for i in range(n)
        if any(
            outcome_index[m] != outcome_index[m | (1 << i)]
            for m in range(points)
            if not m & (1 << i)
        )
    ]
    decisive = [items[i].key for i in decisive_idx]
    table = _table(decisive_idx, outcome_index, names, items) if 0 < len(decisive_idx) <= 5 else []
    # Patterns in base 3: digit 0 = A's value, 1 = B's value, 2 = free. The set of
    # reachable outcomes of a pattern (as a bitmask) is the union over its first free digit.
    pow3 = [3**i for i in range(n)]
    sets = [0] * (3**n)
    for p in range(3**n):
        q, i, free = p, 0, -1
        bits = 0
        while i < n:
            d = q % 3
            if d == 2:
                free = i
                break
            bits |= d << i
            q //= 3
            i += 1
        if free < 0:
            sets[p] = 1 << outcome_index[bits]
        else:
            sets[p] = sets[p - 2 * pow3[free]] | sets[p - pow3[free]]
    best: list[SettlingAgreement] = []
    smallest = n
    for k in range(n + 1):
        for subset in combinations(range(n), k):
            for assign in range(1 << k):
                p = 2 * sum(pow3)  # everything free
                for j, i in enumerate(subset):
                    p -= (2 - ((assign >> j) & 1)) * pow3[i]
                s = sets[p]
                if s & (s - 1) == 0:  # exactly one outcome reachable
                    out = names[s.bit_length() - 1]
                    agree = {}
                    sides: dict[str, Literal["A", "B"]] = {}
                    for j, i in enumerate(subset):
                        side_b = (assign >> j) & 1
                        it = items[i]
                        agree[it.key] = _show(it.b if side_b else it.a)
                        sides[it.key] = "B" if side_b else "A"
                    if len(best) < 12:
                        best.append(SettlingAgreement(agree=agree, sides=sides, outcome=out))
        if best:
            smallest = k
            break
    return decisive, smallest, best, table


def _show(v: Any) -> str:
    return v if isinstance(v, str) else json.dumps(v)


def dispute(a: DisputeSide, b: DisputeSide, decider: Decider) -> Reconciliation:
    """Analyse the differences between two assessments of one case."""
    tables = default_tables()
    items: list[_Item] = [
        _Item(m.key, "metric", m.name, a.vector[m.key], b.vector[m.key])
        for m in tables.metrics
        if a.vector[m.key] != b.vector[m.key]
    ]
    fa, fb = _flatten(a.context), _flatten(b.context)
    for k in sorted(set(fa) | set(fb)):
        if fa.get(k) != fb.get(k):
            items.append(_Item(f"context.{k}", "context", k, fa.get(k), fb.get(k)))
    n = len(items)
    if n > MAX_ITEMS:
        raise InputError(
            f"{n} differing items ({', '.join(i.key for i in items)}); at most {MAX_ITEMS} can "
            "be analysed exhaustively: agree on some context facts first"
        )
    aware = min(a.aware_on, b.aware_on)
    profiles = list(dict.fromkeys([*a.profiles, *b.profiles]))
    known = set(decider.profiles())
    profiles = [p for p in profiles if p in known] or list(decider.profiles())

    grade_cache: dict[str, Grade] = {}
    letters_a = dict(a.vector.items())
    points = 1 << n
    grades: list[Grade] = []
    contexts: list[dict[str, Any]] = []
    for mask in range(points):
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

    outcomes: dict[str, list[Outcome]] = {}
    decisions_ab: dict[str, tuple[Decision, Decision]] = {}
    for p in profiles:
        cache: dict[tuple[str, str], Outcome] = {}
        row: list[Outcome] = []
        for mask in range(points):
            key = (grades[mask].vector, ctx_keys[mask])
            o = cache.get(key)
            if o is None:
                o = cache[key] = decider.outcome(p, grades[mask], contexts[mask], aware)
            row.append(o)
        outcomes[p] = row
        decisions_ab[p] = (
            decider.decide(p, grades[0], contexts[0], aware),
            decider.decide(p, grades[points - 1], contexts[points - 1], aware),
        )

    full = points - 1
    labels = [g.severity for g in grades]

    def can_change(values: Sequence[Any], i: int) -> bool:
        bit = 1 << i
        return any(values[m] != values[m | bit] for m in range(points) if not m & bit)

    differences: list[Difference] = []
    unchanged: list[str] = []
    for i, it in enumerate(items):
        bit = 1 << i
        sa, sb = bit, full & ~bit  # swap from A: only i at B; swap from B: only i at A
        effects = []
        any_change = False
        label_change = can_change(labels, i)
        for p in profiles:
            row = outcomes[p]
            acts = [o.action for o in row]
            obls = [o.obligations for o in row]
            ca, co = can_change(acts, i), can_change(obls, i)
            any_change |= ca or co
            effects.append(
                ItemEffect(
                    profile=p,
                    changes_action=ca,
                    changes_obligations=co,
                    swap_from_a=row[sa].action,
                    swap_from_b=row[sb].action,
                    swap_changes_action=row[sa].action != row[0].action
                    or row[sb].action != row[full].action,
                    swap_changes_obligations=row[sa].obligations != row[0].obligations
                    or row[sb].obligations != row[full].obligations,
                )
            )
        nothing = not label_change and not any_change
        if nothing:
            unchanged.append(it.key)
            verdict = (
                f"{it.key} ({_show(it.a)} vs {_show(it.b)}) changes neither the label nor any "
                "decision in any combination: no need to argue about it."
            )
        else:
            moved = [e.profile for e in effects if e.changes_action]
            parts = []
            if label_change:
                parts.append("the label")
            if moved:
                parts.append("the action under " + ", ".join(moved))
            obl_only = [
                e.profile for e in effects if e.changes_obligations and not e.changes_action
            ]
            if obl_only:
                parts.append("the obligations under " + ", ".join(obl_only))
            verdict = (
                f"{it.key} ({_show(it.a)} vs {_show(it.b)}) can change " + "; ".join(parts) + "."
                if parts
                else f"{it.key} changes only the score."
            )
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
                verdict=verdict,
            )
        )

    settle_action: list[Settlement] = []
    for p in profiles:
        acts = [o.action for o in outcomes[p]]
        names = sorted(set(acts), key=action_order)
        idx = [names.index(x) for x in acts]
        dec, size, agreements, table = _settle(n, idx, names, items)
        settle_action.append(
            Settlement(
                profile=p,
                possible=names,
                settled=len(names) == 1,
                decisive=dec,
                smallest=size,
                agreements=agreements,
                table=table,
            )
        )
    lnames = sorted(set(labels), key=SEVERITIES.index)
    dec, size, agreements, table = _settle(n, [lnames.index(x) for x in labels], lnames, items)
    settle_label = Settlement(
        profile="(label)",
        possible=lnames,
        settled=len(lnames) == 1,
        decisive=dec,
        smallest=size,
        agreements=agreements,
        table=table,
    )

    comparisons = []
    for p in profiles:
        da, db = decisions_ab[p]
        oa, ob = outcome_of(da), outcome_of(db)
        comparisons.append(
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
    ga, gb = grades[0], grades[full]
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
        created_at=datetime.now(UTC),
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
