from __future__ import annotations

import datetime as dt
import json

import jsonschema
import pytest

import jbgrade
from jbgrade import PolicyError, decide, grade, load_profile
from jbgrade.cli._schema import load_schema
from jbgrade.policy import DECISION_KEYS, Decision, add_days, parse_profile, replay
from tests.policy.conftest import LOWEST, SHIPPED, WORST, p10

AWARE = "2026-06-12"  # a Friday


def test_acceptance_lab_frontier_blocks_the_worst_vector() -> None:
    d = decide(WORST, None, p10("lab-frontier"), aware_on=AWARE)
    assert d.action == "block_deployment"
    assert "critical-block" in d.rule_ids
    assert "block-cbrn" in d.rule_ids


@pytest.mark.parametrize("name", SHIPPED)
def test_acceptance_all_lowest_is_none_or_monitor(name: str) -> None:
    d = decide(LOWEST, None, name, aware_on=AWARE)
    assert d.action in ("none", "monitor")


@pytest.mark.parametrize("name", SHIPPED)
def test_json_has_exactly_the_published_keys_and_validates(name: str) -> None:
    d = decide(WORST, None, name, aware_on=AWARE)
    out = d.to_dict()
    assert tuple(out) == DECISION_KEYS
    jsonschema.validate(out, load_schema("decision"))
    for ob in out["obligations"]:
        assert {"party", "what", "due"} <= set(ob)
        dt.date.fromisoformat(ob["due"])
    # Round trip through JSON.
    again = Decision.model_validate(json.loads(json.dumps(out)))
    assert again.to_dict() == out


def test_top_level_api_accepts_grade_objects_and_profiles() -> None:
    prof = p10("g7-baseline")
    a = jbgrade.decide(grade(WORST), {}, prof, aware_on=AWARE)
    b = jbgrade.decide(WORST, None, p10("g7-baseline"), aware_on=dt.date(2026, 6, 12))
    assert a == b
    assert set(jbgrade.list_profiles()) == set(SHIPPED)
    assert set(jbgrade.load_all_profiles()) == set(SHIPPED)


def test_missing_profile_and_bad_inputs_raise_policy_errors() -> None:
    with pytest.raises(PolicyError, match="available: eu-ai-act-gpai"):
        decide(WORST, None, None)
    with pytest.raises(PolicyError, match="ISO date"):
        decide(WORST, None, p10("g7-baseline"), aware_on="12/06/2026")
    with pytest.raises(PolicyError, match=r"context\.capability_tier"):
        decide(WORST, {"capability_tier": "huge"}, p10("lab-frontier"), aware_on=AWARE)
    with pytest.raises(PolicyError, match=r"context\.training_compute_flop"):
        decide(WORST, {"training_compute_flop": "lots"}, p10("us-export"), aware_on=AWARE)
    with pytest.raises(PolicyError, match="before the awareness date"):
        decide(WORST, None, p10("eu-ai-act-gpai"), aware_on=AWARE, notified_on="2026-06-01")
    with pytest.raises(jbgrade.VectorError):
        decide("JBG:1.0/LY:F", None, p10("g7-baseline"))


# -- replay ----------------------------------------------------------------------


@pytest.mark.parametrize("name", SHIPPED)
def test_replay_same_inputs_same_decision(name: str) -> None:
    ctx = {"weights": "closed"} if name == "us-export" else None
    d = decide(WORST, ctx, name, aware_on=AWARE)
    rec = json.loads(json.dumps(d.to_dict()))
    again = replay(rec, WORST, ctx, name, aware_on=AWARE)
    assert again.to_dict() == rec
    assert again.bundle_sha256 == p10(name).bundle_sha256


def test_replay_refuses_a_different_bundle() -> None:
    prof = p10("g7-baseline")
    d = decide(WORST, None, prof, aware_on=AWARE)
    text = prof.located.data
    changed = json.loads(json.dumps(text))
    changed["rules"][3]["when"]["severity"]["at_least"] = "Medium"
    import yaml

    other = parse_profile(yaml.safe_dump(changed), "g7-changed.yaml")
    assert other.bundle_sha256 != prof.bundle_sha256
    with pytest.raises(PolicyError, match="bundle mismatch"):
        replay(d, WORST, None, other, aware_on=AWARE)
    # A different date changes due dates: the replay notices.
    with pytest.raises(PolicyError, match="replay differs"):
        replay(d, WORST, None, prof, aware_on="2026-06-13")


