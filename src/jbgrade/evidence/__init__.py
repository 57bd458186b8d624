"""Evidence: statistics over attempts and the JBG metrics derived from them.

:func:`compute_evidence` turns attempts into per target x attack x domain
success rates with Wilson 95% intervals (baseline-adjusted), universality,
reliability, a transfer matrix, layers bypassed and uplift, then derives LY,
UN, RL, TR, HD, UP and AU by the rules of docs/design/0002-measured-metrics.md,
each with its provenance. :func:`load_campaign_evidence` reads a campaign
directory. AC, EX, ST (and AG) stay with the assessor.
"""

from jbgrade.evidence._campaign import (
    MANIFEST_NAME,
    SkippedLine,
    describe_skipped,
    iter_attempt_lines,
    iter_campaign_attempts,
    load_campaign_evidence,
    read_campaign_attempts,
)
from jbgrade.evidence._compute import (
    DERIVED_METRICS,
    RULES,
    RULES_DATA,
    RULES_SHA256,
    RULES_VERSION,
    Z95,
    compute_evidence,
    evidence_from_counts,
    stream_evidence,
    wilson,
)
from jbgrade.evidence._judge_error import Corrected, JudgeError, Pooled, judge_error_record
from jbgrade.evidence._model import (
    AttackEvidence,
    AttackInfo,
    AttemptCounts,
    DerivedMetric,
    Difference,
    DomainStats,
    Evidence,
    LayerStats,
    Rate,
    TargetInfo,
    TargetStats,
    Transfer,
    TransferCell,
    TransferRow,
    Universality,
    Uplift,
    evidence_schema,
)
from jbgrade.evidence._power import power_table, rl_band_of, rl_required_attempts
from jbgrade.evidence._vector import derived_letters, partial_vector

__all__ = [
    "DERIVED_METRICS",
    "MANIFEST_NAME",
    "RULES",
    "RULES_DATA",
    "RULES_SHA256",
    "RULES_VERSION",
    "Z95",
    "AttackEvidence",
    "AttackInfo",
    "AttemptCounts",
    "Corrected",
    "DerivedMetric",
    "Difference",
    "DomainStats",
    "Evidence",
    "JudgeError",
    "LayerStats",
    "Pooled",
    "Rate",
    "SkippedLine",
    "TargetInfo",
    "TargetStats",
    "Transfer",
    "TransferCell",
    "TransferRow",
    "Universality",
    "Uplift",
    "compute_evidence",
    "derived_letters",
    "describe_skipped",
    "evidence_from_counts",
    "evidence_schema",
    "iter_attempt_lines",
    "iter_campaign_attempts",
    "judge_error_record",
    "load_campaign_evidence",
    "partial_vector",
    "power_table",
    "read_campaign_attempts",
    "rl_band_of",
    "rl_required_attempts",
    "stream_evidence",
    "wilson",
]
