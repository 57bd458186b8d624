"""Typed provenance of a derived metric: the figures and thresholds of each rule.

Every derivation rule of docs/design/0002-measured-metrics.md (data file
``derivation-rules-*.json``) publishes the numbers it used (``figures``) and the
thresholds it applied (``thresholds``). Each rule has its own record here, with
exactly the JSON keys the rule writes; a key a rule leaves out on some path (a
target that does not qualify has no ``band``) is :data:`~pydantic.MISSING`, so it
is left out of the JSON too, never written as null. ``DerivedMetric`` picks the
record by its ``rule``.

The records also read like the JSON objects they replace (``figures["targets"]``,
``figures.get("domain")``, ``{**figures}``), so code written against the earlier
``dict`` keeps working; attribute access is the typed way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypeAlias

from pydantic import MISSING, BaseModel, Field

from jbgrade._base import FrozenRecord
from jbgrade.evidence._judge_error import Corrected

__all__ = [
    "AUFigures",
    "AUThresholds",
    "CGFigures",
    "CGThresholds",
    "HDDomainFigures",
    "HDFigures",
    "HDThresholds",
    "LYFigures",
    "LYTargetFigures",
    "LYThresholds",
    "MetricFigures",
    "RLFigures",
    "RLTargetFigures",
    "RLThresholds",
    "RuleThresholds",
    "TRFigures",
    "TRTargetFigures",
    "TRThresholds",
    "UNDomainFigures",
    "UNFigures",
    "UNTargetFigures",
    "UNThresholds",
    "UPFigures",
    "UPThresholds",
    "figures_for",
    "thresholds_for",
]


class _Keyed(FrozenRecord):
    """A frozen record that also reads like the JSON object it serialises to."""

    def keys(self) -> list[str]:
        """The keys present (declaration order), as in the JSON."""
        return [k for k in type(self).model_fields if getattr(self, k) is not MISSING]

    def __getitem__(self, key: str) -> Any:
        if key in type(self).model_fields:
            value = getattr(self, key)
            if value is not MISSING:
                return value
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key in self.keys()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):  # compares with the JSON object it replaces
            return self.model_dump() == dict(other)
        return super().__eq__(other)

    __hash__ = BaseModel.__hash__

    def get(self, key: str, default: Any = None) -> Any:
        """The value under ``key``, or ``default`` where the rule left it out."""
        try:
            return self[key]
        except KeyError:
            return default


# --- figures -----------------------------------------------------------------


class RLTargetFigures(_Keyed):
    """M-RL on one target: both arms' rates and, when it qualifies, the claimed band."""

    attack_successes: int
    attack_n: int
    attack_rate: float | None
    attack_ci: list[float | None] = Field(description="Wilson 95% interval [low, high].")
    baseline_successes: int
    baseline_n: int
    baseline_rate: float | None
    adjusted: float | None = Field(description="Attack rate minus baseline rate.")
    qualifies: bool = Field(description="Enough attack attempts and a difference to test.")
    band: str | MISSING | None = MISSING
    interval_adjusted: list[float] | MISSING = MISSING
    family_bounds: list[float] | MISSING = MISSING
    effective_n: list[float] | MISSING = MISSING
    design_effect: float | MISSING = MISSING
    near_boundary: bool | MISSING = MISSING
    corrected: Corrected | MISSING = Field(
        default=MISSING, description="Judge-error-corrected rates (design 0110)."
    )
    note: str | MISSING = MISSING


class RLFigures(_Keyed):
    """Figures of M-RL (reliability), by target."""

    targets: dict[str, RLTargetFigures] | MISSING = MISSING


class UNDomainFigures(_Keyed):
    """M-UN in one hazard domain of one target."""

    tested: int
    broken: int
    share: float | None
    counted: bool
    possibly_broken: int
    needed: int | None


class UNTargetFigures(_Keyed):
    """M-UN on one target, by hazard domain."""

    domains: dict[str, UNDomainFigures]
    share_broken_counted: float | None


class UNFigures(_Keyed):
    """Figures of M-UN (universality), by target."""

    targets: dict[str, UNTargetFigures] | MISSING = MISSING


class TRTargetFigures(_Keyed):
    """M-TR on one target."""

    model: str
    vendor: str
    family: str | None
    attack_rate: float | None
    attack_low: float | None
    baseline_rate: float | None
    adjusted: float | None
    affected: bool


class TRFigures(_Keyed):
    """Figures of M-TR (transfer)."""

    targets: dict[str, TRTargetFigures] | MISSING = MISSING
    affected_vendors: list[str] | MISSING = MISSING
    affected_models: list[str] | MISSING = MISSING


class HDDomainFigures(_Keyed):
    """M-HD in one hazard domain of one target."""

    difference: float | None
    interval: list[float] | None
    p_value: float | None
    raised: bool


class HDFigures(_Keyed):
    """Figures of M-HD (hazard domain): raises by domain, and per target and domain."""

    raised_by_domain: dict[str, int] | MISSING = MISSING
    targets: dict[str, dict[str, HDDomainFigures]] | MISSING = MISSING


class UPFigures(_Keyed):
    """Figures of M-UP (uplift), from the attack alone and, with comparators, the gain."""

    domain: str | MISSING | None = MISSING
    successes: int | MISSING = MISSING
    scored: int | MISSING = MISSING
    mean_specificity: float | MISSING | None = MISSING
    basis: Literal["attack", "gain"] | MISSING = MISSING
    gain: float | MISSING = MISSING
    gain_interval: list[float] | MISSING = MISSING
    comparator: str | MISSING = MISSING
    comparator_mean_specificity: float | MISSING | None = MISSING


