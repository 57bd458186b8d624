"""Registry endpoints: organisations, users, tokens, cases and everything on a case.

Handlers are plain ``def``: the registry is synchronous (SQLAlchemy), so FastAPI
runs them in its thread pool. Every handler passes the authenticated actor to
the registry, which applies the permission table; this module adds nothing to
it and takes nothing away.
"""

from __future__ import annotations

import datetime as dt
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request
from pydantic import BaseModel, SecretStr
from starlette.responses import Response

from jbgrade.api._auth import get_registry, require_actor
from jbgrade.api._policy_routes import shipped_profile
from jbgrade.api._respond import json_response
from jbgrade.api._responses import (
    AssessmentList,
    AuditList,
    AuditVerifyOut,
    CaseOut,
    DecisionList,
    EvidenceList,
    EvidenceOut,
    LifecycleOut,
    OrgList,
    PermissionsOut,
    ReconciliationList,
    ReplayOut,
    TokenOut,
    UserList,
)
from jbgrade.api._schemas import (
    ActiveIn,
    AssessmentIn,
    CaseIn,
    DecisionIn,
    EvidenceIn,
    GrantIn,
    OrgIn,
    PasswordIn,
    RoleIn,
    TokenIn,
    TransitionIn,
    UserIn,
)
from jbgrade.registry import (
    Actor,
    AssessmentView,
    CasePage,
    DecisionView,
    GrantView,
    OrgView,
    ReconciliationView,
    Registry,
    UserView,
    lifecycle,
    permissions,
)

__all__ = ["decide_on_case", "registry_router", "view_json"]

ActorDep = Annotated[Actor, Depends(require_actor)]


def view_json(obj: Any) -> Any:
    """A registry record (or list of them) as JSON-ready data; secrets stay masked."""
    if isinstance(obj, BaseModel):
        return obj.model_dump(mode="json")
    if isinstance(obj, list):
        return [view_json(x) for x in obj]
    if isinstance(obj, dict):
        return {k: view_json(v) for k, v in obj.items()}
    return obj