def test_bundle_hash_ignores_layout_and_comments_but_not_values() -> None:
    prof = p10("g7-baseline")
    import importlib.resources as r

    text = r.files("jbgrade.policy").joinpath("data/profiles/jbg-1.0/g7-baseline.yaml").read_text()
    relaid = "# a new comment\n" + text.replace("version: 1.0.0", "version:    1.0.0   # same")
    assert parse_profile(relaid, "x.yaml").bundle_sha256 == prof.bundle_sha256
    bumped = text.replace("version: 1.0.0", "version: 1.0.1")
    assert parse_profile(bumped, "x.yaml").bundle_sha256 != prof.bundle_sha256


# -- due dates -------------------------------------------------------------------


def test_business_days_skip_weekends() -> None:
    fri = dt.date(2026, 6, 12)
    assert fri.weekday() == 4
    assert add_days(fri, 1, "business") == dt.date(2026, 6, 15)  # Monday
    assert add_days(fri, 3, "business") == dt.date(2026, 6, 17)
    assert add_days(fri, 5, "business") == dt.date(2026, 6, 19)  # a full week
    assert add_days(dt.date(2026, 6, 13), 1, "business") == dt.date(2026, 6, 15)  # Sat -> Mon
    assert add_days(fri, 0, "business") == fri
    assert add_days(fri, 3, "calendar") == dt.date(2026, 6, 15)
    hol = frozenset({dt.date(2026, 6, 15)})
    assert add_days(fri, 1, "business", hol) == dt.date(2026, 6, 16)


def test_due_dates_in_decisions() -> None:
    d = decide(WORST, None, p10("lab-frontier"), aware_on=AWARE)
    due = {o.id: o for o in d.obligations}
    assert due["triage"].due == dt.date(2026, 6, 17)  # 3 business days from Friday
    assert due["sag-review"].due == dt.date(2026, 6, 19)  # 5 business days
    assert due["rapid-response"].due == dt.date(2026, 6, 15)  # 3 calendar days
    assert due["halt"].due == dt.date(2026, 6, 12)
    # Retest counts from the patch: unknown, so from awareness, and it says so.
    assert due["retest"].clock == "patch"
    assert due["retest"].clock_start_assumed
    assert due["retest"].due == dt.date(2026, 6, 23)
    d2 = decide(WORST, None, p10("lab-frontier"), aware_on=AWARE, patched_on="2026-06-19")
    r2 = {o.id: o for o in d2.obligations}["retest"]
    assert not r2.clock_start_assumed
    assert r2.clock_start == dt.date(2026, 6, 19)
    assert r2.due == dt.date(2026, 6, 30)  # 7 business days from Friday 19th
    # Sorted by due date.
    dues = [o.due for o in d.obligations]
    assert dues == sorted(dues)


def test_eu_incident_deadlines() -> None:
    d = decide(WORST, {"training_compute_flop": 3e25}, p10("eu-ai-act-gpai"), aware_on=AWARE)
    due = {o.id: o for o in d.obligations}
    assert due["incident-2d"].due == dt.date(2026, 6, 14)
    assert due["incident-5d"].due == dt.date(2026, 6, 17)
    assert due["incident-15d"].due == dt.date(2026, 6, 27)
    assert due["incident-15d"].citation.unconfirmed is True
    inter = due["incident-intermediate"]
    assert (inter.clock, inter.recurs_every_days, inter.clock_start_assumed) == (
        "notification",
        28,
        True,
    )
    d2 = decide(
        WORST,
        {"training_compute_flop": 3e25},
        "eu-ai-act-gpai",
        aware_on=AWARE,
        notified_on="2026-06-13",
        patched_on="2026-07-01",
    )
    due2 = {o.id: o for o in d2.obligations}
    assert due2["incident-intermediate"].due == dt.date(2026, 7, 11)
    assert due2["incident-final"].due == dt.date(2026, 8, 30)


