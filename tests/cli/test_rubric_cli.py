"""The rubric CLI as a user runs it: ``python -m jbgrade`` in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import jbgrade
from tests.rubric.broken_tables import BROKEN
from tests.rubric.strategies import GRADE_KEYS, LOWEST, WORST

PROVISIONAL = "JBG:1.0/LY:X/UN:D/RL:M/TR:S/HD:C/UP:X/AG:T/AC:M/AU:Y/EX:P/ST:U"
SRC = str(Path(jbgrade.__file__).resolve().parent.parent)


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = SRC + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("JBGRADE_DEBUG", None)
    env["COLUMNS"] = "160"
    proc = subprocess.run(
        [sys.executable, "-m", "jbgrade", *args],
        input=stdin,
        capture_output=True,
        env=env,
        timeout=600,  # a hang guard only: the demo takes ~60 s on a loaded 2-core host
        check=False,
    )
    return subprocess.CompletedProcess(
        proc.args,
        proc.returncode,
        proc.stdout.decode("utf-8"),
        proc.stderr.decode("utf-8"),
    )


def assert_one_line_error(p: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    lines = p.stderr.splitlines()
    assert len(lines) == 1, p.stderr
    assert lines[0].startswith("jbgrade: error: ")
    assert "Traceback" not in p.stderr + p.stdout
    for f in fragments:
        assert f in lines[0], (f, lines[0])


def grade_schema() -> dict[str, Any]:
    out = run("schema", "show", "grade")
    assert out.returncode == 0
    data: dict[str, Any] = json.loads(out.stdout)
    return data


def test_score_json_acceptance_vectors() -> None:
    p = run("score", WORST, "--json")
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["severity"] == "Critical"
    assert d["vector"] == WORST
    assert list(d) == GRADE_KEYS
    jsonschema.validate(d, grade_schema())
    low = json.loads(run("score", LOWEST, "--json").stdout)
    assert low["severity"] in ("None", "Low")
    assert low["criteria"] == {
        "BP": {"level": 0, "level_name": "minimal", "name": "Bypassed protections"},
        "EC": {"level": 0, "level_name": "minimal", "name": "Exposed capabilities"},
        "RI": {"level": 0, "level_name": "minimal", "name": "Real-world impact"},
    }


def test_score_plain_line() -> None:
    p = run("score", PROVISIONAL)
    assert p.returncode == 0
    g = jbgrade.grade(PROVISIONAL)
    assert p.stdout.strip() == (
        f"{g.score:.1f} {g.severity} {PROVISIONAL} [provisional"
        + (", systemic]" if g.systemic else "]")
    )


@pytest.mark.parametrize(
    ("vector", "fragments"),
    [
        ("JBG:1.0/LY:F", ("missing metric UN",)),
        ("CVSS:4.0/AV:N", ("must start with 'JBG:1.0/'",)),
        (WORST.replace("RL:H", "RL:Z"), ("metric RL at position 3", "'Z'")),
        (WORST.replace("LY:F/UN:U", "UN:U/LY:F"), ("metric LY at position 2",)),
        (WORST + "/ST:A", ("metric ST repeated at position 12",)),
        (WORST.replace("/EX:O", "/EX: O"), ("whitespace", "metric EX")),
        ("", ("empty vector",)),
    ],
)
def test_malformed_vector_exit_2_one_line(vector: str, fragments: tuple[str, ...]) -> None:
    p = run("score", vector)
    assert_one_line_error(p, *fragments)
    assert p.stdout == ""


def test_explain_malformed_and_usage_errors_are_one_line() -> None:
    assert_one_line_error(run("explain", "JBG:1.0/XX:1"), "unknown metric 'XX'")
    assert_one_line_error(run("score"))  # missing argument
    assert_one_line_error(run("score", WORST, "--bogus"))


def test_score_stream_with_a_bad_line_in_the_middle() -> None:
    lines = [
        LOWEST,
        "# a comment",
        "",
        "JBG:1.0/LY:F/UN:U",  # bad: line 4
        f"  {PROVISIONAL}  ",
        WORST,
    ]
    data = ("\n".join(lines) + "\n").encode() + b"\xff\xfe\n"  # line 7: not UTF-8
    p = run("score", "-", stdin=data)
    assert p.returncode == 2
    assert p.stderr.splitlines() == ["jbgrade: error: 2 of 5 vectors invalid (first at line 4)"]
    out = [json.loads(x) for x in p.stdout.splitlines()]
    assert len(out) == 5
    schema = grade_schema()
    assert out[0]["vector"] == LOWEST
    assert out[1] == {
        "error": "missing metric RL (expected at position 3)",
        "line": 4,
        "input": "JBG:1.0/LY:F/UN:U",
    }
    assert out[2]["vector"] == PROVISIONAL
    assert out[2]["provisional"] is True
    assert out[3]["severity"] == "Critical"
    assert out[4]["line"] == 7
    assert "not UTF-8" in out[4]["error"]
    for d in (out[0], out[2], out[3]):
        jsonschema.validate(d, schema)


def test_score_stream_all_good_exit_0() -> None:
    p = run("score", "-", stdin=f"{WORST}\n{LOWEST}".encode())
    assert p.returncode == 0
    assert p.stderr == ""
    assert [json.loads(x)["score"] for x in p.stdout.splitlines()] == [10.0, 0.0]


def test_explain_output() -> None:
    p = run("explain", PROVISIONAL)
    assert p.returncode == 0, p.stderr
    out = p.stdout
    g = jbgrade.grade(PROVISIONAL)
    ex = g.explanation
    assert g.severity in out
    assert f"{g.score:.1f}" in out
    assert "provisional" in out
    assert PROVISIONAL in out
    for c in ("BP", "EC", "RI"):
        assert f"{c} {ex['criteria'][c]['name']}: level {ex['criteria'][c]['level']}" in out
    assert f"lookup row {ex['criteria']['EC']['row']}" in out
    cell = ex["score_cell"]
    assert f"Score table [EC {cell['EC']}][BP {cell['BP']}][RI {cell['RI']}]" in out
    assert "LY not assessed: scored as F (precaution)" in out
    assert "UP not assessed: scored as F (precaution)" in out
    assert "Tipping points" in out
    for tp in g.tipping_points:
        assert f"{tp['from']} -> {tp['to']}" in out
    assert ("Systemic: yes" if g.systemic else "Systemic: no") in out


def test_rubric_check_passes() -> None:
    p = run("rubric", "check")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "OK" in p.stdout
    assert "139968 combinations, no violation" in p.stdout
    for i in range(1, 11):
        assert f"anchor A{i}:" in p.stdout


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("monotonicity", "FAIL monotonicity: raising EX from P to O lowers the score"),
        ("anchor", "FAIL anchor:A1: General policy violations (HD:G) are never above Medium."),
        ("shape", "FAIL shape:"),
        ("dropped-anchor", "FAIL conformance: normative anchor A3 is missing"),
    ],
)
def test_rubric_check_fails_on_broken_copies(tmp_path: Path, name: str, expected: str) -> None:
    build, _ = BROKEN[name]
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(build(), indent=1), encoding="utf-8")
    p = run("rubric", "check", "--tables", str(path))
    assert p.returncode == 1, p.stdout + p.stderr
    fails = [x for x in p.stdout.splitlines() if x.startswith("FAIL ")]
    assert fails, p.stdout
    assert any(x.startswith(expected) for x in fails), fails
    assert "Traceback" not in p.stdout + p.stderr
    if name == "shape":
        assert "missing row C/F/A" in fails[0]


def test_rubric_check_missing_file_is_bad_input(tmp_path: Path) -> None:
    assert_one_line_error(
        run("rubric", "check", "--tables", str(tmp_path / "nope.json")), "no such file"
    )


def test_rubric_show_formats() -> None:
    md = run("rubric", "show", "--format", "markdown")
    assert md.returncode == 0
    # New work defaults to JBG 1.1; --version 1.0 shows the 1.0 tables.
    assert md.stdout == jbgrade.rubric.tables_markdown(jbgrade.rubric.tables_for("1.1"))
    md10 = run("rubric", "show", "--version", "1.0", "--format", "markdown")
    assert md10.stdout == jbgrade.rubric.tables_markdown(jbgrade.default_tables())
    js = run("rubric", "show", "--format", "json", "--version", "1.0")
    assert json.loads(js.stdout) == jbgrade.default_tables().raw
    assert run("rubric", "show", "--version", "2.0").returncode == 2
    txt = run("rubric", "show")
    assert txt.returncode == 0
    assert "Score table" in txt.stdout
    assert_one_line_error(run("rubric", "show", "--format", "pdf"))


def test_schema_list_and_unknown() -> None:
    p = run("schema", "list")
    assert p.returncode == 0
    # Other layers publish schemas too; the list is sorted by name.
    assert any(line.startswith("grade\tJBG 1.0 grade") for line in p.stdout.splitlines())
    assert_one_line_error(run("schema", "show", "nope"), "unknown schema 'nope'")
