"""The worked example in docs/policy-authoring.md is real: same YAML, and it behaves as told."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from jbgrade import PolicyError, decide
from jbgrade.policy import check_profile, parse_profile

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "policy-authoring.md"
EXAMPLE = ROOT / "examples" / "policies" / "example-lab.yaml"


def _doc_block(marker: str) -> str:
    text = DOC.read_text()
    m = re.search(re.escape(marker) + r"\n```yaml\n(.*?)```", text, re.S)
    assert m, f"no yaml block after {marker}"
    return m.group(1)


def test_doc_yaml_is_the_example_file_and_passes_the_check() -> None:
    block = _doc_block("<!-- example: examples/policies/example-lab.yaml -->")
    assert block == EXAMPLE.read_text()
    rep = check_profile(str(EXAMPLE))
    assert rep.ok, [str(f) for f in rep.findings]


def test_the_first_draft_fails_as_the_doc_says() -> None:
    text = EXAMPLE.read_text()
    draft = text.replace(
        "  - id: baseline\n    title: Log every finding\n"
        '    citation: {source: own-policy, section: "4.1"}\n'
        "    when: {}\n    action: none\n    obligations: [log]\n",
        "",
    ).replace("deployment: {in: [general]}", "deployment: {in: [internal]}")
    assert draft != text
    rep = check_profile(parse_profile(draft, "example-lab-draft.yaml"), max_examples=1)
    checks = {(f.check, f.rule) for f in rep.findings}
    assert ("coverage", None) in checks
    assert ("monotonicity", "medium-general") in checks
    doc = DOC.read_text()
    for f in rep.findings[:2]:
        assert str(f) in doc


def test_the_typo_is_bad_input_with_the_line() -> None:
    text = EXAMPLE.read_text().replace("    action: block_deployment\n", "    action: block\n", 1)
    with pytest.raises(PolicyError) as exc:
        parse_profile(text, "example-lab-typo.yaml")
    assert f"jbgrade: error: {exc.value}" in DOC.read_text()


def test_the_decision_described_in_the_doc() -> None:
    d = decide(
        "JBG:1.0/LY:C/UN:D/RL:H/TR:S/HD:C/UP:P/AG:T/AC:M/AU:N/EX:P/ST:P",
        None,
        str(EXAMPLE),
        aware_on="2026-12-04",
    )
    assert d.action == "block_deployment" and "block-cbrn" in d.rule_ids and d.provisional
    dues = sorted(o.due.isoformat() for o in d.obligations)
    assert (dues[0], dues[-1]) == ("2026-12-04", "2027-01-03")
    retest = next(o for o in d.obligations if o.id == "retest")
    assert retest.clock_start_assumed
