"""What the service layer returns: frozen, versioned pydantic records.

Sensitive text (payloads, transcripts) is a ``SecretStr``: its repr, ``str()``
and default JSON dump are ``**********``; only an explicit
``.get_secret_value()`` reveals it, and the service fills it only for callers
entitled to it who asked for it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field, SecretStr

from jbgrade._base import FrozenRecord, JsonObject
from jbgrade.registry._tables import Role

__all__ = [
    "FORMAT_VERSION",
    "Actor",
    "AssessmentView",
    "AuditEntryView",
    "CasePage",
    "CaseSummary",
    "CaseView",
    "DecisionView",
    "EvidenceView",
    "GrantView",
    "IssuedToken",
    "OrgView",
    "ReconciliationView",
    "TransitionView",
    "UserView",
]

FORMAT_VERSION = "1.0"


class _View(FrozenRecord):
    format_version: str = Field(
        default=FORMAT_VERSION, description="Version of this record's format."
    )


class Actor(FrozenRecord):
    """Who is calling: every service method takes one (never a global)."""

    user_id: str = Field(description="The user's id.")
    org_id: str = Field(description="The user's organisation.")
    role: Role = Field(description="The user's role.")
    username: str = Field(description="The user's login name (for display and logs).")


class OrgView(_View):
    """An organisation."""

    id: str = Field(description="Organisation id.")
    name: str = Field(description="Unique display name.")
    kind: str = Field(description="lab, government, research, platform or other.")
    created_at: datetime = Field(description="Creation instant (UTC).")


class UserView(_View):
    """A user (never with password or token material)."""

    id: str = Field(description="User id.")
    org_id: str = Field(description="The user's organisation.")
    username: str = Field(description="Unique login name.")
    display_name: str = Field(description="Name shown in the UI.")
    role: Role = Field(description="reporter, assessor, regulator or admin.")
    active: bool = Field(description="Inactive users cannot authenticate.")
    has_password: bool = Field(description="Whether a login password is set.")
    created_at: datetime = Field(description="Creation instant (UTC).")


class IssuedToken(_View):
    """A freshly issued API token or session: the secret is shown this once only."""

    id: str = Field(description="Token id (for revocation).")
    user_id: str = Field(description="Whose token it is.")
    kind: Literal["api", "session"] = Field(description="API token or browser session.")
    name: str = Field(description="Label given at issue.")
    token: SecretStr = Field(description="The secret; the registry keeps only its SHA-256.")
    expires_at: datetime | None = Field(description="Expiry instant (UTC), if any.")


class GrantView(_View):
    """Another organisation's access to a case."""

    id: str = Field(description="Grant id.")
    case_id: str = Field(description="The case.")
    org_id: str = Field(description="The organisation granted access.")
    org_name: str = Field(description="Its name.")
    payload: bool = Field(description="Whether the grant includes payload and transcripts.")
    granted_by: str = Field(description="User who granted it.")
    created_at: datetime = Field(description="When it was granted (UTC).")
    revoked_at: datetime | None = Field(description="When it was revoked, if it was.")


class TransitionView(_View):
    """One lifecycle move of a case."""

    id: str = Field(description="Transition id.")
    from_state: str = Field(description="State before.")
    to_state: str = Field(description="State after.")
    actor_id: str = Field(description="Who moved it.")
    note: str = Field(description="Why (free text).")
    created_at: datetime = Field(description="When (UTC).")


class CaseSummary(_View):
    """A case as listed: metadata only, never payloads."""

    id: str = Field(description="Case id (time-ordered).")
    title: str = Field(description="Short title.")
    state: str = Field(description="Lifecycle state.")
    score: float | None = Field(description="Highest score among current assessments.")
    severity: str | None = Field(description="Severity label of that score.")
    domain: str | None = Field(description="Hazard domain (HD) of the highest assessment.")
    reporting_org_id: str = Field(description="Organisation that reported the case.")
    reporting_org_name: str = Field(description="Its name.")
    owning_org_id: str = Field(description="Organisation that owns the affected models.")
    owning_org_name: str = Field(description="Its name.")
    embargo_until: datetime | None = Field(description="Embargo end (UTC), if any.")
    created_at: datetime = Field(description="When it was reported (UTC).")
    updated_at: datetime = Field(description="Last change (UTC).")


class CaseView(CaseSummary):
    """A case in full. ``payload``/``transcripts`` are filled only on request, for
    callers entitled to them (``payload_access``)."""

    summary: str = Field(description="What happened (metadata: do not paste payloads here).")
    affected_models: list[str] = Field(description="Affected models.")
    affected_vendors: list[str] = Field(description="Their vendors.")
    affected_deployments: list[str] = Field(description="Affected deployments/products.")
    attack_description: str = Field(description="How the attack works, without the payload.")
    attack_kind: str | None = Field(
        default=None, description="The attack's kind (e.g. roleplay, prompt-injection), if given."
    )
    atlas_techniques: list[str] = Field(
        default_factory=list, description="MITRE ATLAS technique ids of the attack, if given."
    )
    reported_by: str = Field(description="User who reported it.")
    embargoed: bool = Field(description="Whether the embargo is in force now.")
    has_payload: bool = Field(description="Whether an encrypted payload is stored.")
    has_transcripts: bool = Field(description="Whether encrypted transcripts are stored.")
    payload_access: bool = Field(description="Whether this caller may decrypt them.")
    payload: SecretStr | None = Field(
        description="Decrypted payload, only when asked and entitled."
    )
    transcripts: SecretStr | None = Field(
        description="Decrypted transcripts, only when asked and entitled."
    )
    relations: list[str] = Field(description="The caller's relations to the case.")
    allowed_transitions: list[str] = Field(
        description="States the caller may move the case to now."
    )
    grants: list[GrantView] = Field(description="Organisations granted access.")
    history: list[TransitionView] = Field(description="Lifecycle moves, oldest first.")


