"""Registry routes for what is measured on a case: assessments and evidence."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from jbgrade.api._auth import get_registry
from jbgrade.api._registry_common import ActorDep, json_out, reveal, view_json
from jbgrade.api._responses import AssessmentList, EvidenceList, EvidenceOut
from jbgrade.api._schemas import AssessmentIn, EvidenceIn
from jbgrade.registry import AssessmentView

__all__ = ["assessment_router"]


def assessment_router() -> APIRouter:
    """A case's assessments and evidence (tags ``assessments``, ``evidence``)."""
    r = APIRouter()

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
        return json_out({"items": items})

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
        return json_out(a, 201)

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
                row["transcripts"] = reveal(ev.transcripts)
        return json_out({"items": out})

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
        return json_out(ev, 201)

    return r
