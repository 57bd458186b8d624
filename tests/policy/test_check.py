from __future__ import annotations

import importlib.resources as r
import random
from pathlib import Path

import pytest

from jbgrade import decide, load_profile
from jbgrade.policy import check_profile, check_profiles, parse_profile
from jbgrade.policy._spec import action_rank
from jbgrade.rubric import default_tables
from tests.policy.conftest import SHIPPED, p10
from tests.policy.test_cli import cli, run

AWARE = "2026-06-12"


def _text(name: str) -> str:
    return r.files("jbgrade.policy").joinpath(f"data/profiles/jbg-1.0/{name}.yaml").read_text()


def _line_of(text: str, needle: str) -> int:
    return next(i for i, ln in enumerate(text.splitlines(), 1) if needle in ln)


def test_all_shipped_profiles_pass() -> None:
    reports = check_profiles()
    assert [x.profile for x in reports] == sorted(SHIPPED)
    for rep in reports:
        assert rep.ok, [str(f) for f in rep.findings]
        # The shipped profiles read JBG 1.1 grades: the whole 1.1 space.
        assert rep.stats["vectors"] == 2_519_424
        # Every metric raise over the whole space: sum over metrics of N*(k-1)/k.
        assert rep.stats["single_step_raises"] == 22_044_960
    # Their JBG 1.0 editions (kept for 1.0 grades and replay) still pass over the 1.0 space.
    for name in SHIPPED:
        rep = check_profile(p10(name))
        assert rep.ok, [str(f) for f in rep.findings]
        assert rep.stats["vectors"] == 139_968
        assert rep.stats["single_step_raises"] == 1_003_104


def test_the_example_profiles_pass() -> None:
    root = Path(__file__).resolve().parents[2] / "examples" / "policies"
    files = sorted(root.glob("*.yaml"))
    assert files
    for f in files:
        rep = check_profile(str(f))
        assert rep.ok, [str(x) for x in rep.findings]


NON_MONOTONE = ("severity: {in: [Critical]}", "severity: {in: [High]}")


def _non_monotone(tmp_path: Path) -> tuple[Path, int]:
    text = _text("lab-frontier")
    assert NON_MONOTONE[0] in text
    bad = text.replace(*NON_MONOTONE)
    f = tmp_path / "lab-frontier-broken.yaml"
    f.write_text(bad)
    rule_line = _line_of(bad, "- id: critical-block")
    return f, rule_line


def test_non_monotone_copy_fails_naming_the_rule(tmp_path: Path) -> None:
    f, line = _non_monotone(tmp_path)
    rep = check_profile(str(f))
    assert not rep.ok
    mono = [x for x in rep.findings if x.check == "monotonicity"]
    assert mono
    assert {x.rule for x in mono} == {"critical-block"}
    assert all(x.line == line and x.source == str(f) for x in mono)
    # The example is a real violation: deciding both vectors shows the drop.
    ex = mono[0].example
    assert ex is not None
    low = decide(ex["vector"], ex["context"], load_profile(str(f)), aware_on=AWARE)
    high = decide(ex["raised"], ex["context"], load_profile(str(f)), aware_on=AWARE)
    assert action_rank(high.action) < action_rank(low.action)
    assert ex["raised"] != ex["vector"]


def test_cli_check_exit_codes(tmp_path: Path) -> None:
    p = cli("policy", "check")
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.count("OK ") == len(SHIPPED)
    f, line = _non_monotone(tmp_path)
    p = run("policy", "check", str(f))
    assert p.returncode == 1
    assert f"{f}:{line}: monotonicity: rule critical-block:" in p.stdout
    broken = tmp_path / "broken.yaml"
    broken.write_text(_text("g7-baseline").replace("action: monitor", "action: shout", 1))
    p = run("policy", "check", str(broken))
    assert p.returncode == 2
    assert p.stderr.startswith(f"jbgrade: error: {broken}:")
    assert len(p.stderr.strip().splitlines()) == 1


def test_coverage_gap_reported(tmp_path: Path) -> None:
    text = _text("g7-baseline").replace(
        "    when: {}\n    action: none", "    when: {severity: {at_least: Low}}\n    action: none"
    )
    rep = check_profile(parse_profile(text, "gap.yaml"))
    cov = [x for x in rep.findings if x.check == "coverage"]
    assert cov and "no rule fires" in cov[0].message
    assert cov[0].example and cov[0].example["vector"].endswith("ST:U")