def _json(obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return json_response(view_json(obj), status, headers)


def _reveal(secret: SecretStr | None) -> str | None:
    return None if secret is None else secret.get_secret_value()


def decide_on_case(
    reg: Registry,
    actor: Actor,
    case_id: str,
    *,
    profile: str,
    assessment_id: str | None = None,
    vector: str | None = None,
    context: dict[str, Any] | None = None,
    aware_on: dt.date | None = None,
) -> DecisionView:
    """Decide under the shipped ``profile`` on one of the case's grades and record it.

    :meth:`Registry.decide` does the work (the same code path as the library, so every
    decision recorded over HTTP holds what replay needs); this adds only that a request
    names a shipped profile, never a file on the server. The server computes the
    decision itself (a client cannot record a result the policy does not give). The
    grade: ``assessment_id``, else ``vector``, else the highest-scoring current
    assessment (precaution); the awareness date defaults to the day the case was
    reported.
    """
    return reg.decide(
        actor,
        case_id,
        shipped_profile(profile),
        assessment_id=assessment_id,
        vector=vector,
        context=context,
        aware_on=aware_on,
    )


def registry_router() -> APIRouter:
    r = APIRouter(prefix="/api/v1")

    # -- tables -----------------------------------------------------------------------
    @r.get(
        "/permissions",
        tags=["meta"],
        response_model=PermissionsOut,
        summary="The permission table (who may do what)",
    )
    def get_permissions() -> Response:
        return _json(permissions().to_dict())

    @r.get(
        "/lifecycle",
        tags=["meta"],
        response_model=LifecycleOut,
        summary="Case lifecycle states and transitions",
    )
    def get_lifecycle() -> Response:
        lc = lifecycle()
        return _json(
            {
                "initial": lc.initial,
                "states": list(lc.states),
                "transitions": [
                    {"from": t.source, "to": t.target, "kind": t.kind, "requires": list(t.requires)}
                    for t in lc.transitions
                ],
            }
        )

    # -- identity ---------------------------------------------------------------------
    @r.get("/me", tags=["identity"], response_model=Actor, summary="Who the credentials belong to")
    def me(actor: ActorDep) -> Response:
        return _json(actor)

    @r.get("/orgs", tags=["identity"], response_model=OrgList, summary="List organisations")
    def list_orgs(request: Request, actor: ActorDep) -> Response:
        return _json({"items": get_registry(request).list_orgs(actor)})

    @r.post(
        "/orgs",
        tags=["identity"],
        response_model=OrgView,
        status_code=201,
        summary="Create an organisation",
    )
    def create_org(request: Request, actor: ActorDep, body: OrgIn) -> Response:
        org = get_registry(request).create_org(actor, body.name, kind=body.kind)
        return _json(org, 201, {"Location": f"/api/v1/orgs/{org.id}"})

    @r.get("/orgs/{org_id}", tags=["identity"], response_model=OrgView, summary="One organisation")
    def get_org(request: Request, actor: ActorDep, org_id: str) -> Response:
        return _json(get_registry(request).get_org(actor, org_id))

    @r.get(
        "/users",
        tags=["identity"],
        response_model=UserList,
        summary="List users (admins: own organisation)",
    )
    def list_users(request: Request, actor: ActorDep, org_id: str | None = None) -> Response:
        return _json({"items": get_registry(request).list_users(actor, org_id=org_id)})

    @r.post(
        "/users",
        tags=["identity"],
        response_model=UserView,
        status_code=201,
        summary="Create a user (admins: own org)",
    )
    def create_user(request: Request, actor: ActorDep, body: UserIn) -> Response:
        user = get_registry(request).create_user(
            actor,
            body.org_id,
            body.username,
            body.role,
            display_name=body.display_name,
            password=body.password,
        )
        return _json(user, 201, {"Location": f"/api/v1/users/{user.id}"})

    @r.get("/users/{user_id}", tags=["identity"], response_model=UserView, summary="One user")
    def get_user(request: Request, actor: ActorDep, user_id: str) -> Response:
        return _json(get_registry(request).get_user(actor, user_id))

    @r.post(
        "/users/{user_id}/password", tags=["identity"], status_code=204, summary="Set a password"
    )
    def set_password(request: Request, actor: ActorDep, user_id: str, body: PasswordIn) -> Response:
        get_registry(request).set_password(actor, user_id, body.password)
        return Response(status_code=204)

    @r.post(
        "/users/{user_id}/role",
        tags=["identity"],
        response_model=UserView,
        summary="Change a user's role",
    )
    def set_role(request: Request, actor: ActorDep, user_id: str, body: RoleIn) -> Response:
        return _json(get_registry(request).set_role(actor, user_id, body.role))

    @r.post(
        "/users/{user_id}/active",
        tags=["identity"],
        response_model=UserView,
        summary="Deactivate or reactivate a user",
    )
    def set_active(request: Request, actor: ActorDep, user_id: str, body: ActiveIn) -> Response:
        return _json(get_registry(request).set_user_active(actor, user_id, body.active))

    @r.post(
        "/tokens",
        tags=["identity"],
        response_model=TokenOut,
        status_code=201,
        summary="Issue an API token",
    )
    def issue_token(request: Request, actor: ActorDep, body: TokenIn) -> Response:
        tok = get_registry(request).issue_token(
            actor,
            body.user_id,
            name=body.name,
            expires_in=timedelta(days=body.expires_in_days) if body.expires_in_days else None,
        )
        out = view_json(tok)
        out["token"] = tok.token.get_secret_value()  # shown this once; stored hashed
        return _json(out, 201)

    @r.delete("/tokens/{token_id}", tags=["identity"], status_code=204, summary="Revoke a token")
    def revoke_token(request: Request, actor: ActorDep, token_id: str) -> Response:
        get_registry(request).revoke_token(actor, token_id)
        return Response(status_code=204)

    # -- cases ------------------------------------------------------------------------
    @r.get(
        "/cases",
        tags=["cases"],
        response_model=CasePage,
        summary="List visible cases (filters, keyset pages)",
    )
    def list_cases(  # noqa: PLR0917 - one parameter per query filter
        request: Request,
        actor: ActorDep,
        state: Annotated[list[str] | None, Query(description="Lifecycle state(s).")] = None,
        severity: Annotated[list[str] | None, Query(description="Severity label(s).")] = None,
        organization: Annotated[
            str | None, Query(description="Reporting or owning organisation id.")
        ] = None,
        domain: Annotated[list[str] | None, Query(description="Hazard domain letter(s).")] = None,
        q: Annotated[
            str | None, Query(max_length=200, description="Text in title/summary.")
        ] = None,
        sort: str = "-updated_at",
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        cursor: Annotated[str | None, Query(max_length=500)] = None,
        total: bool = False,
    ) -> Response:
        page = get_registry(request).list_cases(
            actor,
            state=state,
            severity=severity,
            organization=organization,
            domain=domain,
            text=q,
            sort=sort,
            limit=limit,
            cursor=cursor,
            with_total=total,
        )
        return _json(page)

    @r.post(
        "/cases", tags=["cases"], response_model=CaseOut, status_code=201, summary="Report a case"
    )
    def report_case(request: Request, actor: ActorDep, body: CaseIn) -> Response:
        case = get_registry(request).report_case(
            actor,
            title=body.title,
            summary=body.summary,
            owning_org_id=body.owning_org_id,
            affected_models=body.affected_models,
            affected_vendors=body.affected_vendors,
            affected_deployments=body.affected_deployments,
            attack_description=body.attack_description,
            attack_kind=body.attack_kind,
            atlas_techniques=body.atlas_techniques,
            payload=body.payload,
            transcripts=body.transcripts,
            embargo_until=body.embargo_until,
        )
        return _json(case, 201, {"Location": f"/api/v1/cases/{case.id}"})

    @r.get(
        "/cases/{case_id}",
        tags=["cases"],
        response_model=CaseOut,
        summary="One case (payload only on request)",
    )
    def get_case(
        request: Request,
        actor: ActorDep,
        case_id: str,
        include_payload: Annotated[
            bool, Query(description="Decrypt payload and transcripts (entitled roles; audited).")
        ] = False,
    ) -> Response:
        case = get_registry(request).get_case(actor, case_id, include_payload=include_payload)
        out = view_json(case)
        if include_payload:
            out["payload"] = _reveal(case.payload)
            out["transcripts"] = _reveal(case.transcripts)
        return _json(out)

    @r.post(
        "/cases/{case_id}/transitions",
        tags=["cases"],
        response_model=CaseOut,
        summary="Move through the lifecycle",
    )
    def transition(request: Request, actor: ActorDep, case_id: str, body: TransitionIn) -> Response:
        return _json(get_registry(request).transition(actor, case_id, body.to, note=body.note))

    @r.post(
        "/cases/{case_id}/grants",
        tags=["cases"],
        response_model=GrantView,
        status_code=201,
        summary="Grant access",
    )
    def grant(request: Request, actor: ActorDep, case_id: str, body: GrantIn) -> Response:
        g = get_registry(request).grant_access(actor, case_id, body.org_id, payload=body.payload)
        return _json(g, 201)

    @r.delete(
        "/cases/{case_id}/grants/{org_id}", tags=["cases"], status_code=204, summary="Revoke access"
    )
    def revoke_grant(request: Request, actor: ActorDep, case_id: str, org_id: str) -> Response:
        get_registry(request).revoke_access(actor, case_id, org_id)
        return Response(status_code=204)

    @r.get(
        "/cases/{case_id}/assessments",
        tags=["assessments"],
        response_model=AssessmentList,
        summary="Assessments",
    )
    def list_assessments(
        request: Request, actor: ActorDep, case_id: str, history: bool = False
    ) -> Response:
        items = get_registry(request).list_assessments(actor, case_id, history=history)
        return _json({"items": items})

    @r.post(
        "/cases/{case_id}/assessments",
        tags=["assessments"],
        response_model=AssessmentView,
        status_code=201,
        summary="Add an assessment (a new version supersedes your organisation's previous one)",
    )
    def add_assessment(
        request: Request, actor: ActorDep, case_id: str, body: AssessmentIn
    ) -> Response:
        a = get_registry(request).add_assessment(
            actor,
            case_id,
            body.vector,
            rationales=body.rationales,
            evidence_refs=body.evidence_refs,
            note=body.note,
        )
        return _json(a, 201)

    @r.get(
        "/cases/{case_id}/evidence",
        tags=["evidence"],
        response_model=EvidenceList,
        summary="Evidence on a case",
    )
    def list_evidence(
        request: Request, actor: ActorDep, case_id: str, include_transcripts: bool = False
    ) -> Response:
        items = get_registry(request).list_evidence(
            actor, case_id, include_transcripts=include_transcripts
        )
        out = view_json(items)
        if include_transcripts:
            for row, ev in zip(out, items, strict=True):
                row["transcripts"] = _reveal(ev.transcripts)
        return _json({"items": out})

    @r.post(
        "/cases/{case_id}/evidence",
        tags=["evidence"],
        response_model=EvidenceOut,
        status_code=201,
        summary="Upload campaign evidence (larger body limit)",
    )
    def attach_evidence(
        request: Request, actor: ActorDep, case_id: str, body: EvidenceIn
    ) -> Response:
        ev = get_registry(request).attach_evidence(
            actor, case_id, body.evidence, label=body.label, transcripts=body.transcripts
        )
        return _json(ev, 201)

    @r.get(
        "/cases/{case_id}/decisions",
        tags=["decisions"],
        response_model=DecisionList,
        summary="Recorded decisions",
    )
    def list_decisions(request: Request, actor: ActorDep, case_id: str) -> Response:
        return _json({"items": get_registry(request).list_decisions(actor, case_id)})

    @r.post(
        "/cases/{case_id}/decisions",
        tags=["decisions"],
        response_model=DecisionView,
        status_code=201,
        summary="Decide under a policy profile and record the decision",
    )
    def record_decision(
        request: Request, actor: ActorDep, case_id: str, body: DecisionIn
    ) -> Response:
        d = decide_on_case(
            get_registry(request),
            actor,
            case_id,
            profile=body.profile,
            assessment_id=body.assessment_id,
            vector=body.vector,
            context=body.context,
            aware_on=body.aware_on,
        )
        return _json(d, 201)

    @r.get(
        "/cases/{case_id}/decisions/{decision_id}/replay",
        tags=["decisions"],
        response_model=ReplayOut,
        summary="Recompute a recorded decision and check it is the same",
        description="200 with `reproduced: true` when the policy engine, given the "
        "recorded vector, context, dates and profile bundle, gives the recorded "
        "decision again; otherwise a problem document saying why (a different "
        "profile bundle, a different result, or a decision recorded without its "
        "vector).",
    )
    def replay_decision(
        request: Request, actor: ActorDep, case_id: str, decision_id: str
    ) -> Response:
        view = get_registry(request).replay_decision(actor, decision_id, case_id=case_id)
        return _json({"reproduced": True, "decision": view})

    @r.get(
        "/cases/{case_id}/reconciliations",
        tags=["reconciliations"],
        summary="Reconciliation records stored on a case",
        response_model=ReconciliationList,
    )
    def list_reconciliations(request: Request, actor: ActorDep, case_id: str) -> Response:
        return _json({"items": get_registry(request).list_reconciliations(actor, case_id)})

    @r.post(
        "/cases/{case_id}/reconciliations",
        tags=["reconciliations"],
        status_code=201,
        response_model=ReconciliationView,
        summary="Store a reconciliation record on a case",
        description="The body is the record as `jbgrade dispute --json` prints it "
        "(schema: `jbgrade schema show reconciliation`); it must be about this case.",
    )
    def add_reconciliation(
        request: Request, actor: ActorDep, case_id: str, body: Annotated[dict[str, Any], Body()]
    ) -> Response:
        from jbgrade.assess import store_reconciliation  # heavy (harness, reports): load on use

        view = store_reconciliation(get_registry(request), actor, case_id, body)
        return _json(view, 201)

    @r.get(
        "/cases/{case_id}/audit",
        tags=["audit"],
        response_model=AuditList,
        summary="The case's audit trail",
    )
    def audit_trail(request: Request, actor: ActorDep, case_id: str) -> Response:
        return _json({"items": get_registry(request).audit_trail(actor, case_id)})

    @r.get(
        "/audit/verify",
        tags=["audit"],
        response_model=AuditVerifyOut,
        summary="Verify the whole hash-chained audit log",
    )
    def verify(request: Request, actor: ActorDep) -> Response:
        rep = get_registry(request).verify_audit(actor)
        return _json(
            {
                "ok": rep.ok,
                "entries": rep.entries,
                "head_seq": rep.head_seq,
                "head_sha256": rep.head_sha256,
                "objects_checked": rep.objects_checked,
                "summary": rep.summary(),
                "problems": [str(p) for p in rep.problems],
            }
        )

    return r
