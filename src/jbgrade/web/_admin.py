"""``/admin``: organisations, users, roles and tokens in the browser.

What the page lists and allows follows the permission table through the registry:
an admin sees and manages their own organisation's users; the super-administrator
every organisation's. A new token is shown once, on the page that issued it.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from jbgrade._errors import JbgradeError
from jbgrade.api import get_registry
from jbgrade.registry import ORG_KINDS, ROLES, Actor, Registry, permissions
from jbgrade.web._page_context import PageCtx, form_text, login_redirect
from jbgrade.web._templating import Renderer

__all__ = ["admin_router"]


def _model(reg: Registry, actor: Actor) -> dict[str, Any]:
    perms = permissions()
    orgs = reg.list_orgs(actor)
    return {
        "orgs": orgs,
        "org_names": {o.id: o.name for o in orgs},
        "users": reg.list_users(actor),
        "roles": ROLES
        if actor.role == "superadmin"
        else tuple(r for r in ROLES if r != "superadmin"),
        "org_kinds": ORG_KINDS,
        "may_create_org": perms.allowed("org.create", actor.role, {"any"}),
        "may_manage": perms.allowed("user.create", actor.role, {"same_org"}),
        "creatable_orgs": [
            o
            for o in orgs
            if perms.allowed(
                "user.create", actor.role, {"same_org"} if o.id == actor.org_id else {"other"}
            )
        ],
        "me": actor,
        "error": None,
        "issued": None,
    }


def admin_router(renderer: Renderer) -> APIRouter:
    r = APIRouter(include_in_schema=False)

    async def _page(
        request: Request, *, error: str | None = None, issued: Any = None, status: int = 200
    ) -> Response:
        ctx = PageCtx(request, renderer)
        actor = await ctx.actor()
        if actor is None:
            return login_redirect(request)
        model = await ctx.call(_model, get_registry(request), actor)
        model["error"], model["issued"] = error, issued
        return ctx.render("admin.html", model, status=status)

    @r.get("/admin")
    async def admin(request: Request) -> Response:
        return await _page(request)

    @r.post("/admin")
    async def admin_action(request: Request) -> Response:
        """One form, one ``op``: org, user, role, active, token."""
        reg = get_registry(request)
        ctx = PageCtx(request, renderer)
        actor, form = await ctx.poster()
        op = form_text(form, "op")
        issued = None
        try:
            if op == "org":
                await ctx.call(
                    reg.create_org, actor, form_text(form, "name"), kind=form_text(form, "kind")
                )
            elif op == "user":
                await ctx.call(
                    reg.create_user,
                    actor,
                    form_text(form, "org_id"),
                    form_text(form, "username"),
                    form_text(form, "role"),
                    password=form_text(form, "password") or None,
                )
            elif op == "role":
                await ctx.call(
                    reg.set_role, actor, form_text(form, "user_id"), form_text(form, "role")
                )
            elif op == "active":
                active = form_text(form, "active") == "true"
                await ctx.call(reg.set_user_active, actor, form_text(form, "user_id"), active)
            elif op == "token":
                tok = await ctx.call(
                    reg.issue_token, actor, form_text(form, "user_id"), name=form_text(form, "name")
                )
                issued = {"id": tok.id, "token": tok.token.get_secret_value()}
            else:
                raise ValueError(f"unknown operation {op!r}")
        except (JbgradeError, ValueError) as exc:
            return await _page(request, error=str(exc), status=422)
        if issued is not None:
            return await _page(request, issued=issued)
        return RedirectResponse("/admin", status_code=303)

    return r
