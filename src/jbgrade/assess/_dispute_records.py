"""The records of a dispute: each side's assessment and the reconciliation (format 1)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from pydantic import Field

from jbgrade._base import FrozenRecord as _R
from jbgrade._base import JsonObject
from jbgrade.assess._merge import MergedMetric
from jbgrade.rubric import Vector

__all__ = [
    "Citation",
    "Difference",
    "DisputeSide",
    "ItemEffect",
    "PartySummary",
    "ProfileComparison",
    "Reconciliation",
    "Settlement",
    "SettlingAgreement",
]


@dataclass
class DisputeSide:
    """One party's assessment, reduced to what a dispute needs."""

    assessor: str
    organisation: str
    role: str
    case_id: str
    source: str
    sha256: str
    vector: Vector
    aware_on: date
    context: JsonObject
    profiles: list[str]
    metrics: dict[str, MergedMetric] = field(default_factory=dict)
    evidence: dict[str, str] = field(default_factory=dict)  # evidence id -> description

    @property
    def party(self) -> str:
        return f"{self.organisation}, {self.assessor}"


class Citation(_R):
    """What one side cites for its value of a disputed item."""

    value: str = Field(description="The side's value.")
    source: str = Field(description="measured, assessor, both, none or context.")
    rationale: str | None = Field(default=None, description="The assessor's reasons.")
    evidence: list[str] = Field(
        default_factory=list, description="Evidence cited (resolved to descriptions where known)."
    )
    measured: str | None = Field(default=None, description="The measurement behind it, if any.")


class ItemEffect(_R):
    """An item's effect under one profile."""

    profile: str
    changes_action: bool = Field(description="Can change the action in some combination.")
    changes_obligations: bool = Field(description="Can change the obligations in some combination.")
    swap_from_a: str = Field(description="Action when only this item takes B's value.")
    swap_from_b: str = Field(description="Action when only this item takes A's value.")
    swap_changes_action: bool = Field(
        description="Swapping this item alone (from either side) changes the action."
    )
    swap_changes_obligations: bool = Field(
        description="Swapping this item alone (from either side) changes the obligations."
    )


class Difference(_R):
    """One item on which the parties differ, and what it changes."""

    item: str = Field(description="Metric key, or 'context.<key>' for a policy-context fact.")
    kind: Literal["metric", "context"]
    name: str
    a: Citation
    b: Citation
    changes_label: bool = Field(description="Can change the label in some combination.")
    swap_label_from_a: str = Field(description="Label when only this item takes B's value.")
    swap_label_from_b: str = Field(description="Label when only this item takes A's value.")
    swap_score_from_a: float
    swap_score_from_b: float
    effects: list[ItemEffect]
    changes_nothing: bool = Field(
        description="Changes neither label, action nor obligations under any profile, in any "
        "combination: not worth arguing about."
    )
    verdict: str = Field(description="One sentence for people.")


class SettlingAgreement(_R):
    """Agreeing on these items (at these values) settles the action."""

    agree: dict[str, str] = Field(description="Item -> agreed value.")
    sides: dict[str, Literal["A", "B"]] = Field(description="Item -> whose value that is.")
    outcome: str = Field(description="The action that follows whatever the rest is.")


class Settlement(_R):
    """What it takes to settle the action (or label) under one profile."""

    profile: str
    possible: list[str] = Field(description="Outcomes reachable by some combination.")
    settled: bool = Field(description="Already the same whatever the differences.")
    decisive: list[str] = Field(
        description="The items the outcome depends on; agreeing on all of them settles it."
    )
    smallest: int = Field(description="Size of the smallest settling agreement.")
    agreements: list[SettlingAgreement] = Field(
        description="Every smallest settling agreement (up to 12)."
    )
    table: list[SettlingAgreement] = Field(
        default_factory=list,
        description="The outcome for every combination of the decisive items (when there "
        "are at most 5): a decision table the parties can read at a glance.",
    )


class ProfileComparison(_R):
    """The two sides' decisions under one profile, as each side assessed."""

    profile: str
    title: str
    version: str | None
    action_a: str
    action_b: str
    same_action: bool
    obligations_only_a: list[dict[str, str]]
    obligations_only_b: list[dict[str, str]]


class PartySummary(_R):
    side: Literal["A", "B"]
    assessor: str
    organisation: str
    role: str
    case_id: str
    source: str
    sha256: str
    vector: str
    score: float
    label: str
    provisional: bool
    systemic: bool
    aware_on: date


class Reconciliation(_R):
    """A dispute analysed; storable on the case (format 1)."""

    format_version: Literal[1] = 1
    kind: Literal["jbgrade-reconciliation"] = "jbgrade-reconciliation"
    created_at: datetime
    case_id: str
    status: Literal["open", "settled"] = Field(
        description="settled when both sides reach the same label and the same decision "
        "under every profile."
    )
    parties: list[PartySummary]
    aware_on_used: date = Field(description="Awareness date used for due dates (the earlier).")
    profiles: list[ProfileComparison]
    differences: list[Difference]
    unchanged: list[str] = Field(description="Items that change nothing.")
    settle_action: list[Settlement]
    settle_label: Settlement
    summary: list[str] = Field(description="The findings in a few sentences.")
    agreed: dict[str, str] = Field(
        default_factory=dict,
        description="Values the parties have since agreed on (filled in by the parties).",
    )
    inputs_sha256: str = Field(description="SHA-256 over both sides' sources.")
