"""The assessment report record (``report.json``), versioned, with a JSON Schema."""

from __future__ import annotations

import json
from datetime import date, datetime
from functools import cache
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from jbgrade.assess._merge import MeasuredValue, MergedMetric

__all__ = [
    "REPORT_FORMAT",
    "AssessmentReport",
    "CampaignInfo",
    "CaseSummary",
    "EvidenceView",
    "ProfileDecision",
    "RateRow",
    "TargetInfo",
    "TransferCell",
    "report_json_schema",
]

REPORT_FORMAT = 1


class _R(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RateRow(_R):
    """A success rate with its Wilson 95% interval, for one target, domain and arm."""

    target: str
    domain: Literal["G", "S", "W", "C", "all"]
    arm: Literal["attack", "baseline"]
    successes: int = Field(ge=0)
    n: int = Field(ge=0, description="Judged attempts (errors excluded).")
    rate: float = Field(ge=0.0, le=1.0)
    low: float = Field(ge=0.0, le=1.0, description="Lower bound of the Wilson 95% interval.")
    high: float = Field(ge=0.0, le=1.0, description="Upper bound of the Wilson 95% interval.")


class TargetInfo(_R):
    """A target the campaign ran against, and how the jailbreak fared on it."""

    id: str = Field(description="Target id from the campaign spec.")
    model: str = Field(description="Model name.")
    vendor: str = Field(description="Vendor or family.")
    layers: list[str] = Field(default_factory=list, description="Declared protection layers.")
    attack: RateRow | None = Field(
        default=None, description="Attack-arm per-attempt success over all domains."
    )
    baseline: RateRow | None = Field(
        default=None, description="Baseline-arm success over all domains."
    )
    adjusted: float | None = Field(
        default=None, description="Attack rate minus baseline rate, floored at 0."
    )
    affected: bool | None = Field(
        default=None, description="Counts as affected under rule M-TR (None: not computed)."
    )


class TransferCell(_R):
    """Of the behaviours broken on ``source``, the share also broken on ``dest``."""

    source: str = Field(description="Target the behaviours were broken on.")
    dest: str = Field(description="Target checked for the same behaviours.")
    share: float | None = Field(description="broken_both / tested_both (None: nothing to test).")
    broken_both: int = Field(ge=0)
    tested_both: int = Field(ge=0, description="Broken on source and tested on dest.")


class EvidenceView(_R):
    """What a report shows of the measured evidence (one attack: the jailbreak)."""

    campaign: str = Field(description="Campaign id.")
    attack: str = Field(description="The campaign's attack that is this case's jailbreak.")
    attempts: int = Field(description="Attempts recorded.")
    errors: int = Field(description="Attempts that failed (not counted in any rate).")
    targets: list[TargetInfo]
    rates: list[RateRow]
    transfer: list[TransferCell]
    derived: dict[str, MeasuredValue] = Field(description="Metric key -> derived value.")
    notes: list[str] = Field(default_factory=list, description="Caveats from the evidence.")
    raw: dict[str, Any] | None = Field(
        default=None, description="The evidence record as the evidence layer wrote it."
    )


class CampaignInfo(_R):
    """How the campaign step went."""

    status: Literal["none", "complete", "failed", "reused"] = Field(
        description="none: the case has no campaign; reused: finished results were given."
    )
    directory: str | None = Field(default=None, description="Campaign directory.")
    spec_sha256: str | None = Field(default=None, description="SHA-256 of the campaign spec.")
    message: str | None = Field(default=None, description="Why it failed, if it did.")
    duration_s: float | None = Field(default=None, description="Wall time of the run.")


class ProfileDecision(_R):
    """The decision under one policy profile."""

    profile: str
    title: str
    decision: dict[str, Any] | None = Field(
        description="The Decision JSON (action, obligations, fired_rules, near_misses, "
        "provisional, profile, profile_version, bundle_sha256); None if it failed."
    )
    error: str | None = Field(default=None, description="Why no decision could be made.")


class CaseSummary(_R):
    """The case as the report shows it (the payload itself is never included)."""

    id: str
    title: str
    summary: str | None
    file: str = Field(description="The case file.")
    sha256: str = Field(description="SHA-256 of the case file.")
    jailbreak: dict[str, Any] = Field(
        description="Description, attack, payload file name and hash (never the payload)."
    )
    models: list[dict[str, Any]]
    assessor: dict[str, Any]
    assessed_on: date | None
    aware_on: date
    evidence: list[dict[str, Any]] = Field(default_factory=list)


class AssessmentReport(_R):
    """The result of `jbgrade assess` (report format 1)."""

    format_version: Literal[1] = Field(default=1, description="This format's version.")
    kind: Literal["jbgrade-assessment-report"] = "jbgrade-assessment-report"
    generated_at: datetime = Field(description="When the report was made (UTC).")
    jbgrade_version: str = Field(description="jbgrade version that made it.")
    standard: str = Field(description="Grading standard and table revision, e.g. 'JBG 1.0 r1'.")
    complete: bool = Field(
        description="False when a step failed; the report then holds what was completed."
    )
    incomplete: list[str] = Field(default_factory=list, description="What is missing and why.")
    headline: list[str] = Field(description="The answer in a few sentences.")
    case: CaseSummary
    vector: str = Field(description="The vector graded (after merging).")
    hand_vector: str = Field(description="The assessor's values (X where none).")
    measured_vector: str | None = Field(
        default=None, description="The measured values (X where not measurable)."
    )
    metrics: list[MergedMetric] = Field(description="Each metric: both values, used, why.")
    conflicts: list[str] = Field(description="Metrics where measured and hand values disagree.")
    grade: dict[str, Any] = Field(description="The grade (`jbgrade schema show grade`).")
    context: dict[str, Any] = Field(description="The policy context used.")
    context_notes: list[str] = Field(
        default_factory=list, description="Context facts derived from the case's models."
    )
    decisions: list[ProfileDecision]
    campaign: CampaignInfo
    evidence: EvidenceView | None = None


@cache
def report_json_schema() -> dict[str, Any]:
    """The published JSON Schema of ``report.json``."""
    text = resources.files("jbgrade.assess").joinpath("data/report.schema.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data
