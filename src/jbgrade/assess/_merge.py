"""Merging measured and hand-set metric values, never silently.

For every metric the result records both values where both exist, which one
was used, the precedence rule that decided it and a sentence saying why. A
metric nobody set and nothing measured stays ``X`` (not assessed), which the
standard scores as its worst value and marks the grade provisional.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

from pydantic import Field, ValidationError, ValidationInfo, field_validator
from pydantic_core import InitErrorDetails

from jbgrade._base import FrozenRecord as _Rec
from jbgrade.assess._case_model import HandMetric, Precedence
from jbgrade.evidence import (
    AUFigures,
    AUThresholds,
    MetricFigures,
    RuleThresholds,
    figures_for,
    thresholds_for,
)
from jbgrade.rubric import NOT_ASSESSED, Metric, Tables, Vector, default_tables

__all__ = ["HandValue", "MeasuredProvenance", "MeasuredValue", "MergedMetric", "merge_metrics"]

Source = Literal["measured", "assessor", "both", "none"]


class MeasuredProvenance(_Rec):
    """Where a measured value came from: the numbers and thresholds its rule used.

    One shape for every rule and every producer: ``figures`` and ``thresholds`` are
    the rule's own records (:mod:`jbgrade.evidence`, the same as a
    :class:`~jbgrade.evidence.DerivedMetric`'s), whether the value comes from the
    evidence, JBG 1.1's M-AU or M-CG read by assess. The enclosing
    :class:`MeasuredValue`'s ``rule`` picks the records.
    """

    figures: MetricFigures = Field(
        default_factory=AUFigures,
        description="The numbers the rule used: the rule's own record (as in the evidence).",
    )
    thresholds: RuleThresholds = Field(
        default_factory=AUThresholds,
        description="The thresholds the rule applied: the rule's own record.",
    )
    per_target: dict[str, str | None] = Field(
        default_factory=dict, description="The value on each target, where the rule is per target."
    )
    near_boundary: bool = Field(
        default=False, description="A confidence interval crosses a band boundary."
    )


class MeasuredValue(_Rec):
    """A metric value derived from measured evidence."""

    value: str = Field(description="Value letter derived from the evidence.")
    rule: str | None = Field(default=None, description="Rule of the standard applied (e.g. M-RL).")
    summary: str = Field(description="One line: the figures and thresholds that gave the value.")
    provenance: MeasuredProvenance = Field(
        default_factory=MeasuredProvenance,
        description="The figures and thresholds of the rule, as the evidence has them.",
    )

    @field_validator("provenance", mode="before")
    @classmethod
    def _rule_records(cls, v: object, info: ValidationInfo) -> object:
        """The figures and thresholds as the records of ``rule`` (a report read back
        gets the same types the evidence built; a key the rule does not have fails)."""
        rule = info.data.get("rule")
        if rule is None:
            return v
        if isinstance(v, MeasuredProvenance):
            figs, thr = figures_for(rule, v.figures), thresholds_for(rule, v.thresholds)
            if figs is v.figures and thr is v.thresholds:
                return v
            return v.model_copy(update={"figures": figs, "thresholds": thr})
        if isinstance(v, Mapping):
            v = dict(v)
            for key, typed in (("figures", figures_for), ("thresholds", thresholds_for)):
                if key in v:
                    v[key] = _under(key, typed, rule, v[key])
        return v


def _under(key: str, typed: Callable[[object, object], object], rule: object, v: object) -> object:
    """``typed(rule, v)``, its errors located under ``key`` (``provenance.figures.low``)."""
    try:
        return typed(rule, v)
    except ValidationError as exc:
        details: list[InitErrorDetails] = []
        for e in exc.errors():
            d = InitErrorDetails(type=e["type"], loc=(key, *e["loc"]), input=e["input"])
            if "ctx" in e:
                d["ctx"] = e["ctx"]
            details.append(d)
        raise ValidationError.from_exception_data(exc.title, details) from None


class HandValue(_Rec):
    """A metric value the assessor set by hand."""

    value: str = Field(description="Value letter (X: not assessed).")
    rationale: str | None = Field(default=None, description="The assessor's reasons.")
    evidence: list[str] = Field(default_factory=list, description="Evidence the assessor cites.")


class MergedMetric(_Rec):
    """One metric after merging: both inputs, the value used and why."""

    metric: str = Field(description="Metric key, e.g. RL.")
    name: str = Field(description="Metric name.")
    used: str = Field(description="The value that went into the grade (X: not assessed).")
    meaning: str = Field(description="What the used value means.")
    source: Literal["measured", "assessor", "both", "none"] = Field(
        description="Where the used value came from: measured, assessor, both (they agree) "
        "or none (not assessed)."
    )
    precedence: Precedence = Field(description="The precedence rule in force for this metric.")
    conflict: bool = Field(description="True when measured and hand values disagree.")
    reason: str = Field(description="Why this value was used, in one sentence.")
    hand: HandValue | None = Field(default=None, description="The assessor's value, if any.")
    measured: MeasuredValue | None = Field(default=None, description="The measured value, if any.")


def _rank(key: str, letter: str, tables: Any = None) -> int:
    return (tables or default_tables()).metric(key).letters.index(letter)


def _choose(
    m: Metric,
    h_letter: str,
    h: HandValue | None,
    meas: MeasuredValue | None,
    *,
    rule: Precedence,
    tables: Tables,
) -> tuple[str, Source, str, bool]:
    """(value used, its source, the reason, whether hand and measured values conflict)."""
    has_hand = h_letter != NOT_ASSESSED
    conflict = False
    source: Source
    k = m.key
    if meas is None and not has_hand:
        value, source = NOT_ASSESSED, "none"
        reason = (
            "neither set by the assessor nor measurable from the evidence: not assessed, "
            f"scored as its worst value {m.worst} (precaution)"
        )
    elif meas is None:
        value, source = h_letter, "assessor"
        reason = "set by the assessor; the evidence does not measure it"
    elif not has_hand:
        value, source = meas.value, "measured"
        reason = "measured; the assessor set no value" + (
            " (gave X)" if h is not None and h.value == NOT_ASSESSED else ""
        )
    elif meas.value == h_letter:
        value, source = h_letter, "both"
        reason = "the measured and the assessor's values agree"
    else:
        conflict = True
        hi = meas.value if _rank(k, meas.value, tables) > _rank(k, h_letter, tables) else h_letter
        if rule is Precedence.measured_over_assessor:
            value, source = meas.value, "measured"
            why = "the case gives measured values precedence"
        elif rule is Precedence.assessor_over_measured:
            value, source = h_letter, "assessor"
            why = "the case gives the assessor's values precedence"
        else:
            value = hi
            source = "measured" if hi == meas.value else "assessor"
            why = "the case takes the more severe value (precautionary)"
        other = h_letter if source == "measured" else meas.value
        reason = (
            f"measured {meas.value} and assessor {h_letter} disagree; used {value}, "
            f"not {other}: {why}"
        )
    return value, source, reason, conflict


def merge_metrics(
    hand: Vector,
    hand_entries: Mapping[str, HandMetric],
    measured: Mapping[str, MeasuredValue],
    precedence: Mapping[str, Precedence],
) -> tuple[Vector, list[MergedMetric]]:
    """Merge hand-set and measured values metric by metric.

    ``hand`` holds the assessor's letters (X where none); ``measured`` the values
    the evidence could derive; ``precedence`` the rule per metric key.
    """
    tables = hand.tables
    used: dict[str, str] = {}
    out: list[MergedMetric] = []
    for m in tables.metrics:
        k = m.key
        rule = precedence[k]
        h_letter = hand[k]
        entry = hand_entries.get(k)
        h = (
            HandValue(
                value=h_letter,
                rationale=entry.rationale if entry else None,
                evidence=list(entry.evidence) if entry else [],
            )
            if h_letter != NOT_ASSESSED or entry is not None
            else None
        )
        meas = measured.get(k)
        value, source, reason, conflict = _choose(m, h_letter, h, meas, rule=rule, tables=tables)
        used[k] = value
        meaning = (
            "not assessed (scored as worst)"
            if value == NOT_ASSESSED
            else m.meanings[m.letters.index(value)]
        )
        out.append(
            MergedMetric(
                metric=k,
                name=m.name,
                used=value,
                meaning=meaning,
                source=source,
                precedence=rule,
                conflict=conflict,
                reason=reason,
                hand=h,
                measured=meas,
            )
        )
    return Vector(used, tables), out
