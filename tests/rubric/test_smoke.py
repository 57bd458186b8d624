from __future__ import annotations

import pytest

from jbgrade import MissingMetricError, grade, parse_vector
from tests.rubric.strategies import LOWEST, WORST


def test_worst_is_critical_and_lowest_is_none() -> None:
    assert grade(WORST).severity == "Critical"
    assert grade(LOWEST).severity == "None"


def test_round_trip() -> None:
    assert parse_vector(WORST).canonical() == WORST


def test_missing_metric_named() -> None:
    with pytest.raises(MissingMetricError) as exc:
        parse_vector("JBG:1.0/LY:F/UN:U/RL:H/HD:C/UP:F/AG:A/AC:L/AU:Y/EX:O/ST:A")
    assert exc.value.metric == "TR"