# -- context, gates, precaution -------------------------------------------------


def test_missing_context_is_assumed_and_said() -> None:
    d = decide(LOWEST, None, p10("lab-frontier"), aware_on=AWARE)
    assert d.provisional  # nothing is X, but context was assumed
    entry = next(r for r in d.fired_rules if r.kind == "assumption")
    fields = {c.on: c for c in entry.conditions}
    assert fields["context.capability_tier"].actual == "high"
    assert "cannot be ruled out" in (fields["context.capability_tier"].reason or "")
    assert fields["context.deployment"].assumed
    full = decide(
        LOWEST,
        {"capability_tier": "below_high", "deployment": "internal"},
        "lab-frontier",
        aware_on=AWARE,
    )
    assert not full.provisional
    assert all(r.kind != "assumption" for r in full.fired_rules)


def test_assumed_context_marked_on_conditions_of_fired_rules() -> None:
    d = decide(WORST, None, p10("lab-frontier"), aware_on=AWARE)
    fr = next(r for r in d.fired_rules if r.id == "universal-rapid-response")
    cond = next(c for c in fr.conditions if c.on == "context.capability_tier")
    assert cond.assumed and cond.actual == "high"


def test_x_metric_is_worst_and_provisional() -> None:
    vec = WORST.replace("HD:C", "HD:X").replace("UP:F", "UP:X")
    ctx = {"capability_tier": "high", "deployment": "general"}
    d = decide(vec, ctx, p10("lab-frontier"), aware_on=AWARE)
    assert d.provisional
    assert d.action == "block_deployment"
    cbrn = next(r for r in d.fired_rules if r.id == "block-cbrn")
    hd = next(c for c in cbrn.conditions if c.on == "HD")
    assert (hd.given, hd.actual) == ("X", "C")
    assert "provisional-resolve" in d.rule_ids  # the precaution adds a duty to resolve X


def test_gate_not_applicable_gives_none_and_says_why() -> None:
    ctx = {"weights": "open", "training_compute_flop": 5e26}
    d = decide(WORST, ctx, p10("us-export"), aware_on=AWARE)
    assert d.action == "none"
    assert d.obligations == []
    gate = d.fired_rules[0]
    assert gate.kind == "gate" and gate.id == "applies_when"
    assert any(c.on == "context.weights" and not c.holds for c in gate.conditions)
    # The near miss names the single context change that would make it apply.
    nm = {ch.on: ch for n in d.near_misses for ch in n.changes}
    assert nm["context.weights"].to == "closed"
    assert nm["context.weights"].action == "block_deployment"


def test_gate_applies_on_compute_threshold() -> None:
    below = decide(
        WORST, {"weights": "closed", "training_compute_flop": 5e25}, "us-export", aware_on=AWARE
    )
    assert below.action == "none"
    ch = next(c for n in below.near_misses for c in n.changes if c.on.startswith("context.tr"))
    assert ch.to == 1e26
    above = decide(
        WORST, {"weights": "closed", "training_compute_flop": 1e26}, "us-export", aware_on=AWARE
    )
    assert above.action == "block_deployment"
    assert above.fired_rules[0].kind == "gate"
    assert not above.provisional


def test_not_in_force_before_effective_date() -> None:
    d = decide(WORST, None, p10("eu-ai-act-gpai"), aware_on="2025-08-01")
    assert d.action == "none"
    assert d.fired_rules[0].id == "in_force"
    assert decide(WORST, None, p10("eu-ai-act-gpai"), aware_on="2025-08-02").action == (
        "block_deployment"
    )


# -- near misses -----------------------------------------------------------------


