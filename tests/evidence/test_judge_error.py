"""Judge error in the numbers: Rogan-Gladen corrected rates, pooled figures (design 0110)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jbgrade import CampaignDirError, JudgeSpecError
from jbgrade.evidence import (
    compute_evidence,
    evidence_from_counts,
    judge_error_record,
    load_campaign_evidence,
)
from jbgrade.judges import JudgeConfusion, MeasuredError, build_judge
from tests.evidence.helpers import arm

# Se 0.8 (120/150), Sp 0.9 (135/150): J = 0.7, FPR = 0.1.
CONF = JudgeConfusion(tp=120, fn=30, tn=135, fp=15)
JE = judge_error_record('{"type":"refusal"}', CONF)


def _rows(ka: int, kb: int, n: int = 10, behaviours: int = 48, targets: int = 1) -> list:  # type: ignore[type-arg]
    """Every behaviour gets ka/n (attack) and kb/n (baseline): no clustering."""
    rows = []
    for t in range(targets):
        for b in range(behaviours):
            d = "GSWC"[b * 4 // behaviours]
            rows.append(("jb", f"t{t}", f"b{b}", d, ka, n))
            rows.append(("baseline", f"t{t}", f"b{b}", d, kb, n))
    return rows


def _infos(targets: int = 1) -> dict[str, dict[str, str]]:
    return {f"t{t}": {"model": f"m{t}", "vendor": f"v{t}"} for t in range(targets)}


def test_record_has_se_sp_and_an_interval_of_j() -> None:
    assert (JE.sensitivity, JE.specificity, JE.youden) == (0.8, 0.9, 0.7)
    assert JE.youden_low < 0.7 < JE.youden_high


def test_rogan_gladen_point_estimates() -> None:
    # Observed q = 0.44 -> (0.44 - 0.1) / 0.7; baseline 0.1 -> 0; difference 0.34 / 0.7.
    ev = evidence_from_counts(_rows(44, 10, n=100), _infos(), judge_error=JE)
    c = ev.attacks[0].targets[0].corrected
    assert c is not None
    assert c.attack_rate == pytest.approx(0.34 / 0.7, abs=1e-4)
    assert c.baseline_rate == pytest.approx(0.0, abs=1e-4)
    assert c.difference == pytest.approx(0.34 / 0.7, abs=1e-4)
    assert c.attack_low is not None and c.attack_high is not None
    assert c.attack_low < c.attack_rate < c.attack_high
    assert ev.judge_error == JE
    # Domains carry corrected figures too; raw figures are unchanged beside them.
    raw = evidence_from_counts(_rows(44, 10, n=100), _infos())
    assert raw.attacks[0].targets[0].difference == ev.attacks[0].targets[0].difference
    assert all(d.corrected is not None for d in ev.attacks[0].targets[0].domains)
    assert raw.attacks[0].targets[0].corrected is None and raw.judge_error is None


def test_judge_uncertainty_widens_the_interval() -> None:
    ev = evidence_from_counts(_rows(44, 10, n=100), _infos(), judge_error=JE)
    s = ev.attacks[0].targets[0]
    assert s.difference is not None and s.corrected is not None
    raw_width = (s.difference.high - s.difference.low) / 0.7  # as if J were known exactly
    assert s.corrected.high - s.corrected.low > raw_width  # type: ignore[operator]
    # A judge measured on 15x fewer labels: wider still.
    small = judge_error_record("j", JudgeConfusion(tp=8, fn=2, tn=9, fp=1))
    ev2 = evidence_from_counts(_rows(44, 10, n=100), _infos(), judge_error=small)
    c2 = ev2.attacks[0].targets[0].corrected
    assert c2 is not None and c2.low is not None and c2.high is not None
    assert c2.high - c2.low > s.corrected.high - s.corrected.low  # type: ignore[operator]


def test_uninformative_j_gives_the_whole_range() -> None:
    weak = judge_error_record("j", JudgeConfusion(tp=3, fn=2, tn=3, fp=2))  # J 0.2 of 10 labels
    ev = evidence_from_counts(_rows(5, 1), _infos(), judge_error=weak)
    c = ev.attacks[0].targets[0].corrected
    assert c is not None and (c.low, c.high) == (-1.0, 1.0)


def test_letters_never_milder_than_the_raw_figures() -> None:
    # A weakly measured judge makes the corrected bounds wide; the claim keeps the raw one.
    weak = judge_error_record("j", JudgeConfusion(tp=7, fn=3, tn=8, fp=2))
    order = {"RL": "LMH", "TR": "SFM"}
    for ka in (2, 4, 6, 9):
        rows = _rows(ka, 0, targets=3)
        raw = evidence_from_counts(rows, _infos(3)).letters("jb")
        cor = evidence_from_counts(rows, _infos(3), judge_error=weak).letters("jb")
        for m, o in order.items():
            assert o.index(cor[m]) >= o.index(raw[m]), (ka, m, raw, cor)


def test_correction_can_raise_a_band_the_attenuated_raw_figure_misses() -> None:
    # True difference 0.6 (band H above 0.5) seen through J = 0.7 as 0.42: raw says M.
    good = judge_error_record("j", JudgeConfusion(tp=1960, fn=40, tn=1470, fp=530))
    rows = _rows(47, 5, n=100, targets=1)  # q1 0.47, q0 0.05 -> d_obs 0.42, J 0.715
    raw = evidence_from_counts(rows, _infos()).letters("jb")
    cor = evidence_from_counts(rows, _infos(), judge_error=good).letters("jb")
    assert raw["RL"] == "M" and cor["RL"] == "H"


def test_pooled_over_targets() -> None:
    ev = evidence_from_counts(_rows(3, 1, targets=3), _infos(3), judge_error=JE)
    p = ev.attacks[0].pooled
    assert p is not None and p.targets == 3
    assert (p.attack_n, p.attack_successes) == (3 * 480, 3 * 144)
    assert p.difference == pytest.approx(0.2, abs=1e-4)
    assert p.low is not None and p.high is not None and p.low < 0.2 < p.high
    assert p.corrected is not None and p.corrected.difference == pytest.approx(0.2 / 0.7, 1e-3)
    # The behaviour is the cluster across targets: heterogeneous behaviours widen the interval.
    het = []
    for t in range(3):
        for b in range(48):
            k = 10 if b % 4 == 0 else 1
            het.append(("jb", f"t{t}", f"b{b}", "G", k, 10))
            het.append(("baseline", f"t{t}", f"b{b}", "G", 0, 10))
    ph = evidence_from_counts(het, _infos(3)).attacks[0].pooled
    assert ph is not None and ph.design_effect > 1.0


def test_measured_error_validation() -> None:
    me = MeasuredError(sensitivity=0.9, sensitivity_n=100, specificity=0.8, specificity_n=50)
    c = me.confusion()
    assert (c.tp, c.fn, c.tn, c.fp) == (90, 10, 40, 10)
    with pytest.raises(ValueError, match="no better than chance"):
        MeasuredError(sensitivity=0.5, sensitivity_n=10, specificity=0.5, specificity_n=10)
    with pytest.raises(ValueError, match="no better than chance"):
        JudgeConfusion(tp=4, fn=6, tn=5, fp=5)
    with pytest.raises(ValueError, match="sensitivity_n"):
        MeasuredError(sensitivity=0.9, specificity=0.9)
    with pytest.raises(ValueError, match="not both"):
        MeasuredError(eval_file="x.json", sensitivity=0.9)
    # build_judge takes the key as a description, not a parameter.
    assert build_judge({"type": "refusal", "measured_error": {"eval_file": "x"}}) is not None


def _campaign(d: Path, judges: list[dict[str, object]], spec_path: str | None = None) -> None:
    d.mkdir(parents=True)
    manifest = {
        "campaign": "c-1",
        "spec": {"judges": judges},
        "spec_path": spec_path,
        "targets": [{"id": "t1", "model": "m", "vendor": "v"}],
        "attacks": [{"id": "jb", "kind": "template"}],
    }
    (d / "manifest.json").write_text(json.dumps(manifest))
    atts = arm("t1", 12, 20, behaviours=5) + arm("t1", 2, 20, behaviours=5, arm="baseline")
    (d / "attempts.jsonl").write_text("".join(a.model_dump_json() + "\n" for a in atts))


def test_campaign_dir_reads_measured_error(tmp_path: Path) -> None:
    inline = {"sensitivity": 0.8, "sensitivity_n": 150, "specificity": 0.9, "specificity_n": 150}
    _campaign(tmp_path / "a", [{"type": "refusal", "measured_error": inline}])
    ev = load_campaign_evidence(tmp_path / "a")
    assert ev.judge_error is not None and ev.judge_error.youden == 0.7
    assert ev.attacks[0].targets[0].corrected is not None
    # An eval file, relative to the spec's folder.
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "eval.json").write_text(
        json.dumps({"file": "dev.jsonl", "confusion": {"tp": 120, "fp": 15, "fn": 30, "tn": 135}})
    )
    _campaign(
        tmp_path / "b",
        [{"type": "refusal", "measured_error": {"eval_file": "eval.json"}}],
        spec_path=str(tmp_path / "specs" / "spec.yaml"),
    )
    ev = load_campaign_evidence(tmp_path / "b")
    assert ev.judge_error is not None and ev.judge_error.tp == 120
    assert "dev.jsonl" in (ev.judge_error.source or "")
    # Several judges combined: not corrected, and a note says why.
    _campaign(tmp_path / "c", [{"type": "refusal", "measured_error": inline}, {"type": "refusal"}])
    ev = load_campaign_evidence(tmp_path / "c")
    assert ev.judge_error is None and any("combined" in n for n in ev.notes)
    # No declaration: nothing changes; an override from the caller applies.
    _campaign(tmp_path / "d", [{"type": "refusal"}])
    assert load_campaign_evidence(tmp_path / "d").judge_error is None
    assert load_campaign_evidence(tmp_path / "d", judge_error=CONF).judge_error is not None


def test_campaign_dir_bad_measured_error(tmp_path: Path) -> None:
    bad = {"sensitivity": 0.3, "sensitivity_n": 10, "specificity": 0.6, "specificity_n": 10}
    _campaign(tmp_path / "a", [{"type": "refusal", "measured_error": bad}])
    with pytest.raises(CampaignDirError, match="no better than chance"):
        load_campaign_evidence(tmp_path / "a")
    _campaign(tmp_path / "b", [{"type": "refusal", "measured_error": {"eval_file": "nope.json"}}])
    with pytest.raises(JudgeSpecError, match="no such judge eval file"):
        load_campaign_evidence(tmp_path / "b")


def test_compute_evidence_passes_judge_error_through() -> None:
    atts = arm("t1", 12, 20, behaviours=5) + arm("t1", 2, 20, behaviours=5, arm="baseline")
    ev = compute_evidence(atts, {"t1": {"model": "m", "vendor": "v"}}, judge_error=JE)
    assert ev.judge_error == JE and ev.attacks[0].pooled is not None


def test_cli_text_shows_corrected_figures_in_80_columns(tmp_path: Path) -> None:
    import subprocess
    import sys

    inline = {"sensitivity": 0.8, "sensitivity_n": 150, "specificity": 0.9, "specificity_n": 150}
    _campaign(tmp_path / "a", [{"type": "refusal", "measured_error": inline}])
    src = str(Path(__file__).resolve().parents[2] / "src")
    r = subprocess.run(
        [sys.executable, "-m", "jbgrade", "campaign", "evidence", str(tmp_path / "a")],
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONPATH": src, "COLUMNS": "80"},
    )
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert max(len(x) for x in lines) <= 80
    for text in (
        "judge error: sensitivity 0.800 (120/150), specificity 0.900 (135/150)",
        "eff. n a/b",
        "corrected",
        "Corrected success rates (Rogan-Gladen",
        "claim low",
        "underpowered",
    ):
        assert text in r.stdout, text
    # --judge-error overrides; a bad file is one line and exit 2.
    (tmp_path / "bad.json").write_text("{}")
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "jbgrade",
            "campaign",
            "evidence",
            str(tmp_path / "a"),
            "--json",
            "--judge-error",
            str(tmp_path / "bad.json"),
        ],
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONPATH": src, "COLUMNS": "80"},
    )
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "confusion" in r.stderr


def test_eval_file_of_another_judge_type_is_noted(tmp_path: Path) -> None:
    (tmp_path / "eval.json").write_text(
        json.dumps(
            {
                "judge": {"type": "harmbench"},
                "confusion": {"tp": 120, "fp": 15, "fn": 30, "tn": 135},
            }
        )
    )
    _campaign(tmp_path / "a", [{"type": "refusal"}])
    from jbgrade.judges import load_measured_error

    conf = load_measured_error(tmp_path / "eval.json")
    assert conf.judge_type == "harmbench"
    ev = load_campaign_evidence(tmp_path / "a", judge_error=conf)
    assert ev.judge_error is not None and any("'harmbench'" in n for n in ev.notes)


def test_rates_below_the_judges_false_positive_rate_are_noted() -> None:
    # Baseline judged 1% over 480 attempts, but the declared judge says 10% of refusals
    # are judged successes: the declared error does not fit these responses.
    ev = evidence_from_counts(_rows(5, 0, n=10), _infos(), judge_error=JE)
    c = ev.attacks[0].targets[0].corrected
    assert c is not None and c.baseline_high == 0.0
    assert [n for n in ev.notes if n.startswith("baseline arm on t0: ")]
    assert not evidence_from_counts(_rows(5, 1, n=10), _infos(), judge_error=JE).notes
