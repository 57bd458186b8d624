"""Hypothesis strategies and helpers for JBG vectors (shared by the rubric tests)."""

from __future__ import annotations

from hypothesis import strategies as st

from jbgrade.rubric import NOT_ASSESSED, default_tables

TABLES = default_tables()
METRICS = TABLES.metrics
KEYS = tuple(m.key for m in METRICS)
WORST = "JBG:1.0/LY:F/UN:U/RL:H/TR:M/HD:C/UP:F/AG:A/AC:L/AU:Y/EX:O/ST:A"
LOWEST = "JBG:1.0/LY:M/UN:N/RL:L/TR:S/HD:G/UP:N/AG:T/AC:H/AU:N/EX:R/ST:U"
#: The published keys of a grade, in order (the contract, written out: not read from the code).
GRADE_KEYS = [
    "vector",
    "version",
    "score",
    "severity",
    "criteria",
    "provisional",
    "systemic",
    "explanation",
    "tipping_points",
]


def vec(letters: tuple[str, ...] | list[str]) -> str:
    """Canonical vector string from letters in canonical order."""
    return TABLES.prefix + "/".join(f"{k}:{v}" for k, v in zip(KEYS, letters, strict=True))


concrete_letters = st.tuples(*[st.sampled_from(m.letters) for m in METRICS])
any_letters = st.tuples(*[st.sampled_from((*m.letters, NOT_ASSESSED)) for m in METRICS])


@st.composite
def letters_with_x(draw: st.DrawFn) -> tuple[str, ...]:
    """Letters with at least one X."""
    letters = list(draw(any_letters))
    i = draw(st.integers(0, len(METRICS) - 1))
    letters[i] = NOT_ASSESSED
    return tuple(letters)


@st.composite
def ordered_pairs(draw: st.DrawFn) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(low, high): two concrete vectors with low <= high on every metric."""
    low: list[str] = []
    high: list[str] = []
    for m in METRICS:
        a = draw(st.integers(0, len(m.letters) - 1))
        b = draw(st.integers(a, len(m.letters) - 1))
        low.append(m.letters[a])
        high.append(m.letters[b])
    return tuple(low), tuple(high)
