"""Interval statistics for the derivation rules (design 0100).

Standard library only. Wilson score intervals for one proportion, Newcombe's
hybrid score interval for a difference of two independent proportions, the
design effect of attempts clustered by behaviour (ANOVA estimate of the
intra-class correlation), and Bonferroni / Holm family-wise control.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from statistics import NormalDist

__all__ = [
    "design_effect",
    "holm",
    "newcombe",
    "newcombe_p_value",
    "wilson_interval",
    "z_one_sided",
]

_N = NormalDist()


def z_one_sided(alpha: float) -> float:
    """The z with P(Z > z) = alpha."""
    return _N.inv_cdf(1.0 - alpha)


def wilson_interval(k: float, n: float, z: float) -> tuple[float, float]:
    """Wilson score interval; ``k`` and ``n`` may be effective (fractional) counts."""
    if n <= 0:
        return 0.0, 1.0
    p = min(1.0, max(0.0, k / n))
    z2 = z * z
    denom = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z * math.sqrt(max(0.0, p * (1 - p) / n + z2 / (4 * n * n))) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe(k1: float, n1: float, k2: float, n2: float, z: float) -> tuple[float, float, float]:
    """p1 - p2 with Newcombe's hybrid score interval (method 10), at normal quantile ``z``.

    Counts may be effective counts (divided by a design effect). An arm with
    ``n == 0`` is taken as rate 0 with the widest interval [0, 1].
    """
    p1 = k1 / n1 if n1 > 0 else 0.0
    p2 = k2 / n2 if n2 > 0 else 0.0
    l1, u1 = wilson_interval(k1, n1, z)
    if n2 > 0:
        l2, u2 = wilson_interval(k2, n2, z)
    else:
        l2, u2 = 0.0, 0.0  # no baseline arm: baseline taken as exactly 0 (noted)
    d = p1 - p2
    lo = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    hi = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return d, max(-1.0, lo), min(1.0, hi)


def newcombe_p_value(k1: float, n1: float, k2: float, n2: float, margin: float) -> float:
    """One-sided p-value of H0: p1 - p2 <= margin, by inverting the Newcombe lower bound."""
    d, _, _ = newcombe(k1, n1, k2, n2, 0.0)
    if d <= margin:
        return 1.0 if d < margin else 0.5
    lo_z, hi_z = 0.0, 12.0
    if newcombe(k1, n1, k2, n2, hi_z)[1] > margin:
        return 1.0 - _N.cdf(hi_z)
    for _ in range(50):
        mid = (lo_z + hi_z) / 2
        if newcombe(k1, n1, k2, n2, mid)[1] > margin:
            lo_z = mid
        else:
            hi_z = mid
    return 1.0 - _N.cdf(lo_z)


def design_effect(clusters: Iterable[tuple[int, int]]) -> tuple[float, float, float]:
    """(design effect, ICC, effective n) of binary outcomes clustered by behaviour.

    ``clusters`` yields (successes, attempts) per behaviour. The intra-class
    correlation is the one-way ANOVA estimate, clipped to [0, 1]; the design
    effect is 1 + (m - 1) * ICC with m the size-weighted mean cluster size.
    """
    cl = [(k, n) for k, n in clusters if n > 0]
    big_n = sum(n for _, n in cl)
    g = len(cl)
    if g < 2 or big_n <= g:
        return 1.0, 0.0, float(big_n)
    p = sum(k for k, _ in cl) / big_n
    msb = sum(n * (k / n - p) ** 2 for k, n in cl) / (g - 1)
    msw = sum(k - k * k / n for k, n in cl) / (big_n - g)
    m0 = (big_n - sum(n * n for _, n in cl) / big_n) / (g - 1)
    denom = msb + (m0 - 1) * msw
    icc = 0.0 if denom <= 0 else min(1.0, max(0.0, (msb - msw) / denom))
    m_bar = sum(n * n for _, n in cl) / big_n
    deff = 1.0 + (m_bar - 1.0) * icc
    return deff, icc, big_n / deff


def holm(p_values: Sequence[float], alpha: float) -> list[bool]:
    """Holm's step-down procedure: which hypotheses are rejected at family-wise ``alpha``."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    m = len(p_values)
    out = [False] * m
    for rank, i in enumerate(order):
        if p_values[i] <= alpha / (m - rank):
            out[i] = True
        else:
            break
    return out
