"""Exhaustive validation of the tables: passes on JBG 1.0, fails on broken copies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from jbgrade import InputError, RubricTableError
from jbgrade.rubric import check_tables, default_tables, load_tables, tables_from_data
from tests.rubric.broken_tables import BROKEN


def test_shipped_tables_pass_every_check() -> None:
    rep = check_tables(default_tables())
    assert rep.ok, [str(v) for v in rep.violations]
    assert rep.combinations == 139_968 == 4 * 3 * 3 * 3 * 4 * 3 * 2 * 3 * 2 * 3 * 3
    ids = {a.id for a in default_tables().anchors}
    assert ids == {f"A{i}" for i in range(1, 11)}
    assert sum(c.startswith("anchor ") for c in rep.checks) == 10


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_copies_fail_naming_the_rule(name: str) -> None:
    build, expected = BROKEN[name]
    raw = build()
    if expected == "shape":
        with pytest.raises(RubricTableError):
            tables_from_data(raw, f"<{name}>")
        return
    rep = check_tables(tables_from_data(raw, f"<{name}>"))
    assert not rep.ok
    checks = {v.check for v in rep.violations}
    assert expected in checks, [str(v) for v in rep.violations]


def test_violation_names_an_example() -> None:
    build, _ = BROKEN["anchor"]
    rep = check_tables(tables_from_data(build(), "<a1>"))
    (v,) = [v for v in rep.violations if v.check == "anchor:A1"]
    assert v.example is not None
    assert "HD:G" in v.example
    assert "High" in v.message
    assert str(v).startswith("anchor:A1: ")


def test_altered_anchor_is_a_conformance_violation_and_normative_one_is_checked() -> None:
    raw: dict[str, Any] = default_tables().raw
    raw = json.loads(json.dumps(raw))
    for a in raw["anchors"]:
        if a["id"] == "A1":
            a["max_severity"] = "Critical"  # weakened
    raw["criteria"]["EC"]["table"]["G/F/A"] = 2  # and now violated
    rep = check_tables(tables_from_data(raw, "<weakened>"))
    checks = {v.check for v in rep.violations}
    assert "conformance" in checks
    assert "anchor:A1" in checks  # the normative A1, not the weakened copy, is enforced


def test_other_metrics_are_a_conformance_violation() -> None:
    raw = json.loads(json.dumps(default_tables().raw))
    raw["metrics"][0]["values"].reverse()
    rep = check_tables(tables_from_data(raw, "<reordered>"))
    assert [v.check for v in rep.violations] == ["conformance"]


def test_max_examples_bounds_repeats() -> None:
    build, _ = BROKEN["monotonicity"]
    t = tables_from_data(build(), "<m>")
    one = check_tables(t)
    many = check_tables(t, max_examples=5)
    assert sum(v.check == "monotonicity" for v in one.violations) == 1
    assert sum(v.check == "monotonicity" for v in many.violations) == 5


def test_load_tables_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        load_tables(tmp_path / "absent.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{ nope", encoding="utf-8")
    with pytest.raises(RubricTableError, match=r"bad\.json:1: invalid JSON"):
        load_tables(bad)
    bad.write_bytes(b"\xff\xfe")
    with pytest.raises(RubricTableError, match="not UTF-8"):
        load_tables(bad)
    bad.write_text("[]", encoding="utf-8")
    with pytest.raises(RubricTableError, match="top level must be an object"):
        load_tables(bad)
    bad.write_text('{"standard": "JBG"}', encoding="utf-8")
    with pytest.raises(RubricTableError, match="missing or malformed"):
        load_tables(bad)
    good = tmp_path / "good.json"
    good.write_text(json.dumps(default_tables().raw), encoding="utf-8")
    assert check_tables(load_tables(good)).ok


def test_changed_outcome_is_a_conformance_violation_unless_the_version_changes() -> None:
    raw = json.loads(json.dumps(default_tables().raw))
    raw["score"]["table"][0][0][1] = 0.2  # still monotone, every anchor still holds
    rep = check_tables(tables_from_data(raw, "<changed>"))
    assert [v.check for v in rep.violations] == ["conformance"]
    (v,) = rep.violations
    assert "grades differ from JBG 1.0" in v.message
    assert v.example is not None
    # The same tables as a draft of a new version are checked on their own merits.
    raw["version"] = "1.9"
    raw["prefix"] = "JBG:1.9/"
    assert check_tables(tables_from_data(raw, "<draft 1.9>")).ok
    # A copy that claims a shipped version must conform to that version's tables.
    rep = check_tables(tables_from_data({**raw, "version": "1.1", "prefix": "JBG:1.1/"}, "<x>"))
    assert not rep.ok
    assert "differ from JBG 1.1" in rep.violations[0].message
