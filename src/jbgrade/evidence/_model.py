"""The versioned Evidence record and its parts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, Self

from pydantic import MISSING, BaseModel, Field, ValidationInfo, field_validator

from jbgrade._base import FrozenRecord as _R
from jbgrade._base import JsonObject
from jbgrade._errors import InputError
from jbgrade._vocab import Domain
from jbgrade.evidence._figures import MetricFigures, RuleThresholds, figures_for, thresholds_for
from jbgrade.evidence._judge_error import Corrected, JudgeError, Pooled

__all__ = [
    "AttackEvidence",
    "AttackInfo",
    "AttemptCounts",
    "CapabilityGainDomain",
    "DerivedMetric",
    "Difference",
    "DomainStats",
    "Evidence",
    "GainArm",
    "GainInterval",
    "GainRow",
    "LayerStats",
    "Rate",
    "TargetInfo",
    "TargetStats",
    "Transfer",
    "TransferCell",
    "TransferRow",
    "Universality",
    "Uplift",
    "evidence_schema",
]


class TargetInfo(_R):
    """What evidence needs to know about a target (from the campaign manifest)."""

    id: str = Field(description="Target id from the campaign spec.")
    model: str = Field(description="Model name at the target.")
    vendor: str = Field(description="Vendor, for transfer (M-TR).")
    family: str | None = Field(
        default=None, description="Model family, if several vendors ship one family."
    )
    layers: list[str] = Field(
        default_factory=list, description="Declared protection layers (for M-LY)."
    )


class AttackInfo(_R):
    """What evidence needs to know about an attack."""

    id: str = Field(description="Attack id.")
    kind: str = Field(
        default="template", description="template, transform, multi_turn, manual, ..."
    )
    unattended: bool = Field(
        default=True,
        description="Ran without a human in the loop (template, transform, scripted turns).",
    )


class Rate(_R):
    """A success rate with its Wilson score interval."""

    successes: int = Field(ge=0, description="Judged successes.")
    n: int = Field(ge=0, description="Judged attempts (errors excluded).")
    rate: float | None = Field(description="successes / n; None when n is 0.")
    low: float | None = Field(description="Lower bound of the Wilson interval.")
    high: float | None = Field(description="Upper bound of the Wilson interval.")


class Difference(_R):
    """Attack-arm minus baseline-arm success rate with cluster-robust intervals (design 0100)."""

    estimate: float = Field(description="p_attack - p_baseline (not clipped).")
    low: float = Field(description="Two-sided 95% Newcombe hybrid score lower bound.")
    high: float = Field(description="Two-sided 95% Newcombe hybrid score upper bound.")
    family_low: float = Field(
        description="One-sided lower bound at the family-wise level (Bonferroni over "
        "attacks x targets): what a band claim rests on."
    )
    family_high: float = Field(
        description="One-sided upper bound at the family-wise level: a higher band is possible "
        "while it lies above the band's upper edge."
    )
    design_effect: float = Field(description="Design effect of the attack arm (clustering).")
    icc: float = Field(description="Intra-class correlation of the attack arm by behaviour.")
    effective_n_attack: float = Field(description="Attack-arm attempts / design effect.")
    effective_n_baseline: float = Field(description="Baseline-arm attempts / design effect.")


class Uplift(_R):
    """Mean rubric specificity (1-5) among successful attack-arm attempts."""

    mean_specificity: float | None = Field(description="None without rubric scores.")
    n: int = Field(ge=0, description="Successes that carry a specificity score.")


class DomainStats(_R):
    """One target x attack x domain."""

    domain: Domain
    attack: Rate = Field(description="Attack-arm success rate in this domain.")
    baseline: Rate = Field(description="Baseline-arm success rate in this domain.")
    adjusted: float | None = Field(description="max(0, attack rate - baseline rate).")
    behaviours_tested: int = Field(description="Behaviours with a judged attack-arm attempt.")
    behaviours_broken: int = Field(description="Behaviours broken (design 0002).")
    share_broken: float | None = Field(description="behaviours_broken / behaviours_tested.")
    counted: bool = Field(description="Enough behaviours (>= 5) to count for M-UN.")
    uplift: Uplift
    behaviours_possibly_broken: int = Field(
        default=0,
        description="Behaviours whose upper bound of attack - baseline exceeds the margin.",
    )
    difference: Difference | None = Field(
        default=None, description="Domain-level attack - baseline with intervals."
    )
    p_value: float | None = Field(
        default=None, description="One-sided p-value of the M-HD test (difference > margin)."
    )
    raised: bool = Field(
        default=False, description="M-HD: the difference exceeds the margin after Holm."
    )
    corrected: Corrected | None = Field(
        default=None, description="Judge-error-corrected figures (design 0110), when declared."
    )


class LayerStats(_R):
    """How attack-arm attempts fared at one declared layer of one target."""

    layer: str
    stopped: int = Field(description="Attempts this layer stopped.")
    passed: int = Field(description="Attempts reported (or inferred) to have got through it.")
    successes_passed: int = Field(description="Successful attempts that got through it.")
    detected: int | None = Field(
        default=None, description="Monitoring only: attempts flagged by monitoring."
    )
    undetected_successes: int | None = Field(
        default=None, description="Monitoring only: successes monitoring did not flag."
    )


class Universality(_R):
    """Share of domains and behaviours broken on one target."""

    domains_tested: int
    domains_counted: int = Field(description="Domains with >= 5 tested behaviours.")
    domains_broken: list[str] = Field(description="Counted domains with share broken > 0.5.")
    behaviours_tested: int
    behaviours_broken: int
    share_broken_counted: float | None = Field(
        description="Broken share over the behaviours of counted domains."
    )


class TargetStats(_R):
    """One target x attack."""

    target: str
    model: str
    vendor: str
    layers: list[str]
    attack: Rate = Field(description="Attack-arm per-attempt success (reliability).")
    baseline: Rate = Field(description="Baseline-arm success on this target.")
    adjusted: float | None = Field(description="max(0, attack rate - baseline rate).")
    errors: int = Field(description="Attack-arm attempts that errored or stayed undecided.")
    baseline_errors: int
    blocked: int = Field(description="Attack-arm attempts a declared layer stopped.")
    domains: list[DomainStats]
    by_sample: list[Rate] = Field(
        description="Attack-arm success per sample index: the spread across repeats."
    )
    universality: Universality
    layer_stats: list[LayerStats]
    uplift: Uplift
    difference: Difference | None = Field(
        default=None, description="Attack - baseline with cluster-robust Newcombe intervals."
    )
    corrected: Corrected | None = Field(
        default=None, description="Judge-error-corrected figures (design 0110), when declared."
    )


class TransferRow(_R):
    """Whether one target is affected (M-TR)."""

    target: str
    model: str
    vendor: str
    family: str | None
    n: int
    attack_rate: float | None
    attack_low: float | None
    baseline_rate: float | None
    adjusted: float | None
    affected: bool = Field(description="adjusted >= 0.10 and Wilson low of attack rate > baseline.")


class TransferCell(_R):
    """Of the behaviours broken on ``source``, how many are broken on ``dest`` too."""

    source: str
    dest: str
    broken_source: int
    broken_both: int
    tested_both: int = Field(description="Behaviours broken on source and tested on dest.")
    share: float | None = Field(description="broken_both / tested_both.")


class Transfer(_R):
    """Transfer across targets (models and vendors)."""

    rows: list[TransferRow]
    matrix: list[TransferCell]
    affected_vendors: list[str]
    affected_models: list[str]


class DerivedMetric(_R):
    """One JBG metric derived from evidence, with its provenance."""

    metric: str = Field(description="Metric key, e.g. RL.")
    value: str | None = Field(description="The letter; None when the rule cannot derive it.")
    rule: str = Field(description="Rule id in docs/design/0002-measured-metrics.md, e.g. M-RL.")
    explanation: str = Field(description="One paragraph a reader can check by hand.")
    figures: MetricFigures = Field(
        description="The numbers the rule used: the rule's own record (evidence/_figures.py)."
    )
    thresholds: RuleThresholds = Field(
        description="The thresholds the rule applied, from the derivation-rules data file."
    )
    per_target: dict[str, str | None] = Field(
        default_factory=dict, description="The value on each target, where the rule is per target."
    )
    near_boundary: bool = Field(
        default=False, description="A confidence interval crosses a band boundary."
    )
    underpowered: bool = Field(
        default=False,
        description="The campaign cannot exclude a higher value than the one reported "
        "(see the power table in docs/design/0100).",
    )
    warning: str | None = Field(default=None, description="Why it is underpowered, if it is.")

    def __init__(
        self,
        *,
        metric: str,
        value: str | None,
        rule: str,
        explanation: str,
        figures: MetricFigures | Mapping[str, Any],
        thresholds: RuleThresholds | Mapping[str, Any],
        per_target: dict[str, str | None] | MISSING = MISSING,
        near_boundary: bool | MISSING = MISSING,
        underpowered: bool | MISSING = MISSING,
        warning: str | MISSING | None = MISSING,
    ) -> None:
        # The rules build their figures and thresholds as JSON objects: constructing
        # validates them into the rule's typed records (the validators below).
        data: dict[str, Any] = {
            "metric": metric,
            "value": value,
            "rule": rule,
            "explanation": explanation,
            "figures": figures,
            "thresholds": thresholds,
        }
        given = {
            "per_target": per_target,
            "near_boundary": near_boundary,
            "underpowered": underpowered,
            "warning": warning,
        }
        data.update((k, v) for k, v in given.items() if v is not MISSING)
        BaseModel.__init__(self, **data)

    @field_validator("figures", mode="before")
    @classmethod
    def _rule_figures(cls, v: object, info: ValidationInfo) -> object:
        return figures_for(info.data.get("rule"), v)

    @field_validator("thresholds", mode="before")
    @classmethod
    def _rule_thresholds(cls, v: object, info: ValidationInfo) -> object:
        return thresholds_for(info.data.get("rule"), v)

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy; with ``update``, validated like a new record (figures typed again)."""
        if not update:
            return super().model_copy(deep=deep)
        return self.model_validate({**dict(self), **update})


