"""Calibration: how far do assessors agree when they grade the same cases?

Input is a directory of YAML files: calibration scenarios (one scenario, its
description and several assessors' vectors) and/or case files (grouped by case
id; the assessor's hand values are used, no campaign is run). Agreement is
Krippendorff's alpha, ordinal for every metric and for the severity label,
interval for the score, each with a seeded bootstrap interval over scenarios.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import jsonschema
from pydantic import Field

from jbgrade._base import FrozenRecord as _M
from jbgrade._errors import CaseFileError, InputError, VectorError
from jbgrade._vocab import Domain, Severity
from jbgrade._yaml import LocatedDoc, read_located
from jbgrade.assess._alpha import AlphaResult, Level, alpha_with_interval
from jbgrade.assess._case import load_case
from jbgrade.rubric import (
    NOT_ASSESSED,
    SEVERITIES,
    Grade,
    Tables,
    Vector,
    default_tables,
    grade,
    parse_vector,
)

__all__ = [
    "CALIBRATION_FORMAT",
    "Agreement",
    "CalibrationAssessment",
    "CalibrationReport",
    "CalibrationScenario",
    "ScenarioSpread",
    "calibrate",
    "calibration_json_schema",
    "load_calibration_dir",
]

CALIBRATION_FORMAT = 1


class CalibrationAssessment(_M):
    """One assessor's grading of a calibration scenario."""

    assessor: str = Field(description="Assessor's name or pseudonym.")
    organisation: str | None = Field(default=None, description="Organisation, if any.")
    vector: str = Field(description="The assessor's JBG vector (X where not assessed).")
    rationale: str | None = Field(default=None, description="The assessor's reasons.")


class CalibrationScenario(_M):
    """A described scenario graded independently by several assessors."""

    calibration_format: Literal[1] = Field(description="Calibration file format; this is 1.")
    id: str = Field(description="Scenario identifier, unique in the pack.")
    title: str = Field(description="Short title.")
    domain: Domain = Field(description="The scenario's hazard domain.")
    description: str = Field(
        description="The scenario as the assessors read it (synthetic, non-actionable)."
    )
    intended_label: Severity | None = Field(
        default=None, description="The label the pack's authors meant the scenario to illustrate."
    )
    assessments: list[CalibrationAssessment] = Field(
        min_length=1, description="Independent gradings."
    )


class Agreement(_M):
    """Krippendorff's alpha for one variable, with its bootstrap interval."""

    variable: str = Field(description="Metric key, 'label' or 'score'.")
    name: str = Field(description="What the variable is.")
    level: Level = Field(description="Level of measurement used for alpha.")
    alpha: float | None = Field(description="Alpha; None when undefined (no variation).")
    low: float | None = Field(description="Lower bound of the bootstrap interval.")
    high: float | None = Field(description="Upper bound of the bootstrap interval.")
    units: int = Field(description="Scenarios with at least two pairable values.")
    values: int = Field(description="Pairable values.")
    agreement: float = Field(description="Share of pairs of values that agree exactly.")
    replicates: int = Field(description="Bootstrap replicates with a defined alpha.")


class ScenarioSpread(_M):
    """How the assessors graded one scenario."""

    id: str
    title: str
    domain: str
    intended_label: str | None
    labels: dict[str, str] = Field(description="Assessor -> label.")
    scores: dict[str, float] = Field(description="Assessor -> score.")
    disagreeing_metrics: list[str] = Field(description="Metrics with more than one value.")


class CalibrationReport(_M):
    """The result of `jbgrade calibrate` (format 1)."""

    format_version: Literal[1] = 1
    generated_at: datetime = Field(description="When the report was made (UTC).")
    source: str = Field(description="The directory analysed.")
    scenarios: int = Field(description="Number of scenarios (units).")
    assessors: list[str] = Field(description="Every assessor seen.")
    gradings: int = Field(description="Number of gradings.")
    replicates: int = Field(description="Bootstrap replicates requested.")
    seed: int = Field(description="Bootstrap seed.")
    confidence: float = Field(description="Confidence level of the intervals.")
    overall: Agreement = Field(description="Agreement on the severity label (ordinal).")
    score: Agreement = Field(description="Agreement on the score (interval).")
    metrics: list[Agreement] = Field(description="Agreement per metric (ordinal).")
    weakest: list[str] = Field(
        description="Metrics with the weakest agreement, weakest first (undefined alpha last)."
    )
    spread: list[ScenarioSpread] = Field(description="Each scenario's gradings.")