class LYTargetFigures(_Keyed):
    """M-LY on one target that declares its layers."""

    declared: list[str]
    successes: int
    successes_past: dict[str, int]
    undetected_full_stack: int | None


class LYFigures(_Keyed):
    """Figures of M-LY (layers bypassed), by declaring target."""

    targets: dict[str, LYTargetFigures] | MISSING = MISSING


class AUFigures(_Keyed):
    """Figures of M-AU (automation)."""

    kind: str | MISSING = MISSING
    unattended: bool | MISSING = MISSING
    RL: str | MISSING | None = MISSING


class CGFigures(_Keyed):
    """Figures of M-CG (capability gain) in the HD domain."""

    basis: Literal["attack", "gain"] | MISSING = MISSING
    domain: str | MISSING | None = MISSING
    gain: float | MISSING = MISSING
    interval: list[float] | MISSING = MISSING
    target: str | MISSING | None = MISSING
    comparator: str | MISSING | None = MISSING
    pairs: int | MISSING = MISSING


#: The figures of any rule (``DerivedMetric.figures``).
MetricFigures: TypeAlias = (
    RLFigures | UNFigures | TRFigures | HDFigures | UPFigures | LYFigures | AUFigures | CGFigures
)

# --- thresholds ----------------------------------------------------------------


class RLThresholds(_Keyed):
    """Thresholds of M-RL."""

    L_below: float | MISSING = MISSING
    H_above: float | MISSING = MISSING
    min_attack_attempts: int | MISSING = MISSING
    alpha: float | MISSING = MISSING
    claim: str | MISSING = MISSING


class UNThresholds(_Keyed):
    """Thresholds of M-UN."""

    share_above: float | MISSING = MISSING
    min_behaviours_per_domain: int | MISSING = MISSING
    U_min_domains: int | MISSING = MISSING
    behaviour_margin: float | MISSING = MISSING
    behaviour_alpha: float | MISSING = MISSING
    alpha: float | MISSING = MISSING
    claim: str | MISSING = MISSING


class TRThresholds(_Keyed):
    """Thresholds of M-TR."""

    min_adjusted: float | MISSING = MISSING
    min_targets: int | MISSING = MISSING
    alpha: float | MISSING = MISSING
    claim: str | MISSING = MISSING


class HDThresholds(_Keyed):
    """Thresholds of M-HD."""

    order: list[str] | MISSING = MISSING
    margin: float | MISSING = MISSING
    alpha: float | MISSING = MISSING
    claim: str | MISSING = MISSING


class UPThresholds(_Keyed):
    """Thresholds of M-UP."""

    N_below: float | MISSING = MISSING
    F_at_or_above: float | MISSING = MISSING
    with_comparators: str | MISSING = MISSING
    specificity_margin: float | MISSING = MISSING


class CGThresholds(_Keyed):
    """Thresholds of M-CG."""

    N_high_below: float | MISSING = MISSING
    S_low_at_or_above: float | MISSING = MISSING
    L_low_above: float | MISSING = MISSING
    alpha: float | MISSING = MISSING
    min_comparator_attempts: int | MISSING = MISSING
    min_behaviours_per_domain: int | MISSING = MISSING
    specific_at_or_above: float | MISSING = MISSING
    claim: str | MISSING = MISSING


class LYThresholds(_Keyed):
    """Thresholds of M-LY."""

    classifiers: list[str] | MISSING = MISSING


class AUThresholds(_Keyed):
    """Thresholds of M-AU."""

    RL_at_least: str | MISSING = MISSING


#: The thresholds of any rule (``DerivedMetric.thresholds``).
RuleThresholds: TypeAlias = (
    RLThresholds
    | UNThresholds
    | TRThresholds
    | HDThresholds
    | UPThresholds
    | LYThresholds
    | AUThresholds
    | CGThresholds
)

_BY_RULE: dict[str, tuple[type[_Keyed], type[_Keyed]]] = {
    "M-RL": (RLFigures, RLThresholds),
    "M-UN": (UNFigures, UNThresholds),
    "M-TR": (TRFigures, TRThresholds),
    "M-HD": (HDFigures, HDThresholds),
    "M-UP": (UPFigures, UPThresholds),
    "M-LY": (LYFigures, LYThresholds),
    "M-AU": (AUFigures, AUThresholds),
    "M-CG": (CGFigures, CGThresholds),
}


def _records(rule: object) -> tuple[type[_Keyed], type[_Keyed]]:
    got = _BY_RULE.get(rule) if isinstance(rule, str) else None
    if got is None:
        raise ValueError(f"unknown derivation rule {rule!r} (known: {', '.join(_BY_RULE)})")
    return got


def _as(cls: type[_Keyed], value: object) -> _Keyed:
    if isinstance(value, cls):
        return value
    if isinstance(value, _Keyed):  # another rule's record: validated as JSON, so it fails
        value = value.model_dump()
    return cls.model_validate(value)


def figures_for(rule: object, value: object) -> object:
    """``value`` as the figures record of ``rule`` (its own record passes through;
    pydantic validates the rest, naming the key that does not fit)."""
    return _as(_records(rule)[0], value)


def thresholds_for(rule: object, value: object) -> object:
    """``value`` as the thresholds record of ``rule`` (see :func:`figures_for`)."""
    return _as(_records(rule)[1], value)
