"""docs/spec/jbg-1.1.md and the 1.1 data cannot diverge; its examples are what the grader says."""

from __future__ import annotations

import re
from pathlib import Path

from jbgrade.rubric import grade, tables_for, tables_markdown
from tests.rubric.test_spec import _script

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "docs" / "spec" / "jbg-1.1.md"


def _text() -> str:
    return SPEC.read_text(encoding="utf-8")


def test_generated_tables_section_equals_the_1_1_data() -> None:
    mod = _script()
    _, body, _ = mod.split(_text())
    assert body == "\n" + tables_markdown(tables_for("1.1")), "run scripts/update_spec_tables.py"
    assert mod.render(_text(), "1.1") == _text()
    assert mod.main(["--check"]) == 0


def test_every_metric_and_anchor_is_specified() -> None:
    text = _text()
    t = tables_for("1.1")
    for m in t.metrics:
        assert re.search(rf"^#### {m.key}: ", text, re.M), m.key
    for a in t.anchors:
        assert re.search(rf"\b{a.id}\b", text), a.id


def test_examples_table_is_what_the_grader_says() -> None:
    rows = re.findall(r"^\| `(JBG:1\.1/[^`]+)` \| (\d+\.\d) \| (\w+) \| (yes|no) \|", _text(), re.M)
    assert len(rows) >= 10
    for vec, score, sev, systemic in rows:
        g = grade(vec)
        assert (f"{g.score:.1f}", g.severity, "yes" if g.systemic else "no") == (
            score,
            sev,
            systemic,
        ), vec


def test_worked_example() -> None:
    g = grade("JBG:1.1/LY:S/UN:D/RL:M/TR:S/HD:S/UP:N/CG:S/AG:A/AC:L/AU:Y/EX:P/RE:M/ST:P")
    ex = g.explanation
    assert (ex["criteria"]["BP"]["points"], ex["criteria"]["RI"]["points"]) == (4, 6)
    assert (g.criteria["EC"]["level"], g.score, g.severity) == (2, 5.2, "Medium")
