"""The dispute analysis against brute force, with a small independent rule table.

The real policy profiles are exercised in test_dispute.py; here the decision rule is a
deliberately simple table so every answer can be recomputed naively.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import pytest

from jbgrade.assess import DisputeSide, Outcome, dispute, outcome_of
from jbgrade.policy import Decision
from jbgrade.rubric import Grade, default_tables, parse_vector

RANK = ("none", "monitor", "mitigate", "restrict_export", "block_deployment")


class TableDecider:
    """action by label, raised for W/C domains on closed weights; one obligation per action."""

    def profiles(self) -> Sequence[str]:
        return ["strict", "lenient"]

    def title(self, profile: str) -> str:
        return profile

    def decide(
        self, profile: str, grade: Grade, context: Mapping[str, Any], aware_on: date
    ) -> Decision:
        idx = {"None": 0, "Low": 0, "Medium": 1, "High": 2, "Critical": 4}[grade.severity]
        if (
            profile == "strict"
            and grade.letters["HD"] in "WCX"
            and context.get("weights") != "open"
        ):
            idx = max(idx, 3)
        if profile == "lenient":
            idx = max(0, idx - 1)
        obs = [{"party": "vendor", "what": f"do {RANK[idx]}", "due": aware_on.isoformat()}]
        if grade.systemic:
            obs.append({"party": "regulator", "what": "review", "due": aware_on.isoformat()})
        # Decider returns a Decision (report format 2); fill the fields a dispute ignores.
        full = [
            {
                "id": f"o{i}",
                **o,
                "kind": "notify",
                "clock": "awareness",
                "clock_start": aware_on.isoformat(),
                "days": 0,
                "calendar": "calendar",
                "rules": [],
                "citation": {},
            }
            for i, o in enumerate(obs)
        ]
        return Decision.model_validate(
            {
                "action": RANK[idx],
                "obligations": full,
                "fired_rules": [],
                "near_misses": [],
                "provisional": False,
                "profile": profile,
                "profile_version": "1",
                "bundle_sha256": "0" * 64,
            }
        )

    def outcome(
        self, profile: str, grade: Grade, context: Mapping[str, Any], aware_on: date
    ) -> Outcome:
        return outcome_of(self.decide(profile, grade, context, aware_on))


def side(vector: str, ctx: dict[str, Any], aware: date) -> DisputeSide:
    return DisputeSide(
        assessor="x",
        organisation="org",
        role="lab",
        case_id="c",
        source="s",
        sha256="0" * 64,
        vector=parse_vector(vector),
        aware_on=aware,
        context=ctx,
        profiles=[],
    )


A = "JBG:1.0/LY:S/UN:N/RL:M/TR:S/HD:S/UP:P/AG:T/AC:M/AU:N/EX:P/ST:U"
B = "JBG:1.0/LY:C/UN:U/RL:H/TR:M/HD:W/UP:F/AG:T/AC:M/AU:Y/EX:P/ST:P"


def brute(a: DisputeSide, b: DisputeSide, profile: str) -> tuple[set[str], int, dict[Any, str]]:
    """Decisive items and the smallest settling agreement size, by enumeration."""
    d = TableDecider()
    t = default_tables()
    keys = [m.key for m in t.metrics if a.vector[m.key] != b.vector[m.key]]
    ctx_keys = sorted(
        k for k in set(a.context) | set(b.context) if a.context.get(k) != b.context.get(k)
    )
    items = keys + [f"context.{k}" for k in ctx_keys]
    n = len(items)
    aware = min(a.aware_on, b.aware_on)

    def act(choice: Sequence[int]) -> str:
        letters = dict(a.vector.items())
        ctx = dict(a.context)
        for it, c in zip(items, choice, strict=True):
            src = b if c else a
            if it.startswith("context."):
                ctx[it[8:]] = src.context.get(it[8:])
            else:
                letters[it] = src.vector[it]
        from jbgrade.rubric import grade

        g = grade(t.prefix + "/".join(f"{k}:{v}" for k, v in letters.items()))
        return str(d.decide(profile, g, ctx, aware).action)

    table = {c: act(c) for c in itertools.product((0, 1), repeat=n)}
    decisive = {
        items[i]
        for i in range(n)
        for c in table
        if c[i] == 0 and table[c] != table[(*c[:i], 1, *c[i + 1 :])]
    }
    for k in range(n + 1):
        for sub in itertools.combinations(range(n), k):
            for assign in itertools.product((0, 1), repeat=k):
                outs = {
                    v
                    for c, v in table.items()
                    if all(c[i] == x for i, x in zip(sub, assign, strict=True))
                }
                if len(outs) == 1:
                    return decisive, k, table
    raise AssertionError("unreachable")


@pytest.mark.parametrize(
    ("va", "vb", "ca", "cb"),
    [
        (A, B, {"weights": "closed"}, {"weights": "closed"}),
        (A, B, {"weights": "open"}, {"weights": "closed"}),
        (A, A.replace("AG:T", "AG:A"), {}, {}),
        (A, A, {}, {}),
        (
            "JBG:1.0/LY:M/UN:N/RL:L/TR:S/HD:G/UP:N/AG:T/AC:H/AU:N/EX:R/ST:U",
            "JBG:1.0/LY:F/UN:U/RL:H/TR:M/HD:C/UP:F/AG:A/AC:L/AU:Y/EX:O/ST:A",
            {},
            {"weights": "open"},
        ),
    ],
)
def test_matches_brute_force(va: str, vb: str, ca: dict[str, Any], cb: dict[str, Any]) -> None:
    a = side(va, ca, date(2026, 6, 12))
    b = side(vb, cb, date(2026, 6, 10))
    rec = dispute(a, b, TableDecider())
    assert rec.aware_on_used == date(2026, 6, 10)
    for st in rec.settle_action:
        decisive, smallest, table = brute(a, b, st.profile)
        assert set(st.decisive) == decisive
        assert st.smallest == smallest
        assert st.settled == (len(set(table.values())) == 1)
        assert st.agreements, st
        for ag in st.agreements:
            assert len(ag.agree) == smallest
    for d in rec.differences:
        effects = {e.profile: e for e in d.effects}
        for st in rec.settle_action:
            assert effects[st.profile].changes_action == (d.item in st.decisive)
        assert d.changes_nothing == (
            not d.changes_label
            and not any(e.changes_action or e.changes_obligations for e in d.effects)
        )
    assert set(rec.unchanged) == {d.item for d in rec.differences if d.changes_nothing}


def test_identical_assessments_are_settled() -> None:
    rec = dispute(side(A, {}, date(2026, 1, 1)), side(A, {}, date(2026, 1, 1)), TableDecider())
    assert rec.status == "settled"
    assert rec.differences == []
    assert all(st.settled and st.smallest == 0 for st in rec.settle_action)


def test_difference_that_changes_nothing_is_named() -> None:
    # AG:T vs AG:A with no uplift: neither label nor action moves.
    low = "JBG:1.0/LY:M/UN:N/RL:L/TR:S/HD:G/UP:N/AG:T/AC:H/AU:N/EX:R/ST:U"
    rec = dispute(
        side(low, {}, date(2026, 1, 1)),
        side(low.replace("AG:T", "AG:A"), {}, date(2026, 1, 1)),
        TableDecider(),
    )
    assert rec.unchanged == ["AG"]
    assert "no need to argue" in rec.differences[0].verdict
    assert rec.status == "settled"


def test_eleven_metric_differences_are_exhaustive_and_fast_enough() -> None:
    lo = "JBG:1.0/LY:M/UN:N/RL:L/TR:S/HD:G/UP:N/AG:T/AC:H/AU:N/EX:R/ST:U"
    hi = "JBG:1.0/LY:F/UN:U/RL:H/TR:M/HD:C/UP:F/AG:A/AC:L/AU:Y/EX:O/ST:A"
    rec = dispute(side(lo, {}, date(2026, 1, 1)), side(hi, {}, date(2026, 1, 1)), TableDecider())
    assert len(rec.differences) == 11
    for st in rec.settle_action:
        assert not st.settled
        assert 1 <= st.smallest <= 11


def test_the_clock_is_injectable_and_the_record_is_reproducible() -> None:
    from datetime import UTC, datetime

    at = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    a, b = side(A, {}, date(2026, 1, 1)), side(A, {}, date(2026, 1, 1))
    r1 = dispute(a, b, TableDecider(), clock=lambda: at)
    r2 = dispute(a, b, TableDecider(), clock=lambda: at)
    assert r1.created_at == at and r1 == r2