def test_near_misses_name_the_single_change() -> None:
    # High but not Critical, CBRN with partial uplift: one step of UP makes it unacceptable.
    vec = "JBG:1.0/LY:C/UN:D/RL:H/TR:S/HD:C/UP:P/AG:T/AC:M/AU:N/EX:P/ST:P"
    ctx = {"capability_tier": "high", "deployment": "general"}
    d = decide(vec, ctx, p10("lab-frontier"), aware_on=AWARE)
    assert d.action == "mitigate"
    nm = {n.id: n for n in d.near_misses}
    assert "block-cbrn" in nm
    up = [c for c in nm["block-cbrn"].changes if c.on == "UP"]
    assert up and up[0].to == "F" and up[0].action == "block_deployment"
    # Every listed change really fires the rule and gives the stated action.
    for n in d.near_misses:
        for ch in n.changes:
            if ch.on.startswith("context."):
                c2 = {**ctx, ch.on[8:]: ch.to}
                v2 = vec
            else:
                c2 = ctx
                v2 = vec.replace(f"{ch.on}:{ch.from_}", f"{ch.on}:{ch.to}")
            d2 = decide(v2, c2, p10("lab-frontier"), aware_on=AWARE)
            assert n.id in d2.rule_ids
            assert d2.action == ch.action
    # Rules that would not change the decision are not near misses.
    assert all(n.action != "none" for n in d.near_misses)


def test_decision_compare_for_disputes() -> None:
    a = decide(
        "JBG:1.0/LY:C/UN:D/RL:H/TR:S/HD:C/UP:P/AG:T/AC:M/AU:N/EX:P/ST:P",
        {"capability_tier": "high", "deployment": "general"},
        "lab-frontier",
        aware_on=AWARE,
    )
    b = decide(
        "JBG:1.0/LY:C/UN:D/RL:H/TR:S/HD:C/UP:F/AG:T/AC:M/AU:N/EX:P/ST:P",
        {"capability_tier": "high", "deployment": "general"},
        "lab-frontier",
        aware_on=AWARE,
    )
    delta = a.compare(b)
    assert delta.direction == "up" and delta.changed
    assert (delta.action_from, delta.action_to) == ("mitigate", "block_deployment")
    assert "halt" in delta.obligations_added
    assert "block-cbrn" in delta.rules_added
    assert not a.compare(a).changed


def test_misspelt_context_field_is_named_in_the_assumption() -> None:
    d = decide(WORST, {"capabilty_tier": "critical"}, p10("lab-frontier"), aware_on=AWARE)
    entry = next(r for r in d.fired_rules if r.kind == "assumption")
    assert "capabilty_tier" in entry.title
    assert {c.on for c in entry.conditions} == {"context.capability_tier", "context.deployment"}


def test_rescinded_profile_replays_history_but_is_not_in_force_after() -> None:
    from pathlib import Path

    f = str(Path(__file__).resolve().parents[2] / "examples/policies/us-ai-diffusion-2025.yaml")
    prof = load_profile(f)
    assert prof.status == "rescinded" and prof.rescinded_on == dt.date(2025, 5, 13)
    before = decide(WORST, {"weights": "closed"}, prof, aware_on="2025-03-01")
    assert before.action == "block_deployment"
    after = decide(WORST, {"weights": "closed"}, prof, aware_on="2025-05-13")
    assert after.action == "none" and after.obligations == []
    assert after.fired_rules[0].id == "in_force"
    assert "rescinded on 2025-05-13" in after.fired_rules[0].conditions[0].test
    assert replay(before, WORST, {"weights": "closed"}, prof, aware_on="2025-03-01") == before


@pytest.mark.parametrize("name", SHIPPED)
def test_citations_are_typed_records_with_the_published_keys(name: str) -> None:
    from jbgrade.policy import RuleCitation

    d = decide(WORST, None, name, aware_on=AWARE)
    out = d.to_dict()
    cites = [x.citation for x in (*d.fired_rules, *d.obligations, *d.near_misses)]
    assert cites and all(isinstance(c, RuleCitation) for c in cites)
    for fr, raw in zip(d.fired_rules, out["fired_rules"], strict=True):
        # Gates and assumptions: {} ; rules: illustrative or a declared source, no nulls.
        assert raw["citation"] == ({} if fr.kind != "rule" else fr.citation.model_dump())
        assert None not in raw["citation"].values()
        assert fr.kind != "rule" or raw["citation"].get("illustrative") or raw["citation"]["source"]
    # A citation with a key the engine never writes is rejected by the model and the schema.
    bad = json.loads(json.dumps(out))
    bad["fired_rules"][-1]["citation"]["url"] = "https://example.invalid"
    with pytest.raises(ValueError, match="url"):
        Decision.model_validate(bad)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, load_schema("decision"))