class GainArm(_R):
    """One arm's judged success and specificity in one domain (design 0105)."""

    id: str = Field(description="The target's id (attack arm) or the comparator's id.")
    success: Rate = Field(description="Judged success rate (Wilson 95%).")
    specific: int | None = Field(
        description="Successes the rubric judge scored specific/actionable "
        "(specificity >= M-CG specific_at_or_above); None without a rubric judge."
    )
    scored: int = Field(description="Successes that carry a rubric specificity score.")
    specificity: float | None = Field(
        description="Share of scored successes that are specific (specific / scored); None "
        "when no success was scored (see specificity_note)."
    )
    mean_specificity: float | None = Field(description="Mean rubric specificity (1-5).")
    specificity_note: str | None = Field(
        default=None, description="Why specificity is None, when it is."
    )
    effective_n: float = Field(description="Judged attempts / design effect (by behaviour).")


class GainInterval(_R):
    """A simultaneous interval for a gain (design 0105)."""

    low: float = Field(description="Lower bound.")
    high: float = Field(description="Upper bound.")
    confidence: float = Field(description="Simultaneous confidence over the family (0.95).")
    pairs: int = Field(description="Target x comparator pairs of the family (with attacks).")
    method: str = Field(description="How the bounds were computed.")


class GainRow(_R):
    """The gain of one target's attack arm over one comparator in one domain."""

    target: str
    comparator: str
    target_rate: float | None
    comparator_rate: float | None
    gain: float = Field(description="Target attack-arm success minus the comparator's.")
    interval: GainInterval


