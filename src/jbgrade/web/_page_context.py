"""What every page module shares: the per-request context and small form helpers.

Handlers are async (forms are parsed asynchronously) and call the synchronous
registry in the thread pool. Every form post is CSRF-checked; every value a
user typed reaches the page through Jinja2's autoescaping.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlencode

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from jbgrade.api import Problem, require_csrf, resolve_caller
from jbgrade.api._sessions import CSRF_FIELD
from jbgrade.registry import Actor
from jbgrade.web._templating import Renderer

__all__ = ["PageCtx", "anon_post", "form_text", "login_redirect", "safe_next", "split_list"]

T = TypeVar("T")


def safe_next(target: str | None) -> str:
    """Only local paths: never an open redirect to another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/cases"
    return target


def split_list(text: str) -> list[str]:
    """A comma- or line-separated form field as its non-empty items."""
    return [p.strip() for p in text.replace("\n", ",").split(",") if p.strip()]


class PageCtx:
    """Per-request helpers: the actor, CSRF-checked forms, registry calls off the loop."""

    def __init__(self, request: Request, renderer: Renderer):
        self.request = request
        self.renderer = renderer

    async def actor(self) -> Actor | None:
        caller = await run_in_threadpool(resolve_caller, self.request)
        return caller.actor

    async def form(self) -> FormData:
        form = await self.request.form()
        caller = await run_in_threadpool(resolve_caller, self.request)
        token = form.get(CSRF_FIELD)
        require_csrf(self.request, caller, token if isinstance(token, str) else None)
        return form

    async def poster(self) -> tuple[Actor, FormData]:
        """The actor of a form post (401 problem when not logged in) and its checked form."""
        actor = await self.actor()
        if actor is None:
            raise anon_post()
        return actor, await self.form()

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await run_in_threadpool(fn, *args, **kwargs)

    def render(self, template: str, context: dict[str, Any], status: int = 200) -> Response:
        return self.renderer.render(self.request, template, context, status=status)


def login_redirect(request: Request) -> Response:
    """To the login page, coming back to this page afterwards."""
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse("/login?" + urlencode({"next": path}), status_code=303)


def anon_post() -> Problem:
    """The 401 problem for a form post without a session."""
    return Problem("unauthenticated", "log in first", headers={"WWW-Authenticate": "Bearer"})


def form_text(form: FormData, name: str, default: str = "") -> str:
    """A text field of a form, stripped (``default`` when absent or a file)."""
    v = form.get(name)
    return v.strip() if isinstance(v, str) else default
