"""A case file's policy context means exactly what a ``--context`` file means.

Both are YAML read by the one loader (jbgrade._yaml: YAML 1.2 booleans), so
``designated: no`` is the eu-ai-act-gpai profile's enum value 'no' in either.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from jbgrade.assess import PolicyDecider, assess_case, load_case
from tests.cli.test_rubric_cli import run

PROFILE = "eu-ai-act-gpai"

CASE = """\
case_format: 1
id: JB-CTX-1
title: Context reading
jailbreak: {{description: A synthetic test jailbreak.}}
models:
  - {{id: m-1, vendor: Example, weights: closed}}
assessor: {{name: Tester, organisation: Example}}
aware_on: 2026-03-02
vector: JBG:1.0/LY:F/UN:U/RL:H/TR:X/HD:W/UP:F/AG:A/AC:L/AU:Y/EX:P/ST:A
metrics:
{metrics}
policy:
  profiles: [{profile}]
  context:
{context}
"""


def _case_text(context: str) -> str:
    metrics = "\n".join(
        f"  {k}: {{rationale: set for the test}}"
        for k in ("LY", "UN", "RL", "HD", "UP", "AG", "AC", "AU", "EX", "ST")
    )
    return CASE.format(metrics=metrics, profile=PROFILE, context=textwrap.indent(context, "    "))


def _decide_cli(vector: str, ctx_file: Path, aware_on: str) -> tuple[int, Any]:
    p = run(
        "decide",
        vector,
        "--profile",
        PROFILE,
        "--context",
        str(ctx_file),
        "--aware-on",
        aware_on,
        "--json",
    )
    if p.returncode == 0:
        return 0, json.loads(p.stdout)
    return p.returncode, p.stderr.strip().removeprefix("jbgrade: error: ")


# Below the 1e25 FLOP presumption, the designation alone decides whether the profile
# applies: 'no' and 'yes' must give different decisions, each as --context gives it.
@pytest.mark.parametrize("designated", ["no", "yes", "'no'", "true"])
def test_case_context_decides_as_the_same_context_file(tmp_path: Path, designated: str) -> None:
    context = f"designated: {designated}\nplaced_on_eu_market: yes\ntraining_compute_flop: 1e24\n"
    case_file = tmp_path / "case.yaml"
    case_file.write_text(_case_text(context))
    ctx_file = tmp_path / "ctx.yaml"
    ctx_file.write_text(context)

    report = assess_case(load_case(case_file), PolicyDecider())
    (pd,) = report.decisions
    rc, cli = _decide_cli(report.vector, ctx_file, "2026-03-02")

    if designated == "true":
        # A boolean is not one of the enum's values: both refuse it, with the same reason.
        assert rc == 2
        assert pd.decision is None and pd.error is not None
        assert cli.split(": ", 1)[1] in pd.error, (cli, pd.error)
        return
    assert rc == 0, cli
    assert pd.error is None and pd.decision is not None and pd.decision.to_dict() == cli
    value = designated.strip("'")
    assert report.context["designated"] == value
    assert (cli["action"] == "none") is (value == "no")
