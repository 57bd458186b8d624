"""The bundled demo scenario, measured for real (reference target, in process) once per module."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from jbgrade.assess import (
    AssessmentReport,
    LoadedCase,
    PolicyDecider,
    assess_case,
    load_case,
    measure_case,
)
from jbgrade.cli._demo import copy_demo_inputs


def copy_demo(dest: Path) -> Path:
    copy_demo_inputs(dest)
    return dest


@dataclass
class Demo:
    cases: Path
    campaign: Path
    lab: LoadedCase
    regulator: LoadedCase
    lab_report: AssessmentReport
    regulator_report: AssessmentReport
    decider: PolicyDecider


def run_demo(root: Path) -> Demo:
    cases = copy_demo(root / "cases")
    campaign = root / "campaign"
    decider = PolicyDecider()
    lab, reg = load_case(cases / "lab.yaml"), load_case(cases / "regulator.yaml")
    lab_r = assess_case(lab, decider, campaign_dir=campaign, measure=measure_case)
    reg_r = assess_case(reg, decider, campaign_dir=campaign, measure=measure_case)
    return Demo(cases, campaign, lab, reg, lab_r, reg_r, decider)