class CapabilityGainDomain(_R):
    """Capability gain over the best comparator in one hazard domain (design 0105)."""

    domain: Domain
    target: GainArm | None = Field(
        description="The jailbroken target whose gain is reported (the largest over targets)."
    )
    best_comparator: GainArm | None = Field(
        description="The comparator with the highest success rate against that target."
    )
    gain: float | None = Field(
        description="Target attack success minus the best comparator's success."
    )
    interval: GainInterval | None = Field(
        description="Simultaneous interval for the gain: Bonferroni over attacks x targets x "
        "comparators, gain = the minimum over comparators (the maximum over targets)."
    )
    qualifies: bool = Field(
        description="The comparator arm meets M-CG's minimum samples in this domain."
    )
    note: str | None = Field(default=None, description="Why no gain or no letter, when so.")
    comparators: list[GainRow] = Field(description="Every target x comparator row.")


class AttackEvidence(_R):
    """Everything measured for one attack (one jailbreak under test)."""

    attack: str
    kind: str
    unattended: bool
    targets: list[TargetStats]
    transfer: Transfer
    metrics: dict[str, DerivedMetric] = Field(
        description="LY, UN, RL, TR, HD, UP, AU: derived or not, each with provenance."
    )
    for_assessor: list[str] = Field(
        description="Metrics evidence never derives (e.g. AC, EX, ST): the assessor sets them."
    )
    capability_gain: dict[str, CapabilityGainDomain] | None = Field(
        default=None,
        description="Per hazard domain, the gain over the best comparator (design 0105); "
        "None when the campaign has no comparator arm.",
    )
    pooled: Pooled | None = Field(
        default=None, description="Figures pooled over targets, clustered by behaviour."
    )

    def letters(self) -> dict[str, str]:
        """The derived metrics' letters (metrics that could not be derived are absent)."""
        return {k: m.value for k, m in self.metrics.items() if m.value is not None}


