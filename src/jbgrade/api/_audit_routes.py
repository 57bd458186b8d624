"""Registry routes for the published tables and the audit log."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from jbgrade.api._auth import get_registry
from jbgrade.api._registry_common import ActorDep, json_out
from jbgrade.api._responses import AuditList, AuditVerifyOut, LifecycleOut, PermissionsOut
from jbgrade.registry import lifecycle, permissions

__all__ = ["audit_router", "meta_router"]


def meta_router() -> APIRouter:
    """The permission table and the case lifecycle (tag ``meta``)."""
    r = APIRouter()

    @r.get(
        "/permissions",
        tags=["meta"],
        response_model=PermissionsOut,
        summary="The permission table (who may do what)",
    )
    def get_permissions() -> Response:
        return json_out(permissions().to_dict())

    @r.get(
        "/lifecycle",
        tags=["meta"],
        response_model=LifecycleOut,
        summary="Case lifecycle states and transitions",
    )
    def get_lifecycle() -> Response:
        lc = lifecycle()
        return json_out(
            {
                "initial": lc.initial,
                "states": list(lc.states),
                "transitions": [
                    {"from": t.source, "to": t.target, "kind": t.kind, "requires": list(t.requires)}
                    for t in lc.transitions
                ],
            }
        )

    return r


def audit_router() -> APIRouter:
    """A case's audit trail and the whole log's verification (tag ``audit``)."""
    r = APIRouter()

    @r.get(
        "/cases/{case_id}/audit",
        tags=["audit"],
        response_model=AuditList,
        summary="The case's audit trail",
    )
    def audit_trail(request: Request, actor: ActorDep, case_id: str) -> Response:
        return json_out({"items": get_registry(request).audit_trail(actor, case_id)})

    @r.get(
        "/audit/verify",
        tags=["audit"],
        response_model=AuditVerifyOut,
        summary="Verify the whole hash-chained audit log",
    )
    def verify(request: Request, actor: ActorDep) -> Response:
        rep = get_registry(request).verify_audit(actor)
        return json_out(
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
