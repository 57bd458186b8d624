"""Wire schemas of response bodies, so the OpenAPI document describes every 2xx body.

Most responses are the registry's own view records; these add the list envelopes,
the forms in which a secret is shown (a token once, a payload to an entitled
caller) and the published tables.
"""

from __future__ import annotations

import datetime as dt
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from jbgrade.registry import (
    AssessmentView,
    AuditEntryView,
    CaseView,
    DecisionView,
    EvidenceView,
    OrgView,
    ReconciliationView,
    UserView,
)

__all__ = [
    "AssessmentList",
    "AuditList",
    "AuditVerifyOut",
    "CaseOut",
    "DecisionList",
    "EvidenceList",
    "EvidenceOut",
    "LifecycleOut",
    "OrgList",
    "PermissionsOut",
    "ProfileList",
    "ReconciliationList",
    "ReplayOut",
    "TokenOut",
    "UserList",
]

_CFG = ConfigDict(extra="forbid")
_T = TypeVar("_T", bound=BaseModel)


class _Items(BaseModel, Generic[_T]):
    """A list envelope, ``{"items": [...]}``; each subclass names its schema."""

    model_config = _CFG
    items: list[_T]


class OrgList(_Items[OrgView]):
    pass


class UserList(_Items[UserView]):
    pass


class AssessmentList(_Items[AssessmentView]):
    pass


class EvidenceOut(EvidenceView):
    """An evidence record; ``transcripts`` in clear only when asked and entitled."""

    transcripts: str | None = Field(  # type: ignore[assignment]
        default=None, description="Transcripts (only with include_transcripts, entitled roles)."
    )


class EvidenceList(_Items[EvidenceOut]):
    pass


class DecisionList(_Items[DecisionView]):
    pass


class ReconciliationList(_Items[ReconciliationView]):
    pass


class AuditList(_Items[AuditEntryView]):
    pass


class CaseOut(CaseView):
    """A case; payload and transcripts in clear only with ``include_payload``."""

    payload: str | None = Field(  # type: ignore[assignment]
        default=None, description="The payload (only with include_payload, entitled roles)."
    )
    transcripts: str | None = Field(  # type: ignore[assignment]
        default=None, description="Transcripts (only with include_payload, entitled roles)."
    )


class TokenOut(BaseModel):
    """A new API token: the secret is shown this once (the registry keeps its hash)."""

    model_config = _CFG
    format_version: str
    id: str
    user_id: str
    kind: str
    name: str
    token: str = Field(description="The secret bearer token.")
    expires_at: dt.datetime | None


class ReplayOut(BaseModel):
    model_config = _CFG
    reproduced: bool = Field(description="True: the recorded decision was recomputed.")
    decision: DecisionView


class AuditVerifyOut(BaseModel):
    model_config = _CFG
    ok: bool
    entries: int
    head_seq: int
    head_sha256: str = Field(description="SHA-256 of the head entry (with head_seq: an anchor).")
    objects_checked: int
    summary: str
    problems: list[str]


class _Rule(BaseModel):
    model_config = _CFG
    roles: list[str]
    relations: list[str]
    unless_embargoed: bool = False


class _Action(BaseModel):
    model_config = _CFG
    scope: str
    description: str
    allow: list[_Rule]


class PermissionsOut(BaseModel):
    """The permission table (``permissions.json``)."""

    model_config = _CFG
    format_version: str
    description: str
    roles: dict[str, str]
    relations: dict[str, str]
    actions: dict[str, _Action]


class _Transition(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    from_: str = Field(alias="from")
    to: str
    kind: str
    requires: list[str]


class LifecycleOut(BaseModel):
    model_config = _CFG
    initial: str
    states: list[str]
    transitions: list[_Transition]


class _ProfileSummary(BaseModel):
    model_config = _CFG
    id: str
    title: str
    version: str
    status: str
    illustrative: bool
    effective_from: dt.date
    effective_to: dt.date | None
    rescinded_on: dt.date | None
    summary: str
    rules: int
    obligations: int
    context: list[str]
    domains: dict[str, str]
    source: str | None
    bundle_sha256: str


class ProfileList(_Items[_ProfileSummary]):
    pass
