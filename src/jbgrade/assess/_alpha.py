"""Krippendorff's alpha, our own implementation, with a seeded unit bootstrap.

Follows Krippendorff, "Computing Krippendorff's Alpha-Reliability" (2011):
build the coincidence matrix from every unit with at least two pairable
values (each ordered pair of values in a unit adds 1/(m_u - 1)), then

    alpha = 1 - (n - 1) * sum_ck o_ck d2_ck / sum_ck n_c n_k d2_ck

with the difference function d2 of the level of measurement. Ordinal
differences use the marginal counts between two ranks, so only the order of
the values matters, never their spacing.

The bootstrap resamples units with replacement (seeded, percentile interval).
Each unit's share of the coincidence matrix is computed once, so a replicate
is a sum of small matrices; a replicate whose alpha is undefined (no variation
at all) is skipped and counted.
"""

from __future__ import annotations

import math
import random
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = ["AlphaResult", "Level", "alpha_with_interval", "krippendorff_alpha"]

Level = Literal["nominal", "ordinal", "interval", "ratio"]


@dataclass(frozen=True, slots=True)
class AlphaResult:
    """Alpha with its bootstrap interval and the data it rests on."""

    alpha: float | None  # None: undefined (no variation in the pairable values)
    low: float | None
    high: float | None
    units: int  # units with at least two pairable values
    values: int  # pairable values (n)
    replicates: int  # bootstrap replicates that gave a defined alpha
    skipped: int  # replicates with undefined alpha
    agreement: float  # share of pairable value pairs that agree exactly (0..1)


def _domain(
    units: Sequence[Sequence[Hashable | None]], order: Sequence[Hashable] | None
) -> list[Hashable]:
    present = {v for u in units for v in u if v is not None}
    if order is not None:
        missing = present - set(order)
        if missing:
            raise ValueError(f"values {sorted(map(str, missing))} not in the given order")
        return list(order)
    return sorted(present, key=lambda v: (str(type(v)), v))


def _unit_shares(
    units: Sequence[Sequence[Hashable | None]], index: dict[Hashable, int]
) -> list[list[tuple[int, int, float]]]:
    shares: list[list[tuple[int, int, float]]] = []
    for u in units:
        vals = [index[v] for v in u if v is not None]
        m = len(vals)
        if m < 2:
            continue
        counts: dict[int, int] = {}
        for v in vals:
            counts[v] = counts.get(v, 0) + 1
        w = 1.0 / (m - 1)
        share = []
        for c, nc in counts.items():
            for k, nk in counts.items():
                pairs = nc * (nc - 1) if c == k else nc * nk
                if pairs:
                    share.append((c, k, pairs * w))
        shares.append(share)
    return shares


def _delta2(level: Level, values: Sequence[float], n_c: Sequence[float]) -> list[list[float]]:
    size = len(n_c)
    d = [[0.0] * size for _ in range(size)]
    for c in range(size):
        for k in range(size):
            if c == k:
                continue
            if level == "nominal":
                d[c][k] = 1.0
            elif level == "ordinal":
                lo, hi = min(c, k), max(c, k)
                s = sum(n_c[lo : hi + 1]) - (n_c[c] + n_c[k]) / 2.0
                d[c][k] = s * s
            elif level == "interval":
                d[c][k] = (values[c] - values[k]) ** 2
            else:  # ratio
                tot = values[c] + values[k]
                d[c][k] = ((values[c] - values[k]) / tot) ** 2 if tot else 0.0
    return d


def _alpha_from(
    o: list[list[float]], level: Level, values: Sequence[float]
) -> tuple[float | None, float, float]:
    n_c = [sum(row) for row in o]
    n = sum(n_c)
    if n <= 1:
        return None, n, 1.0
    agree = sum(o[c][c] for c in range(len(n_c))) / n
    d = _delta2(level, values, n_c)
    size = len(n_c)
    do = sum(o[c][k] * d[c][k] for c in range(size) for k in range(size))
    de = sum(n_c[c] * n_c[k] * d[c][k] for c in range(size) for k in range(size))
    if de == 0.0:
        return None, n, agree
    return 1.0 - (n - 1) * do / de, n, agree


def _matrix(shares: Sequence[Sequence[tuple[int, int, float]]], size: int) -> list[list[float]]:
    o = [[0.0] * size for _ in range(size)]
    for share in shares:
        for c, k, w in share:
            o[c][k] += w
    return o


def krippendorff_alpha(
    units: Sequence[Sequence[Hashable | None]],
    level: Level = "ordinal",
    order: Sequence[Hashable] | None = None,
) -> float | None:
    """Krippendorff's alpha over ``units`` (each a sequence of values, None = missing).

    ``order`` gives the ranks (ordinal) of the possible values, lowest first; for
    interval and ratio levels the values themselves must be numbers. Returns None
    when alpha is undefined (the pairable values show no variation).
    """
    return alpha_with_interval(units, level, order, replicates=0).alpha


def alpha_with_interval(
    units: Sequence[Sequence[Hashable | None]],
    level: Level = "ordinal",
    order: Sequence[Hashable] | None = None,
    *,
    replicates: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> AlphaResult:
    """Alpha and a percentile bootstrap interval from resampling units."""
    domain = _domain(units, order)
    index = {v: i for i, v in enumerate(domain)}
    if level in ("interval", "ratio"):
        numeric = [float(v) for v in domain]  # type: ignore[arg-type]
    else:
        numeric = [float(i) for i in range(len(domain))]
    shares = _unit_shares(units, index)
    size = len(domain)
    alpha, n, agree = _alpha_from(_matrix(shares, size), level, numeric)
    low = high = None
    got = skipped = 0
    if replicates > 0 and shares and alpha is not None:
        rng = random.Random(seed)
        k = len(shares)
        boot: list[float] = []
        for _ in range(replicates):
            sample = [shares[rng.randrange(k)] for _ in range(k)]
            a, _, _ = _alpha_from(_matrix(sample, size), level, numeric)
            if a is None:
                skipped += 1
            else:
                boot.append(a)
        got = len(boot)
        if boot:
            boot.sort()
            tail = (1.0 - confidence) / 2.0
            low = _quantile(boot, tail)
            high = _quantile(boot, 1.0 - tail)
    return AlphaResult(alpha, low, high, len(shares), round(n), got, skipped, agree)


def _quantile(sorted_vals: Sequence[float], q: float) -> float:
    # Linear interpolation between closest ranks (numpy's default "linear").
    pos = q * (len(sorted_vals) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_vals) - 1)
    frac = pos - lo
    return sorted_vals[lo] * (1 - frac) + sorted_vals[hi] * frac
