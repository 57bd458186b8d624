"""Merging measured and hand values: both kept, the used one and the reason recorded."""

from __future__ import annotations

import pytest

from jbgrade.assess import HandMetric, MeasuredValue, Precedence, merge_metrics
from jbgrade.rubric import default_tables, parse_vector

HAND = parse_vector("JBG:1.0/LY:S/UN:N/RL:M/TR:X/HD:W/UP:X/AG:X/AC:L/AU:X/EX:P/ST:X")
ENTRIES = {
    k: HandMetric(value=HAND[k], rationale=f"why {k}", evidence=[f"ev-{k}"])
    for k in ("LY", "UN", "RL", "HD", "AC", "EX")
}
MEASURED = {
    "RL": MeasuredValue(value="H", rule="M-RL", summary="r = 0.62"),
    "UN": MeasuredValue(value="N", rule="M-UN", summary="one domain below half"),
    "TR": MeasuredValue(value="F", rule="M-TR", summary="two models of one vendor"),
}


def merged(rule: Precedence, **per: Precedence) -> dict[str, object]:
    prec = {m.key: per.get(m.key, rule) for m in default_tables().metrics}
    vec, rows = merge_metrics(HAND, ENTRIES, MEASURED, prec)
    return {"vector": vec, **{r.metric: r for r in rows}}


@pytest.mark.parametrize(
    ("rule", "rl"),
    [
        (Precedence.measured_over_assessor, "H"),
        (Precedence.assessor_over_measured, "M"),
        (Precedence.precautionary, "H"),
    ],
)
def test_conflict_resolved_by_the_case_rule_and_both_values_kept(rule: Precedence, rl: str) -> None:
    m = merged(rule)
    row = m["RL"]
    assert row.used == rl  # type: ignore[attr-defined]
    assert row.conflict  # type: ignore[attr-defined]
    assert row.hand.value == "M" and row.hand.rationale == "why RL"  # type: ignore[attr-defined]
    assert row.measured.value == "H"  # type: ignore[attr-defined]
    assert "disagree" in row.reason  # type: ignore[attr-defined]
    assert m["vector"]["RL"] == rl  # type: ignore[index]


def test_precaution_takes_the_more_severe_even_when_hand_is_higher() -> None:
    prec = {m.key: Precedence.precautionary for m in default_tables().metrics}
    low = {"LY": MeasuredValue(value="M", summary="only refusal training passed")}
    vec, rows = merge_metrics(HAND, ENTRIES, low, prec)
    assert vec["LY"] == "S"
    assert next(r for r in rows if r.metric == "LY").source == "assessor"


def test_per_metric_precedence() -> None:
    m = merged(Precedence.measured_over_assessor, RL=Precedence.assessor_over_measured)
    assert m["RL"].used == "M"  # type: ignore[attr-defined]
    assert m["RL"].precedence is Precedence.assessor_over_measured  # type: ignore[attr-defined]


def test_sources() -> None:
    m = merged(Precedence.measured_over_assessor)
    assert m["UN"].source == "both" and not m["UN"].conflict  # type: ignore[attr-defined]
    assert m["TR"].source == "measured" and m["TR"].used == "F"  # type: ignore[attr-defined]
    assert m["EX"].source == "assessor"  # type: ignore[attr-defined]
    assert m["ST"].source == "none" and m["ST"].used == "X"  # type: ignore[attr-defined]
    assert "precaution" in m["ST"].reason  # type: ignore[attr-defined]
    assert str(m["vector"]) == "JBG:1.0/LY:S/UN:N/RL:H/TR:F/HD:W/UP:X/AG:X/AC:L/AU:X/EX:P/ST:X"
