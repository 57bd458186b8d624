"""Wire schemas of request bodies (responses are the registry's and policy's records)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from jbgrade._base import JsonObject
from jbgrade.registry import Role

__all__ = [
    "ActiveIn",
    "AssessmentIn",
    "CaseIn",
    "DecideIn",
    "DecisionIn",
    "EvidenceIn",
    "GrantIn",
    "OrgIn",
    "PasswordIn",
    "RoleIn",
    "TokenIn",
    "TransitionIn",
    "UserIn",
]

_CFG = ConfigDict(extra="forbid")


class DecideIn(BaseModel):
    """Body of ``POST /api/v1/decide``."""

    model_config = _CFG
    vector: str = Field(max_length=256, description="A JBG 1.0 vector.")
    profile: str = Field(max_length=200, description="Shipped policy profile id.")
    context: JsonObject = Field(
        default_factory=dict,
        description="The profile's declared context fields; missing ones take the profile's "
        "precautionary default and make the decision provisional.",
    )
    aware_on: dt.date | None = Field(
        None, description="Awareness date that due dates count from (default: today, UTC)."
    )
    notified_on: dt.date | None = Field(None, description="Notification date, if known.")
    patched_on: dt.date | None = Field(None, description="Patch date, if known.")


class OrgIn(BaseModel):
    """Body of ``POST /api/v1/orgs``."""

    model_config = _CFG
    name: str = Field(min_length=1, max_length=200, description="Unique display name.")
    kind: Literal["lab", "government", "research", "platform", "other"] = Field(
        "other", description="What kind of organisation it is."
    )


class UserIn(BaseModel):
    """Body of ``POST /api/v1/users``."""

    model_config = _CFG
    org_id: str = Field(max_length=64, description="The user's organisation.")
    username: str = Field(min_length=1, max_length=100, description="Unique login name.")
    role: Role = Field(
        description="reporter, assessor, regulator, admin (own organisation) or superadmin."
    )
    display_name: str = Field("", max_length=200, description="Name shown in the UI.")
    password: str | None = Field(
        None, min_length=12, max_length=1000, description="Login password (12-1000 characters)."
    )


class PasswordIn(BaseModel):
    """Body of ``POST /api/v1/users/{user_id}/password``."""

    model_config = _CFG
    password: str = Field(
        min_length=12, max_length=1000, description="New password (12-1000 characters)."
    )


class RoleIn(BaseModel):
    """Body of ``POST /api/v1/users/{user_id}/role``."""

    model_config = _CFG
    role: Role = Field(description="The user's new role.")


class ActiveIn(BaseModel):
    """Body of ``POST /api/v1/users/{user_id}/active``."""

    model_config = _CFG
    active: bool = Field(description="False deactivates the user (tokens and sessions stop).")


class TokenIn(BaseModel):
    """Body of ``POST /api/v1/tokens``."""

    model_config = _CFG
    name: str = Field("", max_length=200, description="Label, e.g. the tool that uses it.")
    user_id: str | None = Field(
        None, description="Whose token (admins may issue for others; default: yourself)."
    )
    expires_in_days: int | None = Field(
        None, ge=1, le=3650, description="Lifetime in days (default: no expiry)."
    )


class CaseIn(BaseModel):
    """Body of ``POST /api/v1/cases``: report a case."""

    model_config = _CFG
    title: str = Field(min_length=1, max_length=300, description="Short title.")
    summary: str = Field("", max_length=20_000, description="What happened (no payload here).")
    owning_org_id: str | None = Field(
        None, description="Organisation that owns the affected models (default: yours)."
    )
    affected_models: list[str] = Field(default_factory=list, max_length=100)
    affected_vendors: list[str] = Field(default_factory=list, max_length=100)
    affected_deployments: list[str] = Field(default_factory=list, max_length=100)
    attack_description: str = Field(
        "", max_length=20_000, description="How the attack works, without the payload."
    )
    attack_kind: str | None = Field(
        None, max_length=60, description="The attack's kind (roleplay, prompt-injection, ...)."
    )
    atlas_techniques: list[str] = Field(
        default_factory=list,
        max_length=50,
        description="MITRE ATLAS technique ids of the attack (AML.T0054, AML.T0051.000).",
    )
    payload: str | None = Field(
        None, max_length=100_000, description="The sensitive payload (stored encrypted)."
    )
    transcripts: str | None = Field(
        None, max_length=200_000, description="Transcripts (stored encrypted)."
    )
    embargo_until: dt.datetime | None = Field(
        None, description="Until when only the reporting and owning organisations see it."
    )


class TransitionIn(BaseModel):
    """Body of ``POST /api/v1/cases/{case_id}/transitions``."""

    model_config = _CFG
    to: str = Field(description="Target lifecycle state.")
    note: str = Field("", max_length=5000, description="Why.")


class AssessmentIn(BaseModel):
    """Body of ``POST /api/v1/cases/{case_id}/assessments``."""

    model_config = _CFG
    vector: str = Field(max_length=256, description="The party's JBG vector.")
    rationales: dict[str, str] = Field(
        default_factory=dict, description="Metric key -> why this value."
    )
    evidence_refs: list[str] = Field(default_factory=list, max_length=100)
    note: str = Field("", max_length=5000)


class EvidenceIn(BaseModel):
    """Body of ``POST /api/v1/cases/{case_id}/evidence``."""

    model_config = _CFG
    evidence: JsonObject = Field(description="Evidence JSON from a campaign.")
    label: str = Field("", max_length=300)
    transcripts: str | None = Field(None, description="Transcripts (stored encrypted).")


class DecisionIn(BaseModel):
    """Body of ``POST /api/v1/cases/{case_id}/decisions``: the server decides and records.

    The grade comes from ``assessment_id``, else ``vector``, else the case's current
    assessment with the highest score (precaution)."""

    model_config = _CFG
    profile: str = Field(max_length=200, description="Policy profile id.")
    assessment_id: str | None = Field(None, description="Assessment to decide on.")
    vector: str | None = Field(None, max_length=256, description="Vector to decide on.")
    context: JsonObject = Field(default_factory=dict, description="Profile context.")
    aware_on: dt.date | None = Field(
        None, description="Awareness date (default: the day the case was reported, UTC)."
    )


class GrantIn(BaseModel):
    """Body of ``POST /api/v1/cases/{case_id}/grants``."""

    model_config = _CFG
    org_id: str = Field(description="Organisation to give access to.")
    payload: bool = Field(False, description="Include the payload and transcripts.")
