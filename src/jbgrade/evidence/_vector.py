"""Turning derived metrics into letters or a partial JBG vector for the assessor to complete."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from jbgrade.evidence._model import Evidence
from jbgrade.rubric import NOT_ASSESSED, Vector, default_tables

__all__ = ["derived_letters", "partial_vector"]


def derived_letters(evidence: Evidence, attack: str | None = None) -> dict[str, str]:
    """Letters of the metrics derived for ``attack`` (only those that were derived)."""
    return evidence.letters(attack)


def partial_vector(
    evidence: Evidence,
    assessor: Mapping[str, str] | None = None,
    *,
    attack: str | None = None,
    prefer: Literal["measured", "assessor"] = "measured",
) -> Vector:
    """A JBG vector from derived metrics, completed by the assessor's letters.

    Metrics neither side gives are ``X`` (not assessed, scored as the worst
    value and making the grade provisional). Where both give a value,
    ``prefer`` decides; callers that must show disagreements compare
    :func:`derived_letters` with the assessor's letters themselves.
    """
    measured = derived_letters(evidence, attack)
    given = dict(assessor or {})
    values: dict[str, str] = {}
    for m in default_tables().metrics:
        first, second = (measured, given) if prefer == "measured" else (given, measured)
        values[m.key] = first.get(m.key) or second.get(m.key) or NOT_ASSESSED
    return Vector(values)
