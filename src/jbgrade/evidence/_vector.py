"""Turning derived metrics into letters or a partial JBG vector for the assessor to complete."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from jbgrade.evidence._model import Evidence
from jbgrade.rubric import NOT_ASSESSED, Tables, Vector, default_tables

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
    tables: Tables | None = None,
) -> Vector:
    """A JBG vector from derived metrics, completed by the assessor's letters.

    Metrics neither side gives are ``X`` (not assessed, scored as the worst
    value and making the grade provisional). ``tables`` picks the standard's version
    (default JBG 1.0; JBG 1.1 adds CG from the comparator arm, design 0105, and
    M-AU 1.1). Where both give a value,
    ``prefer`` decides; callers that must show disagreements compare
    :func:`derived_letters` with the assessor's letters themselves.
    """
    measured = derived_letters(evidence, attack)
    tables = tables or default_tables()
    if tables.version != "1.0" and "AU" not in measured and evidence.attack(attack).unattended:
        measured["AU"] = "Y"  # M-AU 1.1: an unattended attack, RL not consulted
    given = dict(assessor or {})
    values: dict[str, str] = {}
    for m in tables.metrics:
        first, second = (measured, given) if prefer == "measured" else (given, measured)
        values[m.key] = first.get(m.key) or second.get(m.key) or NOT_ASSESSED
    return Vector(values, tables)
