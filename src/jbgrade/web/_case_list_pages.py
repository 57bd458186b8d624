"""The case list (filters, keyset pages) and the form that reports a new case."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from jbgrade._errors import InputError, JbgradeError
from jbgrade.api import get_registry
from jbgrade.api._sessions import CSRF_FIELD
from jbgrade.registry import STATES, permissions
from jbgrade.rubric import SEVERITIES
from jbgrade.web._charts import DOMAIN_NAMES
from jbgrade.web._page_context import PageCtx, form_text, login_redirect, split_list
from jbgrade.web._templating import Renderer

__all__ = ["case_list_router", "report_router"]


def case_list_router(renderer: Renderer) -> APIRouter:
    """``GET /cases``: the cases the caller may see, filtered, a page at a time."""
    r = APIRouter(include_in_schema=False)

    @r.get("/cases")
    async def cases(request: Request) -> Response:
        reg = get_registry(request)
        ctx = PageCtx(request, renderer)
        actor = await ctx.actor()
        if actor is None:
            return login_redirect(request)
        qp = request.query_params
        filters = {
            "state": qp.get("state") or None,
            "severity": qp.get("severity") or None,
            "organization": qp.get("organization") or None,
            "domain": qp.get("domain") or None,
            "q": (qp.get("q") or "").strip()[:200] or None,
        }
        cursor = qp.get("cursor") or None
        # An exact count costs a scan of every visible case: only on request.
        want_total = qp.get("count") == "1"
        settings = request.app.state.settings
        error = None
        try:
            page = await ctx.call(
                reg.list_cases,
                actor,
                state=filters["state"],
                severity=filters["severity"],
                organization=filters["organization"],
                domain=filters["domain"],
                text=filters["q"],
                limit=settings.page_size,
                cursor=cursor,
                with_total=want_total,
            )
        except InputError as exc:
            error = str(exc)
            page = await ctx.call(reg.list_cases, actor, limit=settings.page_size, with_total=True)
        orgs = await ctx.call(reg.list_orgs, actor)
        active = {k: v for k, v in filters.items() if v}
        next_url = (
            "/cases?" + urlencode({**active, "cursor": page.next_cursor})
            if page.next_cursor
            else None
        )
        first_url = "/cases?" + urlencode(active) if cursor else None
        count_url = None if want_total else "/cases?" + urlencode({**active, "count": "1"})
        return ctx.render(
            "cases.html",
            {
                "page": page,
                "filters": filters,
                "states": STATES,
                "severities": SEVERITIES,
                "domains": DOMAIN_NAMES,
                "orgs": orgs,
                "next_url": next_url,
                "first_url": first_url,
                "count_url": count_url,
                "error": error,
                "can_report": permissions().allowed("case.report", actor.role, {"any"}),
            },
            status=422 if error else 200,
        )

    return r


def report_router(renderer: Renderer) -> APIRouter:
    """``GET /cases/new`` (the form) and ``POST /cases`` (report it)."""
    r = APIRouter(include_in_schema=False)

    @r.get("/cases/new")
    async def new_case_form(request: Request) -> Response:
        reg = get_registry(request)
        ctx = PageCtx(request, renderer)
        actor = await ctx.actor()
        if actor is None:
            return login_redirect(request)
        orgs = await ctx.call(reg.list_orgs, actor)
        return ctx.render("case_new.html", {"orgs": orgs, "error": None, "values": {}})

    @r.post("/cases")
    async def report_case(request: Request) -> Response:
        reg = get_registry(request)
        ctx = PageCtx(request, renderer)
        actor, form = await ctx.poster()
        embargo = form_text(form, "embargo_until")
        try:
            until = (
                dt.datetime.combine(dt.date.fromisoformat(embargo), dt.time(0, 0), dt.UTC)
                if embargo
                else None
            )
            case = await ctx.call(
                reg.report_case,
                actor,
                title=form_text(form, "title"),
                summary=form_text(form, "summary"),
                owning_org_id=form_text(form, "owning_org_id") or None,
                affected_models=split_list(form_text(form, "affected_models")),
                affected_vendors=split_list(form_text(form, "affected_vendors")),
                affected_deployments=split_list(form_text(form, "affected_deployments")),
                attack_description=form_text(form, "attack_description"),
                attack_kind=form_text(form, "attack_kind") or None,
                atlas_techniques=split_list(form_text(form, "atlas_techniques")),
                payload=form_text(form, "payload") or None,
                embargo_until=until,
            )
        except (JbgradeError, ValueError) as exc:
            orgs = await ctx.call(reg.list_orgs, actor)
            values = {k: v for k, v in form.items() if k not in ("payload", CSRF_FIELD)}
            return ctx.render(
                "case_new.html", {"orgs": orgs, "error": str(exc), "values": values}, status=422
            )
        return RedirectResponse(f"/cases/{case.id}", status_code=303)

    return r
