"""The case file's records: what a case says, as frozen pydantic models.

The published JSON Schema (``jbgrade schema show case``) is generated from these
models; :mod:`jbgrade.assess._case` loads and checks case files against it.
"""

from __future__ import annotations

import json
from datetime import date
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from jbgrade._base import FrozenRecord as _Model
from jbgrade._base import JsonObject

__all__ = [
    "CASE_FORMAT",
    "Assessor",
    "Attack",
    "CampaignRef",
    "Case",
    "Deployment",
    "EvidenceItem",
    "HandMetric",
    "Jailbreak",
    "Model",
    "Payload",
    "PolicySettings",
    "Precedence",
    "PrecedenceRule",
    "case_json_schema",
]


CASE_FORMAT = 1


class Precedence(StrEnum):
    """Which value wins when a measured and a hand-set value of a metric disagree."""

    measured_over_assessor = "measured_over_assessor"
    assessor_over_measured = "assessor_over_measured"
    #: The higher (more severe) of the two: precaution, as when a threshold cannot be
    #: ruled out.
    precautionary = "precautionary"


class Payload(_Model):
    """The jailbreak's payload, by reference only: a case file never inlines it."""

    file: str = Field(description="Path to the payload file, relative to the case file.")
    sha256: str | None = Field(
        default=None,
        pattern=r"^[0-9a-f]{64}$",
        description="Expected SHA-256 of the payload file (checked when given).",
    )
    sensitive: bool = Field(
        default=True,
        description="Whether the payload must be kept confidential (never copied into reports).",
    )


class Attack(_Model):
    """How the jailbreak works: a reference to an attack definition, or a short name."""

    name: str = Field(description="Short name of the attack technique.")
    ref: str | None = Field(
        default=None,
        description="Path to an attack definition (e.g. a harness attack YAML), relative "
        "to the case file.",
    )
    kind: str | None = Field(
        default=None,
        description="Technique family, e.g. 'role-play', 'many-shot', 'encoding', 'multi-turn'.",
    )
    atlas: list[Annotated[str, StringConstraints(pattern=r"^AML\.T\d{4}(\.\d{3})?$")]] = Field(
        default_factory=list,
        description="MITRE ATLAS technique ids of the attack (e.g. AML.T0054 LLM Jailbreak, "
        "AML.T0051.000 direct prompt injection). Reports and exports show these first; "
        "jbgrade adds AML.T0054 and what its table knows for the kind.",
    )


class Jailbreak(_Model):
    """The reported jailbreak."""

    description: str = Field(description="What the jailbreak does, in plain words.")
    attack: Attack | None = Field(default=None, description="The attack definition or reference.")
    payload: Payload | None = Field(default=None, description="The payload, by file reference.")
    reported_by: str | None = Field(default=None, description="Who reported it.")
    reported_on: date | None = Field(default=None, description="When it was reported.")
    references: list[str] = Field(
        default_factory=list, description="Public references (advisories, papers, posts)."
    )


class Deployment(_Model):
    """Where an affected model is deployed."""

    name: str = Field(description="Deployment name, e.g. 'public API', 'consumer app'.")
    exposure: Literal["restricted", "public", "open_weights"] = Field(
        description="restricted (internal, trusted testers), public (API or product) or "
        "open_weights (cannot be patched); the EX metric's facts."
    )
    jurisdictions: list[str] = Field(
        default_factory=list, description="Where it is offered, e.g. ['US', 'EU']."
    )
    users: str | None = Field(default=None, description="Reach, e.g. '10M monthly users'.")


class Model(_Model):
    """An affected model."""

    id: str = Field(description="Model identifier.")
    vendor: str = Field(description="Vendor (or developer) of the model.")
    family: str | None = Field(default=None, description="Model family, for transfer.")
    weights: Literal["open", "closed"] = Field(description="Whether the weights are published.")
    training_compute_flop: float | None = Field(
        default=None, ge=0, description="Training compute in FLOP where known."
    )
    frontier: bool | None = Field(
        default=None, description="Whether the model counts as a frontier model."
    )
    deployments: list[Deployment] = Field(
        default_factory=list, description="Deployments of this model."
    )


class Assessor(_Model):
    """Who made this assessment."""

    name: str = Field(description="Assessor's name or team.")
    organisation: str = Field(description="Organisation the assessor acts for.")
    role: Literal["lab", "regulator", "researcher", "third_party", "bug_bounty", "other"] = Field(
        default="other", description="The party's role in the case."
    )
    contact: str | None = Field(default=None, description="Contact address.")


