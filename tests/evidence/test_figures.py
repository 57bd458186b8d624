"""Derived metrics carry typed figures and thresholds (issue 13), with the same JSON."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from jbgrade.evidence import (
    RULES,
    DerivedMetric,
    Evidence,
    HDFigures,
    RLFigures,
    RLTargetFigures,
    RLThresholds,
    TRFigures,
    compute_evidence,
)
from tests.evidence.helpers import arm

INFOS = {"t1": {"model": "m1", "vendor": "v1"}, "t2": {"model": "m2", "vendor": "v2"}}


def _evidence() -> Evidence:
    attempts = arm("t1", 6, 30, behaviours=6) + arm("t2", 18, 30, behaviours=6, domain="C")
    return compute_evidence(attempts, INFOS)


def test_each_rule_has_its_own_typed_records() -> None:
    metrics = _evidence().attack().metrics
    rl, tr, hd = metrics["RL"], metrics["TR"], metrics["HD"]
    assert isinstance(rl.figures, RLFigures) and isinstance(rl.thresholds, RLThresholds)
    assert isinstance(tr.figures, TRFigures) and isinstance(hd.figures, HDFigures)
    t2 = rl.figures.targets["t2"]
    assert isinstance(t2, RLTargetFigures) and t2.attack_n == 30 and t2.qualifies
    # The thresholds are the rules data file's, key for key.
    assert rl.thresholds.model_dump() == RULES["M-RL"]


def test_json_is_unchanged_and_round_trips() -> None:
    ev = _evidence()
    text = ev.model_dump_json()
    again = Evidence.model_validate_json(text)
    assert again == ev and again.model_dump_json() == text
    rl = json.loads(text)["attacks"][0]["metrics"]["RL"]
    # A key a rule leaves out stays out (never null): only a qualifying target has a band.
    quals = [f["qualifies"] for f in rl["figures"]["targets"].values()]
    assert True in quals
    for f in rl["figures"]["targets"].values():
        assert ("band" in f) == f["qualifies"]


def test_dict_style_reads_still_work() -> None:
    rl = _evidence().attack().metrics["RL"]
    assert rl.figures["targets"]["t1"]["attack_n"] == 30
    assert rl.figures.get("nothing") is None
    assert "targets" in rl.figures and list(rl.figures.keys()) == ["targets"]
    assert {**rl.thresholds}["L_below"] == RULES["M-RL"]["L_below"]
    with pytest.raises(KeyError):
        rl.figures["nothing"]


def test_a_figure_the_rule_never_writes_is_rejected() -> None:
    rl = _evidence().attack().metrics["RL"]
    data = rl.model_dump(mode="json")
    bad = json.loads(json.dumps(data))
    bad["figures"]["targets"]["t1"]["attack_n"] = "thirty"
    with pytest.raises(ValidationError, match="attack_n"):
        DerivedMetric.model_validate(bad)
    bad = json.loads(json.dumps(data))
    bad["figures"]["launch"] = True
    with pytest.raises(ValidationError, match="launch"):
        DerivedMetric.model_validate(bad)
    bad = json.loads(json.dumps(data))
    bad["thresholds"]["L_below"] = "low"
    with pytest.raises(ValidationError, match="L_below"):
        DerivedMetric.model_validate(bad)
    with pytest.raises(ValidationError, match="unknown derivation rule"):
        DerivedMetric.model_validate({**data, "rule": "M-XX"})


def test_a_copy_with_changes_is_validated_again() -> None:
    up = _evidence().attack().metrics["UP"]
    changed = up.model_copy(update={"figures": {"basis": "attack"}})
    assert changed.figures.basis == "attack"
    with pytest.raises(ValidationError):
        up.model_copy(update={"figures": {"basis": "guess"}})