def test_unreachable_and_shadowed_rules_reported() -> None:
    text = _text("g7-baseline")
    extra = """
  - id: never
    title: cannot fire - CBRN full uplift is never below Medium
    citation: illustrative
    when:
      HD: {in: [C]}
      UP: {in: [F]}
      severity: {at_most: Low}
    action: monitor
  - id: redundant
    title: already covered by high-mitigate
    citation: illustrative
    when:
      severity: {at_least: Critical}
    action: mitigate
    obligations: [mitigate-90]
"""
    rep = check_profile(parse_profile(text + extra, "x.yaml"))
    by_rule = {(x.check, x.rule) for x in rep.findings}
    assert ("reachability", "never") in by_rule
    assert ("shadowing", "redundant") in by_rule
    lines = {x.rule: x.line for x in rep.findings}
    full = text + extra
    assert lines["never"] == _line_of(full, "- id: never")


def test_missing_domain_tier_reported() -> None:
    text = _text("g7-baseline")
    start = text.index("domains:")
    end = text.index("rules:")
    no_w = text[:start] + text[start:end].split("  W:")[0] + text[end:]
    rep = check_profile(parse_profile(no_w, "x.yaml"))
    dom = [x for x in rep.findings if x.check == "domains"]
    assert dom and "HD:W" in dom[0].message
    bad = text.replace(
        "    action: block_deployment\n    obligations: [halt, notify-authorities, share]\n",
        "    action: mitigate\n    obligations: [halt, notify-authorities, share]\n",
        1,
    )
    rep = check_profile(parse_profile(bad, "x.yaml"))
    assert any(x.check == "domains" and x.rule == "unacceptable-catastrophic" for x in rep.findings)


def test_context_monotonicity_checked() -> None:
    text = _text("lab-frontier").replace(
        "      UP: {in: [F]}\n      severity: {at_least: High}\n",
        "      UP: {in: [F]}\n      severity: {at_least: High}\n"
        "      context: {deployment: {in: [internal]}}\n",
    )
    rep = check_profile(parse_profile(text, "x.yaml"))
    msgs = [str(x) for x in rep.findings if x.check == "monotonicity"]
    assert any("context.deployment internal->limited" in m and "block-cbrn" in m for m in msgs)


@pytest.mark.parametrize("name", ["lab-frontier", "eu-ai-act-gpai"])
def test_class_based_check_agrees_with_brute_force_sample(name: str) -> None:
    """Spot-check the equivalence-class argument: raise random vectors one step at a
    time and decide both ends directly; a passing profile never weakens."""
    prof = p10(name)
    comp = prof.compiled
    metrics = default_tables().metrics
    rng = random.Random(7)
    ctxs = [
        {"capability_tier": t, "deployment": d, "training_compute_flop": c, "designated": g}
        for t in ("below_high", "high", "critical")
        for d in ("internal", "general")
        for c in (1e24, 1e25)
        for g in ("no", "yes")
    ]
    for _ in range(3000):
        letters = [rng.choice(m.letters) for m in metrics]
        i = rng.randrange(len(metrics))
        m = metrics[i]
        pos = m.letters.index(letters[i])
        if pos + 1 == len(m.letters):
            continue
        hi = list(letters)
        hi[i] = m.letters[pos + 1]
        lo_v = "JBG:1.0/" + "/".join(
            f"{mm.key}:{v}" for mm, v in zip(metrics, letters, strict=True)
        )
        hi_v = "JBG:1.0/" + "/".join(f"{mm.key}:{v}" for mm, v in zip(metrics, hi, strict=True))
        ctx = {k: v for k, v in rng.choice(ctxs).items() if k in prof.context}
        a, b = comp.evaluate(lo_v, ctx), comp.evaluate(hi_v, ctx)
        assert b.rank >= a.rank, (lo_v, hi_v, ctx)
        assert set(a.obligations) <= set(b.obligations), (lo_v, hi_v, ctx)


def test_precaution_never_weakens_checked() -> None:
    # A rule that only fires when nothing is X: marking a metric X would weaken the decision.
    text = _text("g7-baseline").replace(
        "      ST: {in: [A]}\n      severity: {at_least: Medium}\n",
        "      ST: {in: [A]}\n      severity: {at_least: Medium}\n      provisional: false\n",
    )
    rep = check_profile(parse_profile(text, "x.yaml"))
    msgs = [str(x) for x in rep.findings if x.check == "monotonicity" and x.rule == "in-the-wild"]
    assert any("marking a metric X" in m for m in msgs)
