"""Registry routes for what is decided on a case: decisions, replay and reconciliations."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request
from starlette.responses import Response

from jbgrade.api._auth import get_registry
from jbgrade.api._registry_common import ActorDep, decide_on_case, json_out
from jbgrade.api._responses import DecisionList, ReconciliationList, ReplayOut
from jbgrade.api._schemas import DecisionIn
from jbgrade.registry import DecisionView, ReconciliationView

__all__ = ["decision_router"]


def decision_router() -> APIRouter:
    """A case's decisions and reconciliations (tags ``decisions``, ``reconciliations``)."""
    r = APIRouter()

    @r.get(
        "/cases/{case_id}/decisions",
        tags=["decisions"],
        response_model=DecisionList,
        summary="Recorded decisions",
    )
    def list_decisions(request: Request, actor: ActorDep, case_id: str) -> Response:
        return json_out({"items": get_registry(request).list_decisions(actor, case_id)})

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
        return json_out(d, 201)

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
        return json_out({"reproduced": True, "decision": view})

    @r.get(
        "/cases/{case_id}/reconciliations",
        tags=["reconciliations"],
        summary="Reconciliation records stored on a case",
        response_model=ReconciliationList,
    )
    def list_reconciliations(request: Request, actor: ActorDep, case_id: str) -> Response:
        return json_out({"items": get_registry(request).list_reconciliations(actor, case_id)})

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
        return json_out(view, 201)

    return r
