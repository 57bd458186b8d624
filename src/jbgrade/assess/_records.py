"""The assessment report record (``report.json``), versioned, with a JSON Schema."""

from __future__ import annotations

import json
from datetime import date, datetime
from functools import cache
from importlib import resources
from typing import Any, Literal

from pydantic import (
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    field_serializer,
    model_serializer,
)

from jbgrade._base import FrozenRecord as _R
from jbgrade._base import JsonObject
from jbgrade._vocab import Severity
from jbgrade.assess._case_model import Assessor, Attack, EvidenceItem, Model
from jbgrade.assess._merge import MergedMetric
from jbgrade.evidence import AttackEvidence, AttemptCounts, DerivedMetric
from jbgrade.evidence import TargetInfo as EvidenceTargetInfo
from jbgrade.policy import DECISION_KEYS, Decision, DueStatus, due_status

__all__ = [
    "REPORT_FORMAT",
    "AssessmentReport",
    "CampaignInfo",
    "CaseSummary",
    "EvidenceView",
    "GradeCriterion",
    "GradeRecord",
    "JailbreakSummary",
    "PayloadSummary",
    "ProfileDecision",
    "ReportSignature",
    "TippingPoint",
    "decision_record",
    "report_json_schema",
]

#: Report format 2: typed grade and decisions, content hash, signature (see CHANGELOG.md).
REPORT_FORMAT = 2


class EvidenceView(_R):
    """What a report shows of the measured evidence: the case's jailbreak's part of it.

    The parts are the evidence records themselves (:mod:`jbgrade.evidence`), not
    copies: ``attack`` is the :class:`~jbgrade.evidence.AttackEvidence` of the
    campaign attack that is this case's jailbreak.
    """

    campaign: str = Field(description="Campaign id.")
    counts: AttemptCounts = Field(description="What went into the evidence (all attacks).")
    attack: AttackEvidence = Field(
        description="The evidence of the campaign's attack that is this case's jailbreak: "
        "per-target and per-domain rates with intervals, transfer and the derived metrics."
    )
    notes: list[str] = Field(default_factory=list, description="Caveats from the evidence.")
    comparators: list[EvidenceTargetInfo] = Field(
        default_factory=list,
        description="Comparator targets (the comparator arm); the gain over them is "
        "attack.capability_gain (design 0105).",
    )

    def derived(self) -> dict[str, DerivedMetric]:
        """The metrics the evidence could derive (those with a value)."""
        return {k: m for k, m in self.attack.metrics.items() if m.value is not None}


class CampaignInfo(_R):
    """How the campaign step went."""

    status: Literal["none", "complete", "failed", "reused"] = Field(
        description="none: the case has no campaign; reused: finished results were given."
    )
    directory: str | None = Field(default=None, description="Campaign directory.")
    spec_sha256: str | None = Field(
        default=None,
        description="The campaign's spec hash: canonical_sha256 (RFC 8785) of the spec's "
        "identity, the same value as the campaign manifest's spec_hash.",
    )
    message: str | None = Field(default=None, description="Why it failed, if it did.")
    duration_s: float | None = Field(default=None, description="Wall time of the run.")


class GradeCriterion(_R):
    """One criterion's level in a grade."""

    level: int = Field(ge=0, le=4, description="0 minimal .. 4 severe.")
    level_name: str
    name: str