class CasePage(_View):
    """One page of a case list."""

    items: list[CaseSummary] = Field(description="The cases on this page.")
    next_cursor: str | None = Field(description="Opaque cursor of the next page, if any.")
    total: int | None = Field(description="Number of matching cases, when asked for.")
    total_capped: bool = Field(
        default=False, description="True when more cases match than were counted (total)."
    )


class AssessmentView(_View):
    """One version of one party's assessment."""

    id: str = Field(description="Assessment id.")
    case_id: str = Field(description="The case.")
    org_id: str = Field(description="The assessing party.")
    org_name: str = Field(description="Its name.")
    assessor_id: str = Field(description="The assessor.")
    assessor_name: str = Field(description="The assessor's display name.")
    version: int = Field(description="1 for the party's first assessment, then 2, 3, ...")
    supersedes_id: str | None = Field(description="The version this one replaces.")
    current: bool = Field(description="Whether this is the party's latest version.")
    vector: str = Field(description="Canonical JBG vector.")
    score: float = Field(description="Score 0.0-10.0.")
    severity: str = Field(description="Severity label.")
    provisional: bool = Field(description="Whether any metric was X (not assessed).")
    systemic: bool = Field(description="The grade's systemic flag.")
    domain: str = Field(description="Hazard domain (HD value).")
    rationales: dict[str, str] = Field(description="Metric key -> why this value.")
    evidence_refs: list[str] = Field(description="Evidence ids or URIs the grade rests on.")
    note: str = Field(description="Free-text note.")
    created_at: datetime = Field(description="When it was recorded (UTC).")


class EvidenceView(_View):
    """Campaign evidence attached to a case."""

    id: str = Field(description="Evidence id.")
    case_id: str = Field(description="The case.")
    org_id: str = Field(description="Organisation that attached it.")
    attached_by: str = Field(description="User who attached it.")
    label: str = Field(description="Short label.")
    evidence_format_version: str = Field(description="format_version of the evidence JSON.")
    body: JsonObject = Field(description="The evidence JSON (statistics, no transcripts).")
    body_sha256: str = Field(description="SHA-256 of the canonical evidence JSON.")
    has_transcripts: bool = Field(description="Whether encrypted transcripts are stored.")
    transcripts: SecretStr | None = Field(description="Transcripts, only when asked and entitled.")
    created_at: datetime = Field(description="When it was attached (UTC).")


class DecisionView(_View):
    """A recorded policy decision."""

    id: str = Field(description="Decision id.")
    case_id: str = Field(description="The case.")
    assessment_id: str | None = Field(description="The assessment it was decided on.")
    org_id: str = Field(description="Organisation that recorded it.")
    decided_by: str = Field(description="User who recorded it.")
    profile_id: str = Field(description="Policy profile id.")
    profile_version: str = Field(description="Policy profile version.")
    bundle_sha256: str = Field(description="SHA-256 of the policy bundle (for replay).")
    action: str = Field(description="none, monitor, mitigate, restrict_export, block_deployment.")
    provisional: bool = Field(description="Whether the decision rests on precaution.")
    next_due: date | None = Field(description="Earliest obligation due date.")
    result: JsonObject = Field(description="The full decision JSON.")
    current: bool = Field(description="Whether it is the latest decision under its profile.")
    created_at: datetime = Field(description="When it was recorded (UTC).")


class ReconciliationView(_View):
    """A reconciliation record stored on a case."""

    id: str = Field(description="Reconciliation id.")
    case_id: str = Field(description="The case.")
    org_id: str = Field(description="Organisation that stored it.")
    stored_by: str = Field(description="User who stored it.")
    stored_by_name: str = Field(description="That user's username.")
    org_name: str = Field(description="That organisation's name.")
    status: Literal["open", "settled"] = Field(description="The record's status when stored.")
    inputs_sha256: str = Field(description="SHA-256 over both sides' sources.")
    record: JsonObject = Field(description="The reconciliation record (format 1).")
    created_at: datetime = Field(description="When it was stored (UTC).")


class AuditEntryView(_View):
    """One audit entry."""

    seq: int = Field(description="Position in the chain (1-based).")
    at: datetime = Field(description="When (UTC).")
    actor_id: str = Field(description="User id, or system:<what>.")
    actor_org_id: str | None = Field(description="The actor's organisation.")
    action: str = Field(description="What was done, e.g. case.report.")
    object_type: str = Field(description="case, assessment, evidence, decision, ...")
    object_id: str = Field(description="The object's id.")
    case_id: str | None = Field(description="The case it belongs to, if any.")
    state_sha256: str = Field(description="SHA-256 of the object's canonical new state.")
    prev_sha256: str = Field(description="Previous entry's hash.")
    entry_sha256: str = Field(description="This entry's hash.")
