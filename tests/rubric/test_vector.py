"""Strict parsing of JBG vectors: every error type names the metric and the position."""

from __future__ import annotations

import pytest
from hypothesis import given

from jbgrade import (
    DuplicateMetricError,
    MetricOrderError,
    MetricValueError,
    MissingMetricError,
    UnknownMetricError,
    Vector,
    VectorError,
    VectorPrefixError,
    VectorSyntaxError,
    parse_vector,
)
from tests.rubric.strategies import LOWEST, WORST, any_letters, vec

W = WORST
BODY = W[len("JBG:1.0/") :]

# (input, error type, metric attribute, position attribute, fragments the message must contain)
BAD: list[tuple[str, type[VectorError], str | None, int | None, tuple[str, ...]]] = [
    ("", VectorPrefixError, None, 0, ("empty vector",)),
    ("CVSS:4.0/" + BODY, VectorPrefixError, None, 0, ("must start with 'JBG:1.0/'", "'CVSS:4.0'")),
    (BODY, VectorPrefixError, None, 0, ("must start with",)),
    ("not a vector", VectorPrefixError, None, 0, ("must start with", "'not a vector'")),
    ("JBG:2.0/" + BODY, VectorPrefixError, None, 0, ("unsupported version '2.0'", "position 0")),
    ("JBG:1.2/" + BODY, VectorPrefixError, None, 0, ("unsupported version '1.2'",)),
    ("JBG:1.1/" + BODY, MissingMetricError, "CG", 7, ("missing metric CG",)),
    ("jbg:1.0/" + BODY, VectorPrefixError, None, 0, ("upper case", "'jbg:1.0'")),
    (
        W.replace("TR:M", "TR:M/ZZ:A"),
        UnknownMetricError,
        "ZZ",
        5,
        ("unknown metric 'ZZ'", "position 5"),
    ),
    (
        W.replace("HD:C", "hd:C"),
        UnknownMetricError,
        "hd",
        5,
        ("upper case", "'hd'", "position 5", "HD"),
    ),
    (
        W.replace("UP:F", "UP:F/UP:F"),
        DuplicateMetricError,
        "UP",
        7,
        ("metric UP repeated at position 7", "first at 6"),
    ),
    (
        W.replace("LY:F/UN:U", "UN:U/LY:F"),
        MetricOrderError,
        "LY",
        2,
        ("metric LY at position 2", "before UN"),
    ),
    (
        W.replace("/AU:Y", ""),
        MissingMetricError,
        "AU",
        9,
        ("missing metric AU", "position 9"),
    ),
    ("JBG:1.0/", VectorSyntaxError, "LY", 1, ("empty part at position 1", "LY")),
    (W.replace("/RL:H", "/RL:Q"), MetricValueError, "RL", 3, ("metric RL at position 3", "'Q'")),
    (
        W.replace("/RL:H", "/RL:h"),
        MetricValueError,
        "RL",
        3,
        ("metric RL at position 3", "upper case", "'h'", "did you mean H"),
    ),
    (
        W.replace("/RL:H", "/RL:"),
        MetricValueError,
        "RL",
        3,
        ("metric RL at position 3", "no value"),
    ),
    (W.replace("/RL:H", "/RL:HH"), MetricValueError, "RL", 3, ("metric RL", "'HH'")),
    (W.replace("/AG:A", "/AG:x"), MetricValueError, "AG", 7, ("metric AG", "'x'", "upper case")),
    (
        W.replace("/EX:O", "/EX: O"),
        VectorSyntaxError,
        "EX",
        10,
        ("whitespace", "part 10", "metric EX"),
    ),
    (W + " ", VectorSyntaxError, "ST", 11, ("whitespace", "part 11", "metric ST")),
    (" " + W, VectorSyntaxError, None, 0, ("whitespace", "prefix", "position 0")),
    (W.replace("/", "/\t", 1), VectorSyntaxError, "LY", 1, ("whitespace", "part 1")),
    (W + "\n", VectorSyntaxError, "ST", 11, ("whitespace",)),
    (
        W.replace("/UN:U", "//UN:U"),
        VectorSyntaxError,
        "UN",
        2,
        ("empty part at position 2", "expected metric UN"),
    ),
    (W + "/", VectorSyntaxError, None, 12, ("empty part at position 12", "trailing '/' after ST")),
    (
        W.replace("/TR:M", "/TRM"),
        VectorSyntaxError,
        "TRM",
        4,
        ("part 4 'TRM' is not METRIC:VALUE", "expected TR"),
    ),
    (W.replace("/TR:M", "/:M"), VectorSyntaxError, "TR", 4, ("part 4", "not METRIC:VALUE")),
]


