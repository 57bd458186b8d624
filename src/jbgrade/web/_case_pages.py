"""One case's page and the forms that change the case.

Each form post runs one registry action; a rejected action (bad vector,
forbidden transition, ...) shows the case again with the reason (422), while
"not found" and "denied" propagate as problems.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from functools import partial
from typing import Any

from fastapi import APIRouter, Request
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from jbgrade._errors import InputError, JbgradeError, NotFoundError, PermissionDeniedError
from jbgrade.api import decide_on_case, get_registry
from jbgrade.registry import Actor, Registry
from jbgrade.rubric import default_tables
from jbgrade.web._case_model import case_model
from jbgrade.web._page_context import PageCtx, form_text, login_redirect, split_list
from jbgrade.web._templating import Renderer

__all__ = ["case_page_router"]

_Action = Callable[[Registry, Actor, FormData], Any]


def _transition(case_id: str, reg: Registry, actor: Actor, form: FormData) -> Any:
    return reg.transition(actor, case_id, form_text(form, "to"), note=form_text(form, "note"))


def _add_assessment(case_id: str, reg: Registry, actor: Actor, form: FormData) -> Any:
    t = default_tables()
    vector = form_text(form, "vector")
    if not vector:
        vector = t.prefix + "/".join(f"{m.key}:{form_text(form, m.key) or 'X'}" for m in t.metrics)
    rationales = {
        m.key: form_text(form, f"why_{m.key}") for m in t.metrics if form_text(form, f"why_{m.key}")
    }
    return reg.add_assessment(
        actor,
        case_id,
        vector,
        rationales=rationales,
        evidence_refs=split_list(form_text(form, "evidence_refs")),
        note=form_text(form, "note"),
    )


def _record_decision(case_id: str, reg: Registry, actor: Actor, form: FormData) -> Any:
    aware = form_text(form, "aware_on")
    raw_ctx = form_text(form, "context")
    try:
        context = json.loads(raw_ctx) if raw_ctx else {}
    except ValueError:
        raise InputError("context must be a JSON object", field="context") from None
    if not isinstance(context, dict):
        raise InputError("context must be a JSON object", field="context")
    return decide_on_case(
        reg,
        actor,
        case_id,
        profile=form_text(form, "profile"),
        assessment_id=form_text(form, "assessment_id") or None,
        context=context,
        aware_on=dt.date.fromisoformat(aware) if aware else None,
    )


def _attach_evidence(case_id: str, reg: Registry, actor: Actor, form: FormData) -> Any:
    upload = form.get("file")
    text = form_text(form, "evidence_json")
    if upload is not None and not isinstance(upload, str):
        text = upload.file.read().decode("utf-8", errors="replace") or text
    try:
        body = json.loads(text)
    except ValueError:
        raise InputError("evidence must be a JSON file", field="file") from None
    return reg.attach_evidence(actor, case_id, body, label=form_text(form, "label"))


def _grant(case_id: str, reg: Registry, actor: Actor, form: FormData) -> Any:
    return reg.grant_access(
        actor, case_id, form_text(form, "org_id"), payload=form_text(form, "payload") == "on"
    )


def case_page_router(renderer: Renderer) -> APIRouter:
    """``/cases/{case_id}`` and its form posts."""
    r = APIRouter(include_in_schema=False)

    async def _case_page(
        request: Request,
        case_id: str,
        *,
        error: str | None = None,
        status: int = 200,
        reveal: bool = False,
    ) -> Response:
        reg = get_registry(request)
        ctx = PageCtx(request, renderer)
        actor = await ctx.actor()
        if actor is None:
            return login_redirect(request)
        model = await ctx.call(case_model, reg, actor, case_id, reveal)
        model["error"] = error
        return ctx.render("case.html", model, status=status)

    @r.get("/cases/{case_id}")
    async def case_page(request: Request, case_id: str) -> Response:
        return await _case_page(request, case_id)

    @r.post("/cases/{case_id}/payload")
    async def reveal_payload(request: Request, case_id: str) -> Response:
        await PageCtx(request, renderer).poster()
        return await _case_page(request, case_id, reveal=True)

    async def _case_action(request: Request, case_id: str, action: _Action) -> Response:
        reg = get_registry(request)
        ctx = PageCtx(request, renderer)
        actor, form = await ctx.poster()
        try:
            await ctx.call(action, reg, actor, form)
        except (NotFoundError, PermissionDeniedError):
            raise
        except (JbgradeError, ValueError) as exc:
            # Show the case again with the reason (bad vector, forbidden transition, ...).
            return await _case_page(request, case_id, error=str(exc), status=422)
        return RedirectResponse(f"/cases/{case_id}", status_code=303)

    @r.post("/cases/{case_id}/transitions")
    async def transition(request: Request, case_id: str) -> Response:
        return await _case_action(request, case_id, partial(_transition, case_id))

    @r.post("/cases/{case_id}/assessments")
    async def add_assessment(request: Request, case_id: str) -> Response:
        return await _case_action(request, case_id, partial(_add_assessment, case_id))

    @r.post("/cases/{case_id}/decisions")
    async def record_decision(request: Request, case_id: str) -> Response:
        return await _case_action(request, case_id, partial(_record_decision, case_id))

    @r.post("/cases/{case_id}/evidence")
    async def attach_evidence(request: Request, case_id: str) -> Response:
        return await _case_action(request, case_id, partial(_attach_evidence, case_id))

    @r.post("/cases/{case_id}/grants")
    async def grant(request: Request, case_id: str) -> Response:
        return await _case_action(request, case_id, partial(_grant, case_id))

    return r
