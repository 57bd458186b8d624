"""Registry endpoints: organisations, users, tokens, cases and everything on a case.

One router under ``/api/v1`` that includes a sub-router per aggregate of the
registry (identity and tokens, cases, assessments and evidence, decisions and
reconciliations, audit), in that order. Handlers are plain ``def``: the registry
is synchronous (SQLAlchemy), so FastAPI runs them in its thread pool. Every
handler passes the authenticated actor to the registry, which applies the
permission table; these modules add nothing to it and take nothing away.
"""

from __future__ import annotations

from fastapi import APIRouter

from jbgrade.api._assessment_routes import assessment_router
from jbgrade.api._audit_routes import audit_router, meta_router
from jbgrade.api._case_routes import case_router
from jbgrade.api._decision_routes import decision_router
from jbgrade.api._identity_routes import identity_router
from jbgrade.api._registry_common import decide_on_case, view_json

__all__ = ["decide_on_case", "registry_router", "view_json"]


def registry_router() -> APIRouter:
    """Every registry route under ``/api/v1``, one sub-router per aggregate."""
    r = APIRouter(prefix="/api/v1")
    for sub in (
        meta_router(),
        identity_router(),
        case_router(),
        assessment_router(),
        decision_router(),
        audit_router(),
    ):
        r.include_router(sub)
    return r