@cache
def calibration_json_schema() -> dict[str, Any]:
    """The published JSON Schema of calibration scenario files."""
    text = (
        resources.files("jbgrade.assess")
        .joinpath("data/calibration.schema.json")
        .read_text("utf-8")
    )
    data: dict[str, Any] = json.loads(text)
    return data


def _load_scenario(doc: LocatedDoc) -> CalibrationScenario:
    errors = sorted(
        jsonschema.Draft202012Validator(calibration_json_schema()).iter_errors(doc.data),
        key=lambda e: doc.line_of(e.absolute_path) or 0,
    )
    if errors:
        e = errors[0]
        raise doc.error(e.message, list(e.absolute_path), cls=CaseFileError)
    sc = CalibrationScenario.model_validate(doc.data)
    for i, a in enumerate(sc.assessments):
        try:
            parse_vector(a.vector)
        except VectorError as exc:
            raise doc.error(str(exc), ("assessments", i, "vector"), cls=CaseFileError) from None
    return sc


def load_calibration_dir(directory: str | Path) -> list[CalibrationScenario]:
    """Every scenario in ``directory`` (scenario files, and case files grouped by id)."""
    d = Path(directory)
    if not d.is_dir():
        raise InputError("not a directory", path=str(d))
    files = sorted(p for p in d.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
    scenarios: dict[str, CalibrationScenario] = {}
    from_cases: dict[str, list[tuple[str, str, str, str | None]]] = {}
    titles: dict[str, tuple[str, str]] = {}
    for f in files:
        doc = read_located(f, cls=CaseFileError)
        if isinstance(doc.data, dict) and "calibration_format" in doc.data:
            sc = _load_scenario(doc)
            if sc.id in scenarios:
                raise doc.error(f"scenario id {sc.id!r} used twice", ("id",), cls=CaseFileError)
            scenarios[sc.id] = sc
        elif isinstance(doc.data, dict) and "case_format" in doc.data:
            lc = load_case(f, text=doc.text)
            c = lc.case
            from_cases.setdefault(c.id, []).append(
                (c.assessor.name, c.assessor.organisation, lc.hand.canonical(), None)
            )
            titles[c.id] = (c.title, c.jailbreak.description)
        else:
            # Neither kind: other YAML (payloads, campaign specs) may live alongside.
            continue
    for cid, rows in from_cases.items():
        vec = parse_vector(rows[0][2])
        hd = vec["HD"] if vec["HD"] != NOT_ASSESSED else "C"
        scenarios.setdefault(
            cid,
            CalibrationScenario(
                calibration_format=1,
                id=cid,
                title=titles[cid][0],
                domain=hd,  # type: ignore[arg-type]
                description=titles[cid][1],
                assessments=[
                    CalibrationAssessment(assessor=n, organisation=o, vector=v, rationale=r)
                    for n, o, v, r in rows
                ],
            ),
        )
    if not scenarios:
        raise InputError("no calibration scenarios or case files found", path=str(d))
    return [scenarios[k] for k in sorted(scenarios)]


def _who(a: CalibrationAssessment) -> str:
    return f"{a.assessor} ({a.organisation})" if a.organisation else a.assessor


def _agreement(
    *,
    variable: str,
    name: str,
    units: Sequence[Sequence[Any]],
    level: Level,
    order: Sequence[Any] | None,
    replicates: int,
    seed: int,
    confidence: float,
) -> Agreement:
    r: AlphaResult = alpha_with_interval(
        units, level, order, replicates=replicates, seed=seed, confidence=confidence
    )
    return Agreement(
        variable=variable,
        name=name,
        level=level,
        alpha=r.alpha,
        low=r.low,
        high=r.high,
        units=r.units,
        values=r.values,
        agreement=r.agreement,
        replicates=r.replicates,
    )


def _vectors(
    scenarios: Sequence[CalibrationScenario], assessors: list[str], source: str
) -> tuple[list[list[Vector | None]], Tables]:
    """Scenario x assessor vectors (None: not graded), and the one version's tables."""
    col = {a: i for i, a in enumerate(assessors)}
    vectors: list[list[Vector | None]] = []
    for s in scenarios:
        row: list[Vector | None] = [None] * len(assessors)
        for a in s.assessments:
            row[col[_who(a)]] = parse_vector(a.vector)
        vectors.append(row)
    # Agreement is per metric of one version of the standard: the pack's (JBG 1.0 or 1.1).
    versions = {v.tables.version for row in vectors for v in row if v is not None}
    if len(versions) > 1:
        raise InputError(
            f"calibration pack mixes JBG versions {', '.join(sorted(versions))}: migrate the "
            "1.0 vectors (jbgrade migrate VECTOR --to 1.1)",
            path=source or None,
        )
    tables = next((v.tables for row in vectors for v in row if v is not None), default_tables())
    return vectors, tables


def _spread(
    scenarios: Sequence[CalibrationScenario],
    assessors: list[str],
    vectors: list[list[Vector | None]],
    grades: list[list[Grade | None]],
    tables: Tables,
) -> list[ScenarioSpread]:
    """Per scenario: each assessor's label and score, and the metrics they disagree on."""
    spread = []
    for s, row, grow in zip(scenarios, vectors, grades, strict=True):
        present = [
            (assessors[j], v, g) for j, (v, g) in enumerate(zip(row, grow, strict=True)) if v
        ]
        dis = [
            m.key
            for m in tables.metrics
            if len({v[m.key] for _, v, _ in present if v[m.key] != NOT_ASSESSED}) > 1
        ]
        spread.append(
            ScenarioSpread(
                id=s.id,
                title=s.title,
                domain=s.domain,
                intended_label=s.intended_label,
                labels={w: g.severity for w, _, g in present if g},
                scores={w: g.score for w, _, g in present if g},
                disagreeing_metrics=dis,
            )
        )
    return spread


def calibrate(
    scenarios: Sequence[CalibrationScenario],
    *,
    source: str = "",
    replicates: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> CalibrationReport:
    """Alpha per metric, for the label and for the score, with bootstrap intervals."""
    assessors = sorted({_who(a) for s in scenarios for a in s.assessments})
    vectors, tables = _vectors(scenarios, assessors, source)
    metrics: list[Agreement] = []
    for i, m in enumerate(tables.metrics):
        units = [
            [None if v is None or v[m.key] == NOT_ASSESSED else v[m.key] for v in row]
            for row in vectors
        ]
        metrics.append(
            _agreement(
                variable=m.key,
                name=m.name,
                units=units,
                level="ordinal",
                order=m.letters,
                replicates=replicates,
                seed=seed + i,
                confidence=confidence,
            )
        )
    grades = [[grade(v) if v is not None else None for v in row] for row in vectors]
    label_units = [[g.severity if g else None for g in row] for row in grades]
    score_units = [[g.score if g else None for g in row] for row in grades]
    overall = _agreement(
        variable="label",
        name="Severity label",
        units=label_units,
        level="ordinal",
        order=SEVERITIES,
        replicates=replicates,
        seed=seed,
        confidence=confidence,
    )
    score = _agreement(
        variable="score",
        name="Score 0.0-10.0",
        units=score_units,
        level="interval",
        order=None,
        replicates=replicates,
        seed=seed,
        confidence=confidence,
    )
    ranked = sorted(metrics, key=lambda a: (a.alpha is None, a.alpha if a.alpha is not None else 0))
    weakest = [a.variable for a in ranked if a.alpha is not None][:3]
    spread = _spread(scenarios, assessors, vectors, grades, tables)
    return CalibrationReport(
        generated_at=datetime.now(UTC),
        source=source,
        scenarios=len(scenarios),
        assessors=assessors,
        gradings=sum(len(s.assessments) for s in scenarios),
        replicates=replicates,
        seed=seed,
        confidence=confidence,
        overall=overall,
        score=score,
        metrics=metrics,
        weakest=weakest,
        spread=spread,
    )
