"""Case files: loading, and bad input located by file, line and field."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest

from jbgrade import CaseFileError
from jbgrade.assess import Precedence, case_json_schema, load_case

DATA = Path(__file__).parent / "data"
CASE = DATA / "case.yaml"


def test_loads_the_example() -> None:
    lc = load_case(CASE)
    assert lc.case.id == "case-test-1"
    assert lc.hand.canonical() == "JBG:1.0/LY:S/UN:N/RL:M/TR:X/HD:W/UP:X/AG:X/AC:X/AU:X/EX:P/ST:X"
    assert lc.case.models[0].training_compute_flop == 3e26  # YAML 1.2 style float
    assert lc.case.precedence_for("RL") is Precedence.measured_over_assessor
    assert len(lc.sha256) == 64


def test_the_schema_accepts_the_example_and_is_published() -> None:
    from jbgrade._yaml import read_located

    jsonschema.Draft202012Validator(case_json_schema()).validate(read_located(CASE).data)
    from jbgrade.cli._schema import load_schema

    assert load_schema("case") == case_json_schema()


def edit(old: str, new: str) -> str:
    text = CASE.read_text()
    assert old in text
    return text.replace(old, new, 1)


BAD = [
    # (description, old, new, line, field, message fragment)
    (
        "unknown metric",
        "  UN: {value: N",
        "  ZZ: {value: N",
        23,
        "metrics.ZZ",
        "unknown metric 'ZZ'",
    ),
    ("bad letter", "HD: {value: W", "HD: {value: Q", 25, "metrics.HD.value", "does not allow"),
    ("missing payload", "payload.txt", "missing.txt", 7, "jailbreak.payload.file", "not found"),
    ("bad enum", "weights: closed", "weights: shut", 14, "models[0].weights", "'shut'"),
    ("unknown field", "title: Role", "titel: Role", 3, "titel", "unknown field"),
    ("no rationale", "rationale: public API", "evidence: []", 26, "metrics.EX", "rationale"),
    ("bad date", "aware_on: 2026-06-11", "aware_on: 2026-13-11", 20, "aware_on", "month"),
    ("missing required", "    vendor: Vendor A\n", "", 11, "models[0].vendor", "missing"),
    ("not a number", "3e26", "lots", 15, "models[0].training_compute_flop", "number"),
    (
        "bad precedence",
        "precedence: measured_over_assessor",
        "precedence: loudest",
        27,
        "precedence",
        "loudest",
    ),
    (
        "bad vector",
        "precedence: measured",
        "vector: JBG:1.0/LY:Q\nprecedence: measured",
        27,
        "vector",
        "LY",
    ),
    (
        "vector contradicts",
        "precedence: measured",
        "vector: JBG:1.0/LY:C/UN:N/RL:M/TR:S/HD:W/UP:N/AG:T/AC:L/AU:N/EX:P/ST:U\n"
        "precedence: measured",
        22,
        "metrics.LY.value",
        "contradicts",
    ),
    ("duplicate key", "  RL: {value: M", "  LY: {value: M", 24, "metrics.LY", "duplicate key"),
    ("invalid yaml", "title: Role-play jailbreak (test case)", "title: [unclosed", 4, None, "YAML"),
]


@pytest.mark.parametrize(
    ("what", "old", "new", "line", "field", "frag"), BAD, ids=[b[0] for b in BAD]
)
def test_bad_input_is_located(
    what: str, old: str, new: str, line: int, field: str | None, frag: str
) -> None:
    with pytest.raises(CaseFileError) as exc:
        load_case(CASE, text=edit(old, new))
    e = exc.value
    assert e.path == str(CASE)
    assert e.line == line, str(e)
    assert e.field == field, str(e)
    assert frag in str(e)
    assert str(e).startswith(f"{CASE}:{line}: ")
    assert "\n" not in str(e)


def test_unknown_evidence_file_and_campaign_ref(tmp_path: Path) -> None:
    text = CASE.read_text().replace("payload.txt", str(DATA / "payload.txt"))
    p = tmp_path / "c.yaml"
    with pytest.raises(CaseFileError, match=r"evidence\[0\]\.file"):
        load_case(p, text=text.replace("description: transcript", "file: nope.txt, description: t"))
    with pytest.raises(CaseFileError, match=r"campaign\.ref: referenced file not found"):
        load_case(p, text=text + "campaign: {ref: nope.yaml}\n")
    with pytest.raises(CaseFileError, match="exactly one"):
        load_case(p, text=text + "campaign: {}\n")


def test_payload_hash_is_checked() -> None:
    text = edit(
        "payload: {file: payload.txt}", "payload: {file: payload.txt, sha256: '" + "0" * 64 + "'}"
    )
    with pytest.raises(CaseFileError, match="payload SHA-256 is"):
        load_case(CASE, text=text)


def test_x_needs_no_rationale_and_vector_alone_needs_rationales() -> None:
    lc = load_case(
        CASE,
        text=edit("rationale: public API", "rationale: ''").replace(
            "EX: {value: P", "EX: {value: X"
        ),
    )
    assert lc.hand["EX"] == "X"
    text = edit(
        "precedence: measured",
        "vector: JBG:1.0/LY:S/UN:N/RL:M/TR:S/HD:W/UP:X/AG:X/AC:X/AU:X/EX:P/ST:X\n"
        "precedence: measured",
    )
    with pytest.raises(CaseFileError, match="TR:S is set by hand without a rationale"):
        load_case(CASE, text=text)
