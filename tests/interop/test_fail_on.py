"""--fail-on: exit 1 with one line when a condition fires, 0 when not, 2 on a bad expression."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from jbgrade._errors import InputError
from jbgrade.interop import parse_fail_on

ROOT = Path(__file__).resolve().parents[2]
FIX = Path(__file__).parent / "fixtures"
HIGH = "JBG:1.0/LY:F/UN:D/RL:M/TR:F/HD:W/UP:F/AG:T/AC:L/AU:Y/EX:P/ST:P"
LOW = "JBG:1.0/LY:F/UN:N/RL:M/TR:S/HD:G/UP:P/AG:T/AC:M/AU:Y/EX:P/ST:U"


def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jbgrade", *args],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin", "COLUMNS": "200"},
        check=False,
        cwd=cwd,
    )


def test_parse_and_check() -> None:
    e = parse_fail_on("severity>=high, systemic")
    assert e.check({"severity": "Medium", "systemic": False}) is None
    assert "severity>=high" in (e.check({"severity": "Critical"}) or "")
    assert "systemic" in (e.check({"severity": "Low", "systemic": True}) or "")
    a = parse_fail_on("action>=mitigate")
    assert a.check({"action": "monitor"}) is None
    assert a.check({"action": "restrict_export"}) is not None
    assert parse_fail_on("score>7").check({"score": 7.0}) is None


@pytest.mark.parametrize("bad", ["severity>=Huge", "colour>=red", "score>=x", "", "severity=>High"])
def test_bad_expressions_are_input_errors(bad: str) -> None:
    with pytest.raises(InputError):
        parse_fail_on(bad)


def test_decide_gate_exit_codes() -> None:
    r = _cli("decide", HIGH, "-p", "eu-ai-act-gpai", "--fail-on", "severity>=High")
    assert r.returncode == 1
    assert r.stderr.strip().splitlines() == [
        "jbgrade: --fail-on fired: severity>=High (severity is High)"
    ]
    r = _cli("decide", LOW, "-p", "eu-ai-act-gpai", "--fail-on", "severity>=High")
    assert r.returncode == 0, r.stderr
    r = _cli("decide", LOW, "-p", "eu-ai-act-gpai", "--fail-on", "severity>>High")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1


def test_campaign_evidence_gate_on_an_imported_garak_run(tmp_path: Path) -> None:
    out = tmp_path / "c"
    assert (
        _cli(
            "evidence",
            "import",
            "garak",
            str(FIX / "garak/reference.report.jsonl"),
            "--out",
            str(out),
        ).returncode
        == 0
    )
    r = _cli("campaign", "evidence", str(out), "--json", "--fail-on", "rate>=0.5")
    assert r.returncode == 1 and "rate>=0.5" in r.stderr
    r = _cli("campaign", "evidence", str(out), "--json", "--fail-on", "rate>1")
    assert r.returncode == 0
    r = _cli("campaign", "evidence", str(out), "--fail-on", "severity>=High")
    assert r.returncode == 2


def test_assess_demo_regulator_case_fails_on_high(tmp_path: Path) -> None:
    from jbgrade.cli._demo import copy_demo_inputs

    cases = tmp_path / "cases"
    copy_demo_inputs(cases)
    r = _cli(
        "assess",
        str(cases / "regulator.yaml"),
        "--out",
        str(tmp_path / "o"),
        "--no-pdf",
        "-q",
        "--fail-on",
        "severity>=High",
    )
    assert r.returncode == 1
    assert r.stderr.strip().splitlines()[-1].startswith("jbgrade: --fail-on fired: severity>=High")
    r = _cli(
        "assess",
        str(cases / "lab.yaml"),
        "--out",
        str(tmp_path / "l"),
        "--no-pdf",
        "-q",
        "--campaign-dir",
        str(tmp_path / "o/campaign"),
        "--fail-on",
        "severity>=High",
    )
    assert r.returncode == 0, r.stderr
