"""Krippendorff's alpha against published values and an independent implementation."""

from __future__ import annotations

import math
import random

import pytest

from jbgrade.assess import alpha_with_interval, krippendorff_alpha

N = None
# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C:
# 4 observers x 12 units, values 1-5, with missing values.
KRIPPENDORFF_2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, N, N, N],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, N, 3],
    [N, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, N],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, N],
]
# The worked example of the Wikipedia article on Krippendorff's alpha (3 coders, 15 units).
WIKIPEDIA = [
    [N, N, N, N, N, 3, 4, 1, 2, 1, 1, 3, 3, N, 3],
    [1, N, 2, 1, 3, 3, 4, 3, N, N, N, N, N, N, N],
    [N, N, 2, 1, 3, 4, 4, N, 2, 1, 1, 3, 3, N, 4],
]


def units(coders: list[list[int | None]]) -> list[tuple[int | None, ...]]:
    return list(zip(*coders, strict=True))


@pytest.mark.parametrize(
    ("level", "expected"),
    [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)],
)
def test_textbook_values(level: str, expected: float) -> None:
    a = krippendorff_alpha(units(KRIPPENDORFF_2011), level, None)  # type: ignore[arg-type]
    assert a is not None
    assert round(a, 3) == expected


def test_wikipedia_values() -> None:
    u = units(WIKIPEDIA)
    assert round(krippendorff_alpha(u, "nominal") or 0, 3) == 0.691
    assert round(krippendorff_alpha(u, "interval") or 0, 3) == 0.811


def test_ordinal_depends_on_order_not_spacing() -> None:
    u = units(KRIPPENDORFF_2011)
    relabel = {1: "a", 2: "b", 3: "c", 4: "d", 5: "e"}
    letters = [tuple(None if v is None else relabel[v] for v in row) for row in u]
    assert krippendorff_alpha(letters, "ordinal", "abcde") == pytest.approx(
        krippendorff_alpha(u, "ordinal")
    )
    # Spreading the top value far away changes interval alpha but not ordinal alpha.
    spread = [tuple(None if v is None else (50 if v == 5 else v) for v in row) for row in u]
    assert krippendorff_alpha(spread, "ordinal") == pytest.approx(krippendorff_alpha(u, "ordinal"))
    assert krippendorff_alpha(spread, "interval") != pytest.approx(
        krippendorff_alpha(u, "interval")
    )


def test_perfect_agreement_and_no_variation() -> None:
    assert krippendorff_alpha([(1, 1), (2, 2), (3, 3)], "ordinal") == 1.0
    # Everyone gives the same single value: alpha is undefined, not 1.
    assert krippendorff_alpha([(2, 2), (2, 2)], "ordinal") is None
    # Units with fewer than two values are not pairable.
    r = alpha_with_interval([(1, None), (None, None), (1, 2), (2, 2)], "nominal", replicates=0)
    assert r.units == 2
    assert r.values == 4


def test_systematic_disagreement_is_negative() -> None:
    a = krippendorff_alpha([(1, 2), (2, 1), (1, 2), (2, 1)], "nominal")
    assert a is not None
    assert a < 0


def test_unknown_value_for_given_order_is_rejected() -> None:
    with pytest.raises(ValueError, match="not in the given order"):
        krippendorff_alpha([("a", "z")], "ordinal", "abc")


def test_bootstrap_is_seeded_and_brackets_alpha() -> None:
    u = units(KRIPPENDORFF_2011)
    r1 = alpha_with_interval(u, "ordinal", replicates=500, seed=7)
    r2 = alpha_with_interval(u, "ordinal", replicates=500, seed=7)
    r3 = alpha_with_interval(u, "ordinal", replicates=500, seed=8)
    assert (r1.low, r1.high) == (r2.low, r2.high)
    assert (r1.low, r1.high) != (r3.low, r3.high)
    assert r1.low is not None and r1.high is not None and r1.alpha is not None
    assert r1.low <= r1.alpha <= r1.high
    assert r1.replicates + r1.skipped == 500


def _random_data(rng: random.Random) -> list[list[int | None]]:
    coders, n_units, k = rng.randint(2, 5), rng.randint(3, 25), rng.randint(2, 5)
    data: list[list[int | None]] = []
    for _ in range(coders):
        row: list[int | None] = []
        for _ in range(n_units):
            row.append(None if rng.random() < 0.2 else rng.randint(1, k))
        data.append(row)
    return data


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval", "ratio"])
def test_matches_the_krippendorff_package(level: str) -> None:
    kp = pytest.importorskip("krippendorff")  # dev extra: an independent implementation
    np = pytest.importorskip("numpy")
    rng = random.Random(level)
    checked = 0
    for _ in range(40):
        data = _random_data(rng)
        ours = krippendorff_alpha(units(data), level)  # type: ignore[arg-type]
        arr = np.array([[np.nan if v is None else v for v in row] for row in data], dtype=float)
        try:
            with np.errstate(divide="ignore", invalid="ignore"):
                theirs = kp.alpha(reliability_data=arr, level_of_measurement=level)
        except ValueError:  # fewer than two distinct values: undefined for them too
            assert ours is None
            continue
        if ours is None:
            assert not math.isfinite(theirs)
            continue
        assert ours == pytest.approx(theirs, abs=1e-9)
        checked += 1
    assert checked >= 25
