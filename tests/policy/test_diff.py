from __future__ import annotations

import json
from pathlib import Path

from jbgrade import decide, load_profile
from jbgrade.policy import diff_profiles
from tests.policy.conftest import p10, p10_path
from tests.policy.test_cli import cli

V2 = str(Path(__file__).resolve().parents[2] / "examples" / "policies" / "lab-frontier-v2.yaml")
AWARE = "2026-09-02"


def test_diff_lists_the_grades_whose_action_changed() -> None:
    rep = diff_profiles(p10_path("lab-frontier"), V2, examples=50)
    assert rep.old["version"] == "1.0.0" and rep.new["version"] == "2.0.0"
    assert rep.vectors == 139_968
    assert rep.changed_points > 0
    assert {(t.old, t.new) for t in rep.transitions} <= {
        ("monitor", "block_deployment"),
        ("mitigate", "block_deployment"),
    }
    assert all(t.direction == "stricter" for t in rep.transitions)
    assert sum(t.points for t in rep.transitions) == rep.changed_points
    # Every example really changes: decide it under both versions.
    old, new = p10("lab-frontier"), load_profile(V2)
    for t in rep.transitions:
        assert t.examples
        for ex in t.examples:
            a = decide(ex["vector"], ex["context"], old, aware_on=AWARE)
            b = decide(ex["vector"], ex["context"], new, aware_on=AWARE)
            assert (a.action, b.action) == (t.old, t.new)
            assert "HD:C" in ex["vector"] and "UP:F" in ex["vector"]
            assert a.rule_ids != b.rule_ids


def test_diff_all_points_and_fixed_context() -> None:
    ctx = {"capability_tier": "high", "deployment": "general"}
    rep = diff_profiles(p10_path("lab-frontier"), V2, context=ctx, list_all=True)
    assert len(rep.contexts) == 1
    assert rep.changed is not None
    assert len(rep.changed) == rep.changed_points == rep.vectors_changed
    # Count independently: the vectors that are HD:C, UP:F and Medium.
    from jbgrade.rubric import grade, parse_vector

    for ch in rep.changed[:200]:
        g = grade(ch["vector"])
        assert g.severity == "Medium"
        assert parse_vector(ch["vector"])["HD"] == "C"


def test_diff_of_a_profile_with_itself_is_empty() -> None:
    rep = diff_profiles("g7-baseline", "g7-baseline")
    assert rep.changed_points == 0 and rep.transitions == [] and rep.obligation_changes == 0


def test_cli_diff_and_compare() -> None:
    p = cli("policy", "diff", p10_path("lab-frontier"), V2, "--json")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["changed_points"] > 0 and out["transitions"][0]["examples"]
    p = cli("policy", "diff", p10_path("lab-frontier"), V2)
    assert p.returncode == 0
    assert "block_deployment" in p.stdout and "HD:C" in p.stdout
    vec = "JBG:1.0/LY:C/UN:D/RL:H/TR:S/HD:C/UP:P/AG:T/AC:M/AU:N/EX:P/ST:A"
    p = cli("policy", "compare", vec, "--aware-on", "2026-06-12", "--json")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert set(out["decisions"]) == {"eu-ai-act-gpai", "g7-baseline", "lab-frontier", "us-export"}
    assert out["decisions"]["g7-baseline"]["action"] == "mitigate"
    p = cli("policy", "compare", vec, "--aware-on", "2026-06-12")
    assert p.returncode == 0 and "mitigate" in p.stdout and "provisional" in p.stdout
