"""Calibration: the shipped pack, alpha per metric, and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from jbgrade.assess import calibrate, load_calibration_dir
from jbgrade.cli._schema import load_schema
from jbgrade.rubric import SEVERITIES, grade
from tests.cli.test_rubric_cli import assert_one_line_error, run

PACK = Path(__file__).resolve().parents[2] / "examples" / "calibration"


def test_pack_spans_every_domain_and_label() -> None:
    scenarios = load_calibration_dir(PACK)
    assert len(scenarios) >= 12
    assert {s.domain for s in scenarios} == {"G", "S", "W", "C"}
    majority = set()
    for s in scenarios:
        assert len({a.assessor for a in s.assessments}) >= 3, s.id
        labels = [grade(a.vector).severity for a in s.assessments]
        top = max(set(labels), key=labels.count)
        majority.add(top)
        # The scenario's stated label is what most assessors reach under the tables.
        assert top == s.intended_label, (s.id, labels)
        hds = [grade(a.vector).parsed["HD"] for a in s.assessments]
        assert max(set(hds), key=hds.count) == s.domain, s.id
    assert majority == set(SEVERITIES)


def test_report_validates_and_names_the_weakest() -> None:
    r = calibrate(load_calibration_dir(PACK), source=str(PACK), replicates=200, seed=1)
    data = r.model_dump(mode="json")
    jsonschema.validate(data, load_schema("calibration-report"))
    assert [m.variable for m in r.metrics] == [
        "LY",
        "UN",
        "RL",
        "TR",
        "HD",
        "UP",
        "CG",
        "AG",
        "AC",
        "AU",
        "EX",
        "RE",
        "ST",
    ]  # the pack is JBG 1.1
    defined = [m for m in r.metrics if m.alpha is not None]
    assert r.weakest[0] == min(defined, key=lambda m: m.alpha or 0).variable
    for m in defined:
        assert m.low is not None and m.high is not None
        assert m.low <= (m.alpha or 0) + 1e-9 and (m.alpha or 0) <= m.high + 1e-9
    assert r.overall.variable == "label" and r.overall.level == "ordinal"
    assert r.score.level == "interval"


def test_disagreement_lowers_alpha(tmp_path: Path) -> None:
    base = calibrate(load_calibration_dir(PACK), replicates=0)
    # Flip one assessor's uplift everywhere to the opposite extreme.
    for f in PACK.glob("*.yaml"):
        text = f.read_text()
        out = []
        first = True
        for line in text.splitlines():
            new = line
            if first and "vector: JBG" in line:
                new = line.replace("UP:N", "UP:@").replace("UP:F", "UP:N").replace("UP:@", "UP:F")
                new = new.replace("UP:P", "UP:F")
                first = False
            out.append(new)
        (tmp_path / f.name).write_text("\n".join(out) + "\n")
    worse = calibrate(load_calibration_dir(tmp_path), replicates=0)
    up = {m.variable: m.alpha for m in base.metrics}["UP"]
    up2 = {m.variable: m.alpha for m in worse.metrics}["UP"]
    assert up is not None and up2 is not None and up2 < up


def test_cli_prints_alpha_per_metric_with_intervals(tmp_path: Path) -> None:
    out = tmp_path / "cal.json"
    p = run("calibrate", str(PACK), "--replicates", "200", "--out", str(out))
    assert p.returncode == 0, p.stderr
    for key in ("label", "score", "LY", "UN", "RL", "TR", "HD", "UP", "AG", "AC", "AU", "EX", "ST"):
        assert f"\n│ {key} " in p.stdout, key
    assert "95% CI" in p.stdout and "Weakest agreement" in p.stdout
    data = json.loads(out.read_text())
    assert data["scenarios"] >= 12 and len(data["metrics"]) == 13


def test_cli_bad_input(tmp_path: Path) -> None:
    assert_one_line_error(run("calibrate", str(tmp_path / "nope")), "not a directory")
    (tmp_path / "s.yaml").write_text(
        "calibration_format: 1\nid: x\ntitle: t\ndomain: G\ndescription: d\nassessments:\n"
        "  - {assessor: a, vector: 'JBG:1.0/LY:Q'}\n"
    )
    p = run("calibrate", str(tmp_path))
    assert_one_line_error(p)
    assert "s.yaml:7: assessments[0].vector" in p.stderr


def test_case_files_are_grouped_by_case_id(tmp_path: Path) -> None:
    from tests.assess.demo import copy_demo

    cases = copy_demo(tmp_path)
    scenarios = load_calibration_dir(cases)
    assert len(scenarios) == 1
    sc = scenarios[0]
    assert sc.id == "JB-2026-0612"
    assert {a.organisation for a in sc.assessments} == {
        "Fablewright AI",
        "Government AI evaluation office",
    }
    r = calibrate(scenarios, replicates=0)
    up = next(m for m in r.metrics if m.variable == "UP")
    assert up.units == 1 and up.agreement == 0.0  # P vs F
    # UN is X (not assessed) on one side: missing, not a disagreement.
    assert r.spread[0].disagreeing_metrics == ["UP", "AC", "ST"]


def test_mixed_versions_are_refused(tmp_path: Path) -> None:
    import shutil

    from jbgrade._errors import InputError

    for f in sorted(PACK.glob("cal-0[12].yaml")):
        shutil.copy(f, tmp_path / f.name)
    one = tmp_path / "cal-01.yaml"
    text = one.read_text(encoding="utf-8")
    one.write_text(
        text.replace(
            "JBG:1.1/LY:M/UN:N/RL:L/TR:S/HD:G/UP:N/CG:S/AG:T/AC:H/AU:N/EX:R/RE:L/ST:U",
            "JBG:1.0/LY:M/UN:N/RL:L/TR:S/HD:G/UP:N/AG:T/AC:H/AU:N/EX:R/ST:U",
            1,
        ),
        encoding="utf-8",
    )
    with pytest.raises(InputError, match="mixes JBG versions"):
        calibrate(load_calibration_dir(tmp_path), replicates=0)
