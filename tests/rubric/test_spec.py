"""docs/spec/jbg-1.0.md and the data cannot diverge; its examples are what the grader says."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

import jbgrade
from jbgrade.rubric import default_tables, tables_markdown

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "docs" / "spec" / "jbg-1.0.md"
W = "JBG:1.0/LY:F/UN:U/RL:H/TR:M/HD:C/UP:F/AG:A/AC:L/AU:Y/EX:O/ST:A"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "update_spec_tables", ROOT / "scripts" / "update_spec_tables.py"
    )
    assert spec is not None
    assert spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _text() -> str:
    return SPEC.read_text(encoding="utf-8")


def test_generated_tables_section_equals_the_data() -> None:
    mod = _script()
    _, body, _ = mod.split(_text())
    assert body == "\n" + tables_markdown(default_tables()), (
        "docs/spec/jbg-1.0.md is stale: run scripts/update_spec_tables.py"
    )
    assert mod.render(_text()) == _text()


def test_update_script_detects_divergence(tmp_path: Path) -> None:
    mod = _script()
    stale = tmp_path / "spec.md"
    stale.write_text(_text().replace("| 4 | 8.5 | 9.2 |", "| 4 | 8.5 | 9.1 |"), encoding="utf-8")
    assert mod.main(["--check", "--spec", str(stale)]) == 1
    assert mod.main(["--spec", str(stale)]) == 0
    assert stale.read_text(encoding="utf-8") == _text()
    assert mod.main(["--check", "--spec", str(stale)]) == 0
    stale.write_text("no markers", encoding="utf-8")
    assert mod.main(["--check", "--spec", str(stale)]) == 2


def test_every_metric_rule_and_anchor_is_specified() -> None:
    text = _text()
    t = default_tables()
    for m in t.metrics:
        assert re.search(rf"^#### {m.key}: ", text, re.M), m.key
        section = text.split(f"#### {m.key}: ", 1)[1].split("\n####", 1)[0]
        for letter in m.letters:  # an example row per value
            assert re.search(rf"^\| {letter} \| .+ \| .+ \|$", section, re.M), (m.key, letter)
    for a in t.anchors:
        assert re.search(rf"^### {a.id}: ", text, re.M), a.id
    for rule in ("M-RL", "M-UN", "M-TR", "M-HD", "M-UP", "M-LY", "M-AU"):
        assert f"**{rule} (" in text, rule
    assert "139,968" in text
    assert "Wilson" in text


VALID_ROW = re.compile(
    r"^\| `(JBG:[^`]+)` \| (\d+\.\d) \| (None|Low|Medium|High|Critical) \|", re.M
)
INVALID_ROW = re.compile(r"^\| `([^`]*)` \| `(\w+Error)` \|$", re.M)


def test_valid_examples_grade_as_stated() -> None:
    rows = VALID_ROW.findall(_text())
    assert len(rows) >= 10
    for vector, score, severity in rows:
        g = jbgrade.grade(vector)
        assert (f"{g.score:.1f}", g.severity) == (score, severity), vector


def test_invalid_examples_raise_the_stated_error() -> None:
    rows = INVALID_ROW.findall(_text())
    assert len(rows) >= 8
    for text, name in rows:
        exc = getattr(jbgrade, name)
        with pytest.raises(exc) as info:
            jbgrade.parse_vector(text)
        assert type(info.value) is exc, (text, name)


def test_parsing_table_messages_are_real() -> None:
    inputs = [
        "",
        W.replace("/EX:O", "/EX: O"),
        "JBG:2.0/" + W[8:],
        W.replace("/UN:U", "//UN:U"),
        W.replace("HD:C", "hd:C"),
        W.replace("UP:F", "UP:F/UP:F"),
        W.replace("LY:F/UN:U", "UN:U/LY:F"),
        W.replace("RL:H", "RL:Q"),
        W.replace("/AU:Y", ""),
    ]
    produced = set()
    for s in inputs:
        with pytest.raises(jbgrade.VectorError) as info:
            jbgrade.parse_vector(s)
        produced.add(str(info.value))
    table = _text().split("### 3.3 Parsing", 1)[1].split("### 3.4", 1)[0]
    messages = re.findall(r"\| `([^`]+)` \|$", table, re.M)
    assert len(messages) == 9
    assert set(messages) <= produced, set(messages) - produced


def test_worked_example_is_right() -> None:
    text = _text()
    g = jbgrade.grade("JBG:1.0/LY:X/UN:D/RL:M/TR:S/HD:C/UP:X/AG:T/AC:M/AU:Y/EX:P/ST:U")
    assert g.score == 9.3
    assert "Score table [EC 4][BP 3][RI 2] = **9.3**" in text
    tips = {(t["metric"], t["to"]): (t["score"], t["severity"]) for t in g.tipping_points}
    assert tips[("LY", "M")] == (7.5, "High")
    assert tips[("UP", "P")] == (7.4, "High")
    assert "score 7.5, High" in text
    assert "score 7.4, High" in text
