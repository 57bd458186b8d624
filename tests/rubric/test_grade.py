"""Grading: acceptance vectors, properties over random vectors, explanations, schema."""

from __future__ import annotations

import json
import pickle
import random
from importlib import resources
from typing import Any

import jsonschema
import pytest
from hypothesis import given

from jbgrade import Grade, VectorError, grade, grade_many, parse_vector
from jbgrade.rubric import NOT_ASSESSED, SEVERITIES, Grader, default_grader, default_tables
from tests.rubric.strategies import (
    GRADE_KEYS,
    KEYS,
    LOWEST,
    METRICS,
    TABLES,
    WORST,
    any_letters,
    concrete_letters,
    letters_with_x,
    ordered_pairs,
    vec,
)


def _schema() -> dict[str, Any]:
    text = resources.files("jbgrade.rubric").joinpath("data/grade.schema.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


VALIDATOR = jsonschema.Draft202012Validator(_schema())


def test_acceptance_vectors() -> None:
    worst = grade(WORST)
    assert worst.severity == "Critical"
    assert worst.score == 10.0
    assert worst.systemic
    assert not worst.provisional
    lowest = grade(LOWEST)
    assert lowest.severity in ("None", "Low")
    assert lowest.score == 0.0
    assert not lowest.systemic
    with pytest.raises(VectorError):
        grade("JBG:1.0/LY:F")


def test_issue_anchor_c_example() -> None:
    # HD:C, UP:F, UN:U, RL:H on a public model, everything else at its lowest.
    g = grade("JBG:1.0/LY:M/UN:U/RL:H/TR:S/HD:C/UP:F/AG:T/AC:H/AU:N/EX:P/ST:U")
    assert g.severity == "Critical"


def test_to_dict_keys_are_exactly_the_contract() -> None:
    d = grade(WORST).to_dict()
    assert list(d) == GRADE_KEYS
    assert set(d["criteria"]) == {"BP", "EC", "RI"}
    assert all(isinstance(c["level"], int) for c in d["criteria"].values())
    assert d["criteria"]["EC"]["level"] == 4


def test_grade_accepts_vector_objects_and_canonicalises() -> None:
    v = parse_vector(WORST)
    assert grade(v) == grade(WORST)
    assert grade(v).vector == WORST
    assert grade_many([v, WORST]) == [grade(WORST), grade(WORST)]


def test_grade_many_raises_on_first_invalid() -> None:
    with pytest.raises(VectorError):
        grade_many([WORST, "JBG:1.0/nope", LOWEST])


def test_explanation_matches_tables() -> None:
    g = grade("JBG:1.0/LY:X/UN:D/RL:M/TR:S/HD:C/UP:X/AG:T/AC:M/AU:Y/EX:P/ST:U")
    ex = g.explanation
    bp = ex["criteria"]["BP"]
    # Points are the sum of the per-metric points, X scored as the worst value.
    assert [r["scored_as"] for r in bp["metrics"]] == ["F", "D", "M", "S"]
    assert bp["points"] == sum(r["points"] for r in bp["metrics"]) == 3 + 2 + 1 + 0
    assert bp["band"]["min"] <= bp["points"] <= bp["band"]["max"]
    assert bp["level"] == bp["band"]["level"] == g.criteria["BP"]["level"]
    assert ex["criteria"]["EC"]["row"] == "C/F/T"
    assert ex["not_assessed"] == [
        {"metric": "LY", "scored_as": "F"},
        {"metric": "UP", "scored_as": "F"},
    ]
    cell = ex["score_cell"]
    assert TABLES.score[cell["EC"]][cell["BP"]][cell["RI"]] == g.score
    assert "provisional" in ex["summary"]
    assert ex["severity_band"]["label"] == g.severity
    effects = {e["metric"]: e for e in ex["metric_effects"]}
    assert list(effects) == list(KEYS)
    for e in effects.values():
        changed = dict(g.letters)
        changed[e["metric"]] = e["lowest"]
        assert grade(vec([changed[k] for k in KEYS])).score == e["score_if_lowest"]
        assert e["effect"] == round(g.score - e["score_if_lowest"], 1)


def test_pickle_round_trip() -> None:
    g = grade(WORST)
    h = pickle.loads(pickle.dumps(g))
    assert h == g
    assert (h.score, h.severity, h.systemic) == (g.score, g.severity, g.systemic)
    assert len(pickle.dumps(g)) < 1000  # the compiled grader is not pickled
    other = Grader(default_tables())
    k = pickle.loads(pickle.dumps(other.grade(LOWEST)))
    assert k.score == 0.0


@given(any_letters)
def test_grade_many_equals_grade(letters: tuple[str, ...]) -> None:
    s = vec(letters)
    one = grade(s)
    many = grade_many([s, parse_vector(s)])
    assert many == [one, one]
    assert all((m.score, m.severity, m.vector) == (one.score, one.severity, s) for m in many)


def test_grade_many_equals_grade_in_bulk() -> None:
    rnd = random.Random(7)
    vs = [vec([rnd.choice((*m.letters, NOT_ASSESSED)) for m in METRICS]) for _ in range(20_000)]
    many = grade_many(vs)
    slow = Grader(default_tables())
    slow._split = None  # force the general path: parse, then the criterion parts
    for s, g in zip(vs, many, strict=True):
        ref = slow.grade(s)
        assert (g.vector, g.score, g.severity, g.systemic, g.provisional) == (
            ref.vector,
            ref.score,
            ref.severity,
            ref.systemic,
            ref.provisional,
        )


@given(letters_with_x())
def test_x_is_worst_and_provisional(letters: tuple[str, ...]) -> None:
    g = grade(vec(letters))
    worst = tuple(
        m.worst if v == NOT_ASSESSED else v for m, v in zip(METRICS, letters, strict=True)
    )
    w = grade(vec(worst))
    assert g.provisional
    assert not w.provisional
    assert (g.score, g.severity, g.systemic, g.criteria) == (
        w.score,
        w.severity,
        w.systemic,
        w.criteria,
    )


@given(concrete_letters)
def test_concrete_is_not_provisional(letters: tuple[str, ...]) -> None:
    assert not grade(vec(letters)).provisional


@given(ordered_pairs())
def test_monotone_on_random_pairs(pair: tuple[tuple[str, ...], tuple[str, ...]]) -> None:
    low, high = grade(vec(pair[0])), grade(vec(pair[1]))
    assert low.score <= high.score
    assert SEVERITIES.index(low.severity) <= SEVERITIES.index(high.severity)
    assert not (low.systemic and not high.systemic)
    for c in ("BP", "EC", "RI"):
        assert low.criteria[c]["level"] <= high.criteria[c]["level"]


@given(any_letters)
def test_tipping_points_move_the_label_and_are_complete(letters: tuple[str, ...]) -> None:
    g = grade(vec(letters))
    tips = {(t["metric"], t["to"]): t for t in g.tipping_points}
    cur = SEVERITIES.index(g.severity)
    for i, m in enumerate(METRICS):
        for alt in m.letters:
            if alt == letters[i]:
                continue
            changed = list(letters)
            changed[i] = alt
            h = grade(vec(changed))
            tp = tips.get((m.key, alt))
            if h.severity == g.severity:
                assert tp is None, tp
            else:
                assert tp is not None, (m.key, alt)
                assert tp["from"] == letters[i]
                assert (tp["score"], tp["severity"]) == (h.score, h.severity)
                new = SEVERITIES.index(h.severity)
                assert tp["direction"] == ("up" if new > cur else "down")


def test_json_output_validates_against_the_schema_broad_sample() -> None:
    rnd = random.Random(2024)
    samples = [WORST, LOWEST]
    samples += [vec([rnd.choice(m.letters) for m in METRICS]) for _ in range(150)]
    samples += [vec([rnd.choice((*m.letters, NOT_ASSESSED)) for m in METRICS]) for _ in range(150)]
    samples.append(vec([NOT_ASSESSED] * len(METRICS)))
    seen = set()
    for s in samples:
        d = grade(s).to_dict()
        seen.add(d["severity"])
        VALIDATOR.validate(d)
        # What the CLI prints is the JSON form: it must survive a round trip unchanged.
        assert json.loads(json.dumps(d)) == d
    assert seen == set(SEVERITIES)


def test_schema_rejects_what_it_should() -> None:
    d = grade(WORST).to_dict()
    for broken in (
        {**d, "extra": 1},
        {k: v for k, v in d.items() if k != "systemic"},
        {**d, "severity": "Severe"},
        {**d, "criteria": {**d["criteria"], "BP": {"level": 5, "level_name": "x", "name": "x"}}},
        {**d, "vector": d["vector"].lower()},
    ):
        assert not VALIDATOR.is_valid(broken)


def test_default_grader_is_shared() -> None:
    assert default_grader() is default_grader()
    assert isinstance(grade(WORST), Grade)


def test_grade_many_restores_the_garbage_collector() -> None:
    import gc

    assert gc.isenabled()
    grade_many([WORST, LOWEST])
    assert gc.isenabled()
    with pytest.raises(VectorError):
        grade_many([WORST, "bad"])
    assert gc.isenabled()
    gc.disable()
    try:
        grade_many([WORST])
        assert not gc.isenabled()  # a caller's choice is left alone
    finally:
        gc.enable()


def test_grade_accepts_str_subclasses_and_rejects_other_types() -> None:
    class S(str):
        pass

    g = grade(S(WORST))
    assert type(g.vector) is str
    assert g.vector == WORST
    with pytest.raises(VectorError, match="must be a string"):
        grade(42)  # type: ignore[arg-type]
    with pytest.raises(VectorError, match="must be a string"):
        grade_many([WORST, b"JBG:1.0/"])  # type: ignore[list-item]


def test_grade_equality_includes_the_tables() -> None:
    import copy

    from jbgrade.rubric import Grader, default_tables, tables_from_data

    raw = copy.deepcopy(default_tables().raw)
    same = Grader(tables_from_data(copy.deepcopy(raw)))
    v = "JBG:1.0/LY:F/UN:U/RL:H/TR:M/HD:C/UP:F/AG:A/AC:L/AU:Y/EX:O/ST:A"
    assert same.grade(v) == grade(v) and hash(same.grade(v)) == hash(grade(v))
    # Draft tables that score the worst cell lower: same vector, not the same grade.
    raw["score"]["table"][-1][-1][-1] = 9.0
    draft = Grader(tables_from_data(raw)).grade(v)
    assert draft.score != grade(v).score
    assert draft != grade(v)
