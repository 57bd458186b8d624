"""What every registry route module shares: the actor dependency and JSON responses.

Handlers are plain ``def``: the registry is synchronous (SQLAlchemy), so FastAPI
runs them in its thread pool. Every handler passes the authenticated actor to
the registry, which applies the permission table; the route modules add nothing
to it and take nothing away.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import Depends
from pydantic import BaseModel, SecretStr
from starlette.responses import Response

from jbgrade.api._auth import require_actor
from jbgrade.api._policy_routes import shipped_profile
from jbgrade.api._respond import json_response
from jbgrade.registry import Actor, DecisionView, Registry

__all__ = ["ActorDep", "decide_on_case", "json_out", "reveal", "view_json"]

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


def json_out(obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """``obj`` (registry records welcome) as a JSON response."""
    return json_response(view_json(obj), status, headers)


def reveal(secret: SecretStr | None) -> str | None:
    """The plain text of a secret the caller is entitled to (``None`` stays ``None``)."""
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
