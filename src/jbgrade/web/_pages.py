"""Login, case list, case page and the forms that change a case.

One router (not in the OpenAPI document) that includes the page groups in
route order: login and logout, the case list, reporting a case, one case and
its forms, then the audit page. Handlers are async (forms are parsed
asynchronously) and call the synchronous registry in the thread pool. Every
form post is CSRF-checked; every value a user typed reaches the page through
Jinja2's autoescaping.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from jbgrade.api import get_registry
from jbgrade.web._case_list_pages import case_list_router, report_router
from jbgrade.web._case_pages import case_page_router
from jbgrade.web._login_pages import login_router
from jbgrade.web._page_context import PageCtx, login_redirect
from jbgrade.web._templating import Renderer

__all__ = ["pages_router"]


def pages_router(renderer: Renderer) -> APIRouter:
    """Every browser page but the calculator and the admin pages."""
    r = APIRouter(include_in_schema=False)
    for sub in (
        login_router(renderer),
        case_list_router(renderer),
        report_router(renderer),
        case_page_router(renderer),
    ):
        r.include_router(sub)

    @r.get("/audit")
    async def audit(request: Request) -> Response:
        reg = get_registry(request)
        ctx = PageCtx(request, renderer)
        actor = await ctx.actor()
        if actor is None:
            return login_redirect(request)
        report = await ctx.call(reg.verify_audit, actor)
        return ctx.render("audit.html", {"report": report})

    return r
