"""assess, dispute and demo as a user runs them: ``python -m jbgrade`` in a subprocess."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.assess.demo import copy_demo
from tests.cli.test_rubric_cli import assert_one_line_error, run


@pytest.fixture(scope="module")
def assessed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli")
    cases = copy_demo(root / "cases")
    for side in ("lab", "regulator"):
        p = run(
            "assess",
            str(cases / f"{side}.yaml"),
            "--out",
            str(root / side),
            "--no-pdf",
            "--quiet",
        )
        assert p.returncode == 0, p.stderr
        assert "What must happen now" in p.stdout
        assert (root / side / "report.json").is_file()
        assert (root / side / "report.html").is_file()
    return root


BAD = [
    ("  UP:\n    value: P", "  ZZ:\n    value: P", "lab.yaml:50: metrics.ZZ: unknown metric"),
    ("    value: P\n", "    value: Q\n", "lab.yaml:51: metrics.UP.value: metric UP does not"),
    ("file: payload.txt", "file: gone.txt", "lab.yaml:15: jailbreak.payload.file: referenced file"),
    ("weights: closed", "weights: ajar", "lab.yaml:22: models[0].weights: 'ajar'"),
    # YAML 1.2, as for context files: yes/no are text, and a boolean field says so.
    ("frontier: true", "frontier: yes", "lab.yaml:24: models[0].frontier: 'yes' is text, not a"),
    (
        "aware_on: 2026-06-11",
        "aware_on: 2026-06-11\nvector: JBG:1.1/LY:F/UN:Q",
        "lab.yaml:38: vector: metric UN",
    ),
    ("campaign: {ref: campaign.yaml}", "campaign: {ref: nope.yaml}", "lab.yaml:38: campaign.ref"),
]


@pytest.mark.parametrize(("old", "new", "expect"), BAD, ids=[b[2].split(": ")[1] for b in BAD])
def test_bad_case_file_exit_2_with_file_line_field(
    tmp_path: Path, old: str, new: str, expect: str
) -> None:
    cases = copy_demo(tmp_path)
    lab = cases / "lab.yaml"
    text = lab.read_text()
    assert old in text
    lab.write_text(text.replace(old, new, 1))
    p = run("assess", str(lab), "--out", str(tmp_path / "out"), "--quiet")
    assert_one_line_error(p, expect)
    assert not (tmp_path / "out" / "report.json").exists()


def test_unknown_profile_is_bad_input(tmp_path: Path) -> None:
    cases = copy_demo(tmp_path)
    lab = cases / "lab.yaml"
    lab.write_text(lab.read_text().replace("profiles: all", "profiles: [us-export, nope]"))
    p = run("assess", str(lab), "--out", str(tmp_path / "out"), "--quiet", "--no-pdf")
    assert_one_line_error(p, "policy.profiles[1]", "unknown policy profile 'nope'")


def test_failed_campaign_exit_1_and_incomplete_report(tmp_path: Path) -> None:
    cases = copy_demo(tmp_path)
    spec = cases / "campaign.yaml"
    spec.write_text(
        spec.read_text().replace("limits: {concurrency: 16}", "limits: {budget: {requests: 200}}")
    )
    p = run("assess", str(cases / "lab.yaml"), "--out", str(tmp_path / "o"), "-q", "--no-pdf")
    assert p.returncode == 1, p.stderr
    assert "INCOMPLETE" in p.stdout
    data = json.loads((tmp_path / "o" / "report.json").read_text())
    assert data["complete"] is False and data["evidence"]["counts"]["total"] > 0
    assert "INCOMPLETE REPORT" in (tmp_path / "o" / "report.html").read_text()


def test_dispute_json_names_what_changes_the_action(assessed: Path) -> None:
    p = run(
        "dispute",
        str(assessed / "lab" / "report.json"),
        str(assessed / "regulator" / "report.json"),
        "--json",
    )
    assert p.returncode == 0, p.stderr
    rec = json.loads(p.stdout)
    assert rec["kind"] == "jbgrade-reconciliation"
    diffs = {d["item"]: d for d in rec["differences"]}
    assert set(diffs) == {"UN", "UP", "CG", "AC", "ST"}
    for item in ("UN", "UP"):
        us = next(e for e in diffs[item]["effects"] if e["profile"] == "us-export")
        assert us["changes_action"], item
    us = next(e for e in diffs["CG"]["effects"] if e["profile"] == "us-export")
    assert us["changes_action"]
    assert rec["unchanged"] == []  # JBG 1.1: every difference can move a decision


def test_dispute_text_from_case_files(assessed: Path, tmp_path: Path) -> None:
    cases = assessed / "cases"
    p = run(
        "dispute",
        str(cases / "lab.yaml"),
        str(cases / "regulator.yaml"),
        "--evidence",
        str(assessed / "lab" / "campaign"),
        "--out",
        str(tmp_path / "d"),
    )
    assert p.returncode == 0, p.stderr
    assert "The label turns on UN, UP, CG, AC, ST." in p.stdout
    assert "us-export: A -> none, B -> restrict_export" in p.stdout
    assert (tmp_path / "d" / "reconciliation.json").is_file()
    assert (tmp_path / "d" / "dispute.html").is_file()


def test_dispute_bad_input(tmp_path: Path) -> None:
    bogus = tmp_path / "r.json"
    bogus.write_text("{}")
    assert_one_line_error(run("dispute", str(bogus), str(bogus)), "not an assessment report")


def test_demo_writes_every_report(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    p = run("demo", "--out", str(out), "--quiet")
    assert p.returncode == 0, p.stderr
    for rel in (
        "index.html",
        "lab/report.json",
        "lab/report.html",
        "lab/report.pdf",
        "regulator/report.json",
        "regulator/report.html",
        "regulator/report.pdf",
        "dispute/reconciliation.json",
        "dispute/dispute.html",
        "dispute/dispute.pdf",
    ):
        assert (out / rel).is_file(), rel
    assert "start here" in p.stdout and "The label turns on UN, UP, CG, AC, ST." in p.stdout
    # A second run starts the campaign afresh and gives the same answer.
    p2 = run("demo", "--out", str(out), "--quiet", "--no-pdf")
    assert p2.returncode == 0, p2.stderr
    a = json.loads((out / "regulator" / "report.json").read_text())
    assert a["vector"] == "JBG:1.1/LY:F/UN:D/RL:M/TR:F/HD:W/UP:F/CG:S/AG:T/AC:L/AU:Y/EX:P/RE:M/ST:P"