class TippingPoint(_R):
    """One metric change that moves the grade to another severity band."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, serialize_by_alias=True
    )

    metric: str
    from_: str = Field(alias="from")
    to: str
    score: float = Field(ge=0.0, le=10.0)
    severity: str
    direction: Literal["up", "down"]


class GradeRecord(_R):
    """The published grade (``jbgrade schema show grade``) as a typed record.

    Reading a report recomputes it from ``vector`` under the tables of ``version``.
    """

    vector: str = Field(description="The canonical vector string.")
    version: str = Field(description="Version of the standard the grade was computed under.")
    score: float = Field(ge=0.0, le=10.0)
    severity: Severity
    criteria: dict[Literal["BP", "EC", "RI"], GradeCriterion]
    provisional: bool
    systemic: bool
    explanation: JsonObject = Field(
        description="How the grade was reached (see the grade schema); recomputed on reading."
    )
    tipping_points: list[TippingPoint]
    nomenclature: str | None = Field(
        default=None,
        description="JBG 1.1 and later: JBG-B, JBG-BT, JBG-BE or JBG-BTE (groups assessed).",
    )
    decisive: list[str] | None = Field(
        default=None,
        description="JBG 1.1 and later: the X metrics whose assessment could change the label.",
    )

    @model_serializer(mode="wrap")
    def _without_absent_1_1_keys(self, handler: SerializerFunctionWrapHandler) -> Any:
        # A JBG 1.0 grade has exactly the 1.0 keys: the 1.1 ones are left out, not null.
        out = handler(self)
        if isinstance(out, dict):
            for k in ("nomenclature", "decisive"):
                if out.get(k, 0) is None:
                    del out[k]
        return out


class ProfileDecision(_R):
    """The decision under one policy profile."""

    profile: str
    title: str
    decision: Decision | None = Field(
        description="The Decision record (format_version, action, obligations, fired_rules, "
        "near_misses, provisional, profile, profile_version, bundle_sha256); None if it failed."
    )
    error: str | None = Field(default=None, description="Why no decision could be made.")

    @field_serializer("decision")
    def _published(self, d: Decision | None) -> dict[str, Any] | None:
        # The published Decision JSON, with its format version; the Python-only
        # inputs (vector, aware_on, context) are the report's own fields.
        if d is None:
            return None
        return {"format_version": d.format_version, **d.to_dict()}


def decision_record(d: Decision) -> Decision:
    """``d`` as the report stores it: the published keys only, no lazy parts."""
    data = d.to_dict()
    return Decision.model_validate(
        {"format_version": d.format_version, **{k: data[k] for k in DECISION_KEYS}}
    )


class ReportSignature(_R):
    """An Ed25519 signature over the report (``jbgrade report sign``)."""

    algorithm: Literal["Ed25519"] = "Ed25519"
    public_key: str = Field(description="The signer's raw 32-byte public key, base64.")
    key_id: str = Field(description="SHA-256 (hex) of the raw public key.")
    value: str = Field(
        description="The 64-byte signature, base64, over the RFC 8785 canonical JSON of the "
        "report without signature and read_notes (content_sha256 included)."
    )


class PayloadSummary(_R):
    """The payload as a report names it: the file and its hash, never its content."""

    file: str = Field(description="The payload file, relative to the case file.")
    sha256: str | None = Field(description="SHA-256 of the payload file.")
    sensitive: bool = Field(description="Whether the payload must be kept confidential.")


class JailbreakSummary(_R):
    """The jailbreak as a report shows it (the payload by name and hash only)."""

    description: str = Field(description="What the jailbreak does, in plain words.")
    attack: Attack | None = Field(description="The attack definition or reference.")
    reported_by: str | None = Field(description="Who reported it.")
    reported_on: date | None = Field(description="When it was reported.")
    references: list[str] = Field(description="Public references.")
    payload: PayloadSummary | None = Field(
        default=None, description="The payload file and its hash (absent without a payload)."
    )

    @model_serializer(mode="wrap")
    def _without_absent_payload(self, handler: SerializerFunctionWrapHandler) -> Any:
        out = handler(self)
        if isinstance(out, dict) and out.get("payload", 0) is None:
            del out["payload"]
        return out


class CaseSummary(_R):
    """The case as the report shows it (the payload itself is never included)."""

    id: str
    title: str
    summary: str | None
    file: str = Field(description="The case file.")
    sha256: str = Field(description="SHA-256 of the case file.")
    jailbreak: JailbreakSummary = Field(
        description="Description, attack, payload file name and hash (never the payload)."
    )
    models: list[Model] = Field(description="The affected models, as the case gives them.")
    assessor: Assessor = Field(description="Who made the assessment.")
    assessed_on: date | None
    aware_on: date
    evidence: list[EvidenceItem] = Field(
        default_factory=list, description="Evidence the assessor cites."
    )


class Deadline(_R):
    """One obligation of one decision and where it stands on the day the report was made."""

    profile: str
    party: str
    what: str
    due: date
    status: DueStatus = Field(
        description="overdue (due before the report's day), due_soon (within 7 days) or "
        "pending, as of generated_at (UTC date)."
    )
    days_left: int = Field(description="Days from the report's day to the due date (< 0: late).")


def deadlines_of(decisions: list[ProfileDecision], on: date) -> list[Deadline]:
    """Every obligation of ``decisions`` with its status on ``on``, earliest first."""
    out = [
        Deadline(
            profile=d.profile,
            party=o.party,
            what=o.what,
            due=o.due,
            status=due_status(o.due, on),
            days_left=(o.due - on).days,
        )
        for d in decisions
        if d.decision is not None
        for o in d.decision.obligations
    ]
    return sorted(out, key=lambda x: (x.due, x.profile, x.party, x.what))


class AssessmentReport(_R):
    """The result of `jbgrade assess` (format 2; format 1 reports are migrated on reading)."""

    format_version: Literal[2] = Field(default=2, description="This format's version.")
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
    grade: GradeRecord = Field(description="The grade (`jbgrade schema show grade`).")
    context: JsonObject = Field(description="The policy context used.")
    context_notes: list[str] = Field(
        default_factory=list, description="Context facts derived from the case's models."
    )
    decisions: list[ProfileDecision]
    campaign: CampaignInfo
    evidence: EvidenceView | None = None
    read_notes: list[str] = Field(
        default_factory=list,
        description="How the report was read (e.g. migrated from format 1); not hashed.",
    )
    deadlines: list[Deadline] = Field(
        default_factory=list,
        description="Every obligation with its status (overdue, due_soon, pending) as of the "
        "day the report was made; derived from decisions and generated_at, so not hashed, "
        "and `jbgrade report verify` recomputes it.",
    )
    content_sha256: str | None = Field(
        default=None,
        description="canonical_sha256 (RFC 8785) of this report without content_sha256, "
        "signature and read_notes; set when the report is written.",
    )
    signature: ReportSignature | None = Field(
        default=None, description="Ed25519 signature (`jbgrade report sign`), if signed."
    )


@cache
def report_json_schema() -> dict[str, Any]:
    """The published JSON Schema of ``report.json``."""
    text = resources.files("jbgrade.assess").joinpath("data/report.schema.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data
