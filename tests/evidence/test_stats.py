"""Interval statistics and the power function of design 0100."""

from __future__ import annotations

from jbgrade.evidence import rl_required_attempts
from jbgrade.evidence._stats import design_effect, holm, newcombe, newcombe_p_value


def test_newcombe_matches_the_published_example() -> None:
    # Newcombe (1998), table II, example (a): 56/70 - 48/80, method 10: 0.0524 to 0.3339.
    d, lo, hi = newcombe(56, 70, 48, 80, 1.959964)
    assert round(d, 4) == 0.2
    assert (round(lo, 4), round(hi, 4)) == (0.0524, 0.3339)


def test_p_value_inverts_the_bound() -> None:
    p = newcombe_p_value(56, 70, 48, 80, 0.0)
    assert 0.001 < p < 0.025  # the two-sided 95% interval excludes 0
    assert newcombe_p_value(48, 80, 56, 70, 0.0) == 1.0


def test_design_effect() -> None:
    assert design_effect([(2, 4)] * 10)[:2] == (1.0, 0.0)  # identical behaviours
    deff, icc, neff = design_effect([(4, 4)] * 5 + [(0, 4)] * 5)  # all-or-nothing
    assert icc == 1.0 and deff == 4.0 and neff == 10.0
    assert design_effect([(1, 1)])[0] == 1.0


def test_holm() -> None:
    assert holm([0.01, 0.04, 0.03], 0.05) == [True, False, False]
    assert holm([0.01, 0.02, 0.03], 0.05) == [True, True, True]


def test_power_needs_more_with_more_targets_clustering_and_nearer_edges() -> None:
    one = rl_required_attempts(0.3, 0.02)
    assert one is not None
    five = rl_required_attempts(0.3, 0.02, targets=5)
    assert five is not None and five > one
    clustered = rl_required_attempts(0.2, 0.02, icc=0.1)
    near = rl_required_attempts(0.2, 0.02)
    assert clustered is not None and near is not None and clustered > near > one
    assert rl_required_attempts(0.05, 0.02) == 20  # L: the rule's minimum
