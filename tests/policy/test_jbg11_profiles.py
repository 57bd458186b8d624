"""The shipped profiles' JBG 1.1 editions: precaution informs, categories key incidents,
export covers single-model Critical cases; 1.0 grades still decide (and replay) as before."""

from __future__ import annotations

import datetime as dt

import pytest

from jbgrade.policy import check_profile, decide, load_profile, profile_edition, replay
from tests.policy.conftest import SHIPPED, WORST

AWARE = dt.date(2026, 12, 7)
ALL_X = "JBG:1.1/LY:X/UN:X/RL:X/TR:X/HD:X/UP:X/CG:X/AG:X/AC:X/AU:X/EX:X/RE:X/ST:X"
REPORTS = {"report.initial", "report.intermediate", "report.final", "suspend"}
CONTEXTS = [
    None,
    {"hazard_category": "critical_infrastructure", "weights": "closed"},
    {"hazard_category": "cyber", "capability_tier": "critical", "deployment": "general"},
]


@pytest.mark.parametrize("name", SHIPPED)
def test_all_x_informs_and_does_not_halt(name: str) -> None:
    prof = load_profile(name)
    assert prof.tables.version == "1.1"
    for ctx in CONTEXTS:
        d = decide(ALL_X, ctx, prof, aware_on=AWARE)
        assert d.provisional
        assert d.action != "block_deployment", (name, ctx)
        kinds = {o.kind for o in d.obligations}
        assert not kinds & REPORTS, (name, ctx, kinds)
        assess = [o for o in d.obligations if o.kind == "assess"]
        assert assess, (name, ctx)
        assert all(AWARE <= o.due <= AWARE + dt.timedelta(days=14) for o in assess)
    rep = check_profile(prof)
    assert rep.ok, [str(f) for f in rep.findings]


def test_confirmed_critical_still_blocks() -> None:
    v = "JBG:1.1/LY:C/UN:U/RL:H/TR:M/HD:C/UP:F/CG:S/AG:T/AC:L/AU:Y/EX:P/RE:W/ST:P"
    for name in ("lab-frontier", "us-export", "g7-baseline"):
        assert decide(v, {"weights": "closed"}, name, aware_on=AWARE).action == "block_deployment"
    # The same with one metric not assessed: no block, an urgent assessment instead.
    d = decide(v.replace("LY:C", "LY:X"), None, "lab-frontier", aware_on=AWARE)
    assert d.action == "mitigate"
    assert {o.id for o in d.obligations} >= {"complete-assessment-urgent", "interim-safeguards"}


def test_eu_incidents_key_on_hazard_category() -> None:
    # Napalm role-play exploited in the wild (conventional weapons, text only, partial):
    napalm = "JBG:1.1/LY:S/UN:N/RL:H/TR:F/HD:W/UP:P/CG:L/AG:T/AC:L/AU:Y/EX:P/RE:W/ST:A"
    d = decide(
        napalm, {"hazard_category": "conventional_weapons"}, "eu-ai-act-gpai", aware_on=AWARE
    )
    assert not {o.kind for o in d.obligations} & REPORTS
    # An agent driven to attack systems, exploited in the wild: a cybersecurity incident.
    cyber = "JBG:1.1/LY:S/UN:D/RL:H/TR:F/HD:W/UP:N/CG:N/AG:A/AC:L/AU:Y/EX:P/RE:W/ST:A"
    d = decide(cyber, {"hazard_category": "cyber"}, "eu-ai-act-gpai", aware_on=AWARE)
    assert "incident-5d" in {o.id for o in d.obligations}
    d = decide(
        cyber, {"hazard_category": "critical_infrastructure"}, "eu-ai-act-gpai", aware_on=AWARE
    )
    assert "incident-2d" in {o.id for o in d.obligations}


def test_us_export_covers_a_single_model_critical_agentic_case() -> None:
    espionage = "JBG:1.1/LY:C/UN:D/RL:H/TR:S/HD:W/UP:F/CG:S/AG:A/AC:M/AU:Y/EX:P/RE:W/ST:A"
    d = decide(espionage, {"weights": "closed"}, "us-export", aware_on=AWARE)
    assert d.action in ("restrict_export", "block_deployment")


def test_agentic_cases_act() -> None:
    fraud = "JBG:1.1/LY:S/UN:D/RL:M/TR:S/HD:S/UP:N/CG:S/AG:A/AC:L/AU:Y/EX:P/RE:M/ST:P"
    d = decide(fraud, {"deployment": "general"}, "lab-frontier", aware_on=AWARE)
    assert d.action == "mitigate"


@pytest.mark.parametrize("name", SHIPPED)
def test_1_0_grades_use_the_1_0_edition_and_replay(name: str) -> None:
    ed = profile_edition(name, "1.0")
    assert ed is not None and ed.tables.version == "1.0"
    ctx = {"weights": "closed"} if name == "us-export" else None
    d = decide(WORST, ctx, name, aware_on=AWARE)
    assert d.bundle_sha256 == ed.bundle_sha256
    assert d.to_dict() == decide(WORST, ctx, ed, aware_on=AWARE).to_dict()
    again = replay(d, WORST, ctx, name, aware_on=AWARE)
    assert again.to_dict() == d.to_dict()