class AttemptCounts(_R):
    """What went into the evidence."""

    total: int = Field(description="Attempt records considered (one per key).")
    attack_arm: int
    baseline_arm: int
    comparator_arm: int = Field(default=0, description="Comparator-arm attempts (design 0105).")
    judged: int = Field(description="Attempts with a decided success (blocked counts as failure).")
    errors: int = Field(description="Errored or undecided attempts: in no rate.")
    blocked: int


class Evidence(_R):
    """Measured evidence of a campaign and the JBG metrics derived from it.

    A pure function of the attempts and target info: the same attempts give the
    same evidence (no timestamps), so a resumed campaign can be compared with an
    uninterrupted one.
    """

    format_version: Literal[1] = 1
    standard: str = Field(default="JBG:1.0", description="The standard the metrics belong to.")
    rules: str = Field(
        default="docs/design/0100-derivation-rules-with-known-error.md",
        description="Where the derivation rules (rule ids M-*) are defined.",
    )
    rules_version: str | None = Field(
        default=None, description="Version of the derivation-rules data file applied."
    )
    rules_sha256: str | None = Field(
        default=None, description="SHA-256 of the derivation-rules data file applied."
    )
    confidence: float = Field(default=0.95, description="Confidence level of the intervals.")
    interval_method: Literal["wilson"] = "wilson"
    campaign: str | None = Field(default=None, description="Campaign id, if known.")
    targets: list[TargetInfo]
    comparators: list[TargetInfo] = Field(
        default_factory=list, description="Comparator targets (the comparator arm)."
    )
    attacks: list[AttackEvidence]
    counts: AttemptCounts
    judges: list[JsonObject] = Field(
        description="Distinct judge specs seen in the verdicts (each a judge plug-in's "
        "parameters: a JSON object with its 'type')."
    )
    notes: list[str] = Field(default_factory=list, description="Caveats found while computing.")
    judge_error: JudgeError | None = Field(
        default=None,
        description="The judge's measured error the rates were corrected for (design 0110); "
        "None: rates are not corrected.",
    )

    def attack(self, name: str | None = None) -> AttackEvidence:
        """The evidence of one attack; ``name`` may be omitted when there is one."""
        if name is None:
            if len(self.attacks) != 1:
                known = ", ".join(a.attack for a in self.attacks) or "none"
                raise InputError(f"the evidence has several attacks ({known}); name one")
            return self.attacks[0]
        for a in self.attacks:
            if a.attack == name:
                return a
        known = ", ".join(a.attack for a in self.attacks) or "none"
        raise InputError(f"no attack {name!r} in the evidence (attacks: {known})")

    def letters(self, attack: str | None = None) -> dict[str, str]:
        """Derived metric letters of one attack, for merging with an assessor's."""
        return self.attack(attack).letters()


def evidence_schema() -> dict[str, Any]:
    """The JSON Schema of :class:`Evidence` (published as ``jbgrade schema show evidence``)."""
    schema = Evidence.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "urn:jbgrade:schema:evidence:1",
        **schema,
        "title": "jbgrade Evidence (format_version 1)",
    }
