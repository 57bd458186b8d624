"""Deliberately broken copies of the JBG 1.0 tables (each breaks exactly one rule)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from jbgrade.rubric import default_tables


def _base() -> dict[str, Any]:
    return copy.deepcopy(default_tables().raw)


def break_monotonicity() -> dict[str, Any]:
    """Open weights worth fewer RI points than a public API: raising EX lowers the score."""
    raw = _base()
    raw["criteria"]["RI"]["points"]["EX"]["O"] = 0
    return raw


def break_anchor_a1() -> dict[str, Any]:
    """General policy violations with agency reach EC level 2, so HD:G can be High."""
    raw = _base()
    raw["criteria"]["EC"]["table"]["G/F/A"] = 2
    return raw


def break_shape() -> dict[str, Any]:
    """A row of the EC lookup table is missing."""
    raw = _base()
    del raw["criteria"]["EC"]["table"]["C/F/A"]
    return raw


def break_relevance() -> dict[str, Any]:
    """Automatable earns no points: AU never changes the score."""
    raw = _base()
    raw["criteria"]["RI"]["points"]["AU"]["Y"] = 0
    return raw


def drop_anchor_a3() -> dict[str, Any]:
    """A copy that silently deletes a normative anchor."""
    raw = _base()
    raw["anchors"] = [a for a in raw["anchors"] if a["id"] != "A3"]
    return raw


def break_score_table_axis() -> dict[str, Any]:
    """A score-table cell above its neighbour on the next RI level."""
    raw = _base()
    raw["score"]["table"][4][4][2] = 9.9
    return raw


def break_severity_bands() -> dict[str, Any]:
    """A gap between Low and Medium: 3.95 would fall in no band (shape error)."""
    raw = _base()
    raw["severity_bands"][2]["min"] = 4.1
    return raw


# name -> (builder, check name expected in the report, or "shape" for a load-time error)
BROKEN: dict[str, tuple[Callable[[], dict[str, Any]], str]] = {
    "monotonicity": (break_monotonicity, "monotonicity"),
    "anchor": (break_anchor_a1, "anchor:A1"),
    "shape": (break_shape, "shape"),
    "relevance": (break_relevance, "relevance:AU"),
    "dropped-anchor": (drop_anchor_a3, "conformance"),
    "score-axis": (break_score_table_axis, "monotonicity"),
    "bands": (break_severity_bands, "shape"),
}
