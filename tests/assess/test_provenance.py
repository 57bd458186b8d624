"""A measured value's provenance: one typed record per rule, whoever produced it.

The evidence's rules and assess's JBG 1.1 readings (M-AU without reliability, M-CG
by the rubric on evidence that predates the rule) publish the same records
(``jbgrade.evidence.*Figures`` / ``*Thresholds``), and a report read back gets
them again.
"""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from jbgrade.assess import EvidenceView, MeasuredValue
from jbgrade.assess._assess import _for_version
from jbgrade.evidence import (
    RULES,
    CapabilityGainDomain,
    CGFigures,
    CGThresholds,
    GainInterval,
    RLFigures,
    RLThresholds,
)
from jbgrade.rubric import CG_LIMITED_LOW, CG_NONE_HIGH, CG_SUBSTANTIAL_LOW
from tests.assess.demo import Demo


def test_report_provenance_reads_back_as_the_rules_records(demo: Demo) -> None:
    r = demo.lab_report
    rl = next(m for m in r.metrics if m.metric == "RL").measured
    assert rl is not None
    assert isinstance(rl.provenance.figures, RLFigures)
    assert isinstance(rl.provenance.thresholds, RLThresholds)
    # The same record as the evidence's, and byte-identical after a JSON round trip.
    assert demo.lab_report.evidence is not None
    dm = demo.lab_report.evidence.attack.metrics["RL"]
    assert rl.provenance.figures == dm.figures and rl.provenance.thresholds == dm.thresholds
    text = r.model_dump_json()
    again = type(r).model_validate_json(text)
    assert again.model_dump_json() == text
    rl2 = next(m for m in again.metrics if m.metric == "RL").measured
    assert rl2 is not None and isinstance(rl2.provenance.figures, RLFigures)


def test_a_figure_the_rule_does_not_have_is_rejected_naming_it() -> None:
    good = {"value": "S", "rule": "M-CG", "summary": "s"}
    ok = MeasuredValue.model_validate(
        {**good, "provenance": {"figures": {"interval": [0.3, 0.5]}, "thresholds": {}}}
    )
    assert isinstance(ok.provenance.figures, CGFigures)
    assert isinstance(ok.provenance.thresholds, CGThresholds)
    # The shape assess wrote before the records were unified (low/high, N/S/L strings).
    old = {"figures": {"low": 0.3, "high": 0.5}, "thresholds": {"N": "high < 0.10"}}
    with pytest.raises(ValidationError, match=r"provenance\.figures\.low"):
        MeasuredValue.model_validate({**good, "provenance": old})


def test_rubric_thresholds_are_the_derivation_rules(demo: Demo) -> None:
    t = RULES["M-CG"]
    assert (
        t["N_high_below"],
        t["S_low_at_or_above"],
        t["L_low_above"],
    ) == (CG_NONE_HIGH, CG_SUBSTANTIAL_LOW, CG_LIMITED_LOW)


def _with_gain(
    demo: Demo, low: float, high: float, *, qualifies: bool, keep_cg: bool
) -> EvidenceView:
    ev = demo.lab_report.evidence
    assert ev is not None and ev.attack.capability_gain is not None
    w = ev.attack.capability_gain["W"]
    assert w.interval is not None
    cg = {
        **ev.attack.capability_gain,
        "W": CapabilityGainDomain.model_validate(
            {
                **w.model_dump(),
                "gain": (low + high) / 2,
                "qualifies": qualifies,
                "interval": GainInterval.model_validate(
                    {**w.interval.model_dump(), "low": low, "high": high}
                ),
            }
        ),
    }
    metrics = dict(ev.attack.metrics)
    if not keep_cg:
        metrics.pop("CG")
    attack = ev.attack.model_copy(update={"capability_gain": cg, "metrics": metrics})
    return ev.model_copy(update={"attack": attack})


def test_cg_from_evidence_without_m_cg_has_the_evidence_records(demo: Demo) -> None:
    ev = _with_gain(demo, 0.32, 0.48, qualifies=True, keep_cg=False)
    gains = ev.attack.capability_gain
    assert gains is not None and gains["W"].best_comparator is not None
    cg = _for_version(ev, demo.lab.hand.tables)["CG"]
    assert (cg.value, cg.rule) == ("S", "M-CG")
    figs = json.loads(cg.provenance.model_dump_json())
    assert figs["figures"] == {
        "basis": "gain",
        "domain": "W",
        "gain": 0.4,
        "interval": [0.32, 0.48],
        "comparator": gains["W"].best_comparator.id,
    }
    assert figs["thresholds"] == {
        "N_high_below": 0.1,
        "S_low_at_or_above": 0.3,
        "L_low_above": 0.0,
    }
    # The evidence's own M-CG result is the same records with the same keys (and more:
    # target, pairs, alpha and the minimum samples, which the rubric does not check).
    real = demo.lab_report.evidence
    assert real is not None
    own = real.attack.metrics["CG"]
    assert isinstance(own.figures, CGFigures) and isinstance(own.thresholds, CGThresholds)
    assert set(figs["figures"]) <= set(own.figures.keys())
    assert set(figs["thresholds"]) <= set(own.thresholds.keys())


def test_evidence_that_could_not_derive_cg_is_never_re_read_into_a_letter(demo: Demo) -> None:
    # Underpowered in the evidence (M-CG ran, CG not derived), yet the interval alone
    # would read N: the report must not take the milder letter.
    ev = _with_gain(demo, -0.02, 0.05, qualifies=False, keep_cg=True)
    assert ev.attack.metrics["CG"].value is None
    assert "CG" not in _for_version(ev, demo.lab.hand.tables)
    # Nor when the evidence has no M-CG result: the rubric honours ``qualifies`` too.
    older = _with_gain(demo, -0.02, 0.05, qualifies=False, keep_cg=False)
    assert "CG" not in _for_version(older, demo.lab.hand.tables)
    # A qualifying interval below the N threshold is N from either.
    fine = _with_gain(demo, -0.02, 0.05, qualifies=True, keep_cg=False)
    assert _for_version(fine, demo.lab.hand.tables)["CG"].value == "N"
