"""The full site: the JSON API plus the server-rendered browser UI."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response
from starlette.staticfiles import StaticFiles

from jbgrade.api import Settings, resolve_caller
from jbgrade.api import create_app as create_api_app
from jbgrade.api._sessions import SESSION_COOKIE
from jbgrade.web._admin import admin_router
from jbgrade.web._assets import static_dir
from jbgrade.web._calculator import calculator_model, vector_from_letters
from jbgrade.web._pages import pages_router
from jbgrade.web._templating import Renderer, calculator_url

__all__ = ["create_app"]


def _wants_html(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "text/html" in accept or bool(request.headers.get("hx-request"))


def _ui_router(renderer: Renderer) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/")
    async def home() -> Response:
        return RedirectResponse("/calculator", status_code=303)

    @router.get("/calculator")
    async def calculator(request: Request, v: str | None = None) -> Response:
        htmx = bool(request.headers.get("hx-request"))
        if not htmx and request.cookies.get(SESSION_COOKIE):
            await run_in_threadpool(resolve_caller, request)  # for the header's "logged in as"
        if v is None:
            built = vector_from_letters(request.query_params)
            if built is not None:
                model = calculator_model(built)
                if not model["error"] and not htmx:
                    # A form GET without JS: land on the canonical, shareable URL.
                    return RedirectResponse(calculator_url(model["grade"].vector), 303)
            else:
                model = calculator_model(None)
        else:
            model = calculator_model(v.strip())
        status = 422 if model["error"] else 200
        headers: dict[str, str] = {}
        if htmx:
            if not model["error"]:
                headers["HX-Push-Url"] = calculator_url(model["grade"].vector)
            return renderer.render(request, "_calc.html", model, status=status, headers=headers)
        return renderer.render(request, "calculator.html", model, status=status)

    return router


def create_app(settings: Settings) -> FastAPI:
    """The API (``/api/v1``) and the web UI (``/calculator``, ``/cases``, ``/login``)."""
    app = create_api_app(settings)
    renderer = Renderer(app.state.sessions, secure_cookies=settings.secure_cookies)
    app.state.renderer = renderer

    def html_problem(
        request: Request, body: dict[str, Any], headers: dict[str, str]
    ) -> Response | None:
        if not _wants_html(request):
            return None
        return renderer.render(
            request, "error.html", {"problem": body}, status=int(body["status"]), headers=headers
        )

    app.state.html_problems = html_problem
    app.include_router(_ui_router(renderer))
    app.include_router(pages_router(renderer))
    app.include_router(admin_router(renderer))
    app.mount("/static", StaticFiles(directory=static_dir()), name="static")
    return app