@pytest.mark.parametrize(("text", "exc", "metric", "position", "fragments"), BAD)
def test_parse_errors_are_typed_and_located(
    text: str,
    exc: type[VectorError],
    metric: str | None,
    position: int | None,
    fragments: tuple[str, ...],
) -> None:
    with pytest.raises(exc) as info:
        parse_vector(text)
    err = info.value
    assert type(err) is exc
    assert err.metric == metric
    assert err.position == position
    msg = str(err)
    assert "\n" not in msg
    for frag in fragments:
        assert frag in msg, (frag, msg)
    # The metric (when there is one) and the position are named in the message itself.
    if metric is not None and exc is not MissingMetricError:
        assert metric in msg
    assert str(position) in msg


def test_vector_errors_are_value_errors_and_jbgrade_errors() -> None:
    import jbgrade

    with pytest.raises(ValueError):
        parse_vector("nope")
    with pytest.raises(jbgrade.JbgradeError):
        parse_vector("nope")


def test_non_string_rejected() -> None:
    with pytest.raises(VectorError, match="must be a string, not int"):
        parse_vector(42)  # type: ignore[arg-type]


def test_huge_input_gives_a_bounded_message() -> None:
    with pytest.raises(MetricValueError) as info:
        parse_vector(W.replace("LY:F", "LY:" + "F" * 10_000))
    assert len(str(info.value)) < 200


def test_canonical_and_mapping_api() -> None:
    v = parse_vector("JBG:1.0/LY:X/UN:D/RL:M/TR:S/HD:C/UP:X/AG:T/AC:M/AU:Y/EX:P/ST:U")
    assert list(v) == ["LY", "UN", "RL", "TR", "HD", "UP", "AG", "AC", "AU", "EX", "ST"]
    assert v["HD"] == "C"
    assert len(v) == 11
    assert v.not_assessed == ("LY", "UP")
    assert v.resolved()["LY"] == "F"
    assert v.resolved()["UP"] == "F"
    assert v.replace(LY="M").canonical().startswith("JBG:1.0/LY:M/UN:D")
    assert str(v) == v.canonical()
    assert v == parse_vector(v.canonical())
    assert hash(v) == hash(parse_vector(v.canonical()))
    assert Vector(dict(v.items())) == v
    with pytest.raises(KeyError):
        v["ZZ"]


def test_vector_constructor_is_strict() -> None:
    good = dict(parse_vector(LOWEST).items())
    with pytest.raises(MissingMetricError) as m:
        Vector({k: x for k, x in good.items() if k != "RL"})
    assert m.value.metric == "RL"
    assert m.value.position == 3
    with pytest.raises(MetricValueError) as b:
        Vector({**good, "EX": "Z"})
    assert b.value.metric == "EX"
    with pytest.raises(UnknownMetricError) as u:
        Vector({**good, "QQ": "A"})
    assert u.value.metric == "QQ"
    with pytest.raises(MetricValueError):
        parse_vector(LOWEST).replace(AG="Q")


@given(any_letters)
def test_round_trip(letters: tuple[str, ...]) -> None:
    s = vec(letters)
    v = parse_vector(s)
    assert v.canonical() == s
    assert parse_vector(v.canonical()) == v
    assert v.values_tuple == letters


@given(any_letters)
def test_fast_and_strict_parsers_agree(letters: tuple[str, ...]) -> None:
    import dataclasses

    from jbgrade.rubric import default_tables

    strict_only = dataclasses.replace(default_tables(), part_letters=())
    s = vec(letters)
    fast, strict = parse_vector(s), parse_vector(s, strict_only)
    assert fast.values_tuple == strict.values_tuple
    assert fast.canonical() == strict.canonical() == s
