"""The login form, logging in (rate-limited per client) and logging out."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from jbgrade._errors import AuthenticationError
from jbgrade.api import Problem, TokenBuckets, get_registry, resolve_caller
from jbgrade.api._sessions import CSRF_COOKIE, CSRF_FIELD, SESSION_COOKIE
from jbgrade.web._page_context import PageCtx, form_text, safe_next
from jbgrade.web._templating import Renderer

__all__ = ["login_router"]


def _signed_in(request: Request, session_token: str, nxt: str) -> Response:
    """The redirect after a good login, carrying the signed session and a fresh CSRF cookie."""
    store = request.app.state.sessions
    settings = request.app.state.settings
    resp = RedirectResponse(nxt, status_code=303)
    resp.set_cookie(
        SESSION_COOKIE,
        store.sign(session_token),
        max_age=settings.session_ttl_s,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        path="/",
    )
    # A fresh CSRF secret for the new session (no fixation across login).
    resp.set_cookie(
        CSRF_COOKIE,
        store.new_csrf_cookie(),
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        path="/",
    )
    return resp


def login_router(renderer: Renderer) -> APIRouter:
    """``/login`` (form and post) and ``/logout``."""
    r = APIRouter(include_in_schema=False)
    login_buckets = TokenBuckets(rate=0.2, burst=10)  # 10 tries, then one per 5 s per client

    @r.get("/login")
    async def login_page(request: Request, next: str | None = None) -> Response:
        get_registry(request)
        return PageCtx(request, renderer).render(
            "login.html", {"next": safe_next(next), "error": None, "username": ""}
        )

    @r.post("/login")
    async def login(request: Request) -> Response:
        reg = get_registry(request)
        ctx = PageCtx(request, renderer)
        form = await request.form()
        store = request.app.state.sessions
        token = form.get(CSRF_FIELD)
        if not store.verify_csrf(
            request.cookies.get(CSRF_COOKIE), token if isinstance(token, str) else None
        ):
            raise Problem("csrf-failed", "the login form expired; reload the page and try again")
        client = request.client.host if request.client else "unknown"
        wait = login_buckets.take(client)
        if wait > 0:
            raise Problem(
                "rate-limited",
                f"too many login attempts; retry in {int(wait) + 1} s",
                headers={"Retry-After": str(int(wait) + 1)},
            )
        username = form_text(form, "username")
        password = form.get("password")
        nxt = safe_next(form_text(form, "next"))
        try:
            actor = await ctx.call(
                reg.authenticate_password, username, password if isinstance(password, str) else ""
            )
        except AuthenticationError:
            return ctx.render(
                "login.html",
                {"next": nxt, "error": "Wrong username or password.", "username": username},
                status=401,
            )
        settings = request.app.state.settings
        issued = await ctx.call(
            reg.create_session, actor, ttl=dt.timedelta(seconds=settings.session_ttl_s)
        )
        return _signed_in(request, issued.token.get_secret_value(), nxt)

    @r.post("/logout")
    async def logout(request: Request) -> Response:
        ctx = PageCtx(request, renderer)
        await ctx.form()
        caller = await run_in_threadpool(resolve_caller, request)
        if caller.session_token is not None:
            await ctx.call(get_registry(request).end_session, caller.session_token)
        resp = RedirectResponse("/login", status_code=303)
        resp.delete_cookie(SESSION_COOKIE, path="/")
        return resp

    return r