class HandMetric(_Model):
    """A metric value set by the assessor, with the reasons for it."""

    value: str | None = Field(
        default=None,
        description="Value letter (or X: not assessed). May be omitted when the case's "
        "`vector` gives it; then this entry only carries the rationale.",
    )
    rationale: str | None = Field(
        default=None, description="Why this value: required for every value other than X."
    )
    evidence: list[str] = Field(
        default_factory=list,
        description="Evidence cited: ids from the case's `evidence` list, URLs or notes.",
    )


class PrecedenceRule(_Model):
    """Precedence with per-metric exceptions."""

    default: Precedence = Field(description="Rule for metrics without their own.")
    per_metric: dict[str, Precedence] = Field(
        default_factory=dict, description="Metric key -> rule for that metric."
    )

    def for_metric(self, key: str) -> Precedence:
        return self.per_metric.get(key, self.default)


class CampaignRef(_Model):
    """The campaign that measures the jailbreak: inline spec, spec file, or finished results."""

    spec: JsonObject | None = Field(
        default=None, description="An inline campaign spec (see `jbgrade schema show campaign`)."
    )
    ref: str | None = Field(
        default=None, description="Path to a campaign spec YAML, relative to the case file."
    )
    results: str | None = Field(
        default=None,
        description="Path to a finished campaign directory whose evidence is used as is.",
    )
    attack: str | None = Field(
        default=None,
        description="Which of the campaign's attacks is this jailbreak (default: the "
        "jailbreak's attack name, or the campaign's only attack).",
    )


class PolicySettings(_Model):
    """Which policy profiles decide, and with what context."""

    profiles: list[str] | Literal["all"] = Field(
        default="all", description="Profile ids to apply, or 'all' shipped profiles."
    )
    context: JsonObject = Field(
        default_factory=dict,
        description="Context for the policy engine (e.g. training compute, weights, "
        "jurisdiction); facts derivable from `models` are filled in when absent.",
    )


class EvidenceItem(_Model):
    """A piece of evidence an assessor cites."""

    id: str = Field(description="Identifier cited from metrics' `evidence` lists.")
    description: str = Field(description="What it shows.")
    file: str | None = Field(default=None, description="A file, relative to the case file.")
    url: str | None = Field(default=None, description="Where it is published.")


class Case(_Model):
    """One party's assessment of a reported jailbreak (case file format 1)."""

    case_format: Literal[1] = Field(description="Case file format version; this is 1.")
    id: str = Field(
        description="Case identifier, shared by every party's assessment of the same case."
    )
    title: str = Field(description="Short title.")
    summary: str | None = Field(default=None, description="A paragraph on the case.")
    jailbreak: Jailbreak = Field(description="The reported jailbreak.")
    models: list[Model] = Field(min_length=1, description="Affected models.")
    assessor: Assessor = Field(description="Who made this assessment.")
    assessed_on: date | None = Field(default=None, description="Date of this assessment.")
    aware_on: date = Field(
        description="Date the party became aware of the jailbreak; policy clocks start here."
    )
    jbg: Literal["1.0", "1.1"] | None = Field(
        default=None,
        description="Version of the JBG standard the case is graded in (default: the "
        "version of `vector` when given, else 1.0). New cases should say 1.1.",
    )
    vector: str | None = Field(
        default=None,
        description="A full JBG vector with the assessor's values (alternative to, or "
        "consistent with, `metrics`).",
    )
    metrics: dict[str, HandMetric] = Field(
        default_factory=dict, description="Metric key -> value set by hand with its rationale."
    )
    precedence: Precedence | PrecedenceRule = Field(
        default=Precedence.measured_over_assessor,
        description="Which value wins where measured and hand values disagree.",
    )
    campaign: CampaignRef | None = Field(default=None, description="Optional measurement campaign.")
    policy: PolicySettings = Field(
        default_factory=PolicySettings, description="Profiles and context for decisions."
    )
    evidence: list[EvidenceItem] = Field(
        default_factory=list, description="Evidence the assessor cites."
    )

    def precedence_for(self, key: str) -> Precedence:
        p = self.precedence
        return p if isinstance(p, Precedence) else p.for_metric(key)


@cache
def case_json_schema() -> dict[str, Any]:
    """The published JSON Schema of case files."""
    text = resources.files("jbgrade.assess").joinpath("data/case.schema.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data
