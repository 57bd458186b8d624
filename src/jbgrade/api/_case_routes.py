"""Registry routes for cases: listing, reporting, reading, the lifecycle and access grants."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from jbgrade.api._auth import get_registry
from jbgrade.api._registry_common import ActorDep, json_out, reveal, view_json
from jbgrade.api._responses import CaseOut
from jbgrade.api._schemas import CaseIn, GrantIn, TransitionIn
from jbgrade.registry import CasePage, GrantView

__all__ = ["case_router"]


def _list_router() -> APIRouter:
    """``GET /cases``: filtered keyset pages of the visible cases."""
    r = APIRouter()

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
        return json_out(page)

    return r


def _report_router() -> APIRouter:
    """``POST /cases`` and ``GET /cases/{case_id}``."""
    r = APIRouter()

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
        return json_out(case, 201, {"Location": f"/api/v1/cases/{case.id}"})

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
            out["payload"] = reveal(case.payload)
            out["transcripts"] = reveal(case.transcripts)
        return json_out(out)

    return r


def _lifecycle_router() -> APIRouter:
    """A case's lifecycle transitions and access grants."""
    r = APIRouter()

    @r.post(
        "/cases/{case_id}/transitions",
        tags=["cases"],
        response_model=CaseOut,
        summary="Move through the lifecycle",
    )
    def transition(request: Request, actor: ActorDep, case_id: str, body: TransitionIn) -> Response:
        return json_out(get_registry(request).transition(actor, case_id, body.to, note=body.note))

    @r.post(
        "/cases/{case_id}/grants",
        tags=["cases"],
        response_model=GrantView,
        status_code=201,
        summary="Grant access",
    )
    def grant(request: Request, actor: ActorDep, case_id: str, body: GrantIn) -> Response:
        g = get_registry(request).grant_access(actor, case_id, body.org_id, payload=body.payload)
        return json_out(g, 201)

    @r.delete(
        "/cases/{case_id}/grants/{org_id}", tags=["cases"], status_code=204, summary="Revoke access"
    )
    def revoke_grant(request: Request, actor: ActorDep, case_id: str, org_id: str) -> Response:
        get_registry(request).revoke_access(actor, case_id, org_id)
        return Response(status_code=204)

    return r


def case_router() -> APIRouter:
    """``/cases`` and a case's transitions and grants (tag ``cases``), in that order."""
    r = APIRouter()
    for sub in (_list_router(), _report_router(), _lifecycle_router()):
        r.include_router(sub)
    return r
