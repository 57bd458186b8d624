"""The full site: the JSON API plus the server-rendered browser UI."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.staticfiles import StaticFiles

from jbgrade.api import Settings, resolve_caller
from jbgrade.api import create_app as create_api_app
from jbgrade.api._sessions import SESSION_COOKIE
from jbgrade.rubric import Grade, grade
from jbgrade.web._admin import admin_router
from jbgrade.web._assets import static_dir
from jbgrade.web._calculator import (
    all_x_vector,
    calculator_model,
    calculator_version,
    vector_from_letters,
)
from jbgrade.web._pages import pages_router
from jbgrade.web._scorecard import scorecard_png, scorecard_svg, scorecard_text
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
    async def calculator(
        request: Request, v: str | None = None, jbg: str | None = None
    ) -> Response:
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
                model = calculator_model(None, jbg)
        else:
            model = calculator_model(v.strip(), jbg)
        status = 422 if model["error"] else 200
        headers: dict[str, str] = {}
        if htmx:
            if not model["error"]:
                headers["HX-Push-Url"] = calculator_url(model["grade"].vector)
            return renderer.render(request, "_calc.html", model, status=status, headers=headers)
        return renderer.render(request, "calculator.html", model, status=status)

    def _scored(v: str | None, jbg: str | None) -> Grade:
        # No vector: the calculator's starting point (nothing assessed) in that version.
        return grade(v.strip() if v else all_x_vector(calculator_version(None, jbg)))

    @router.get("/calculator/scorecard.svg")
    async def scorecard_as_svg(v: str | None = None, jbg: str | None = None) -> Response:
        """The grade's scorecard as SVG (a bad vector is a 422 problem)."""
        g = _scored(v, jbg)
        return Response(
            scorecard_svg(g), media_type="image/svg+xml", headers=_download(g.vector, "svg")
        )

    @router.get("/calculator/scorecard.png")
    async def scorecard_as_png(v: str | None = None, jbg: str | None = None) -> Response:
        """The grade's scorecard as PNG (the SVG rasterised at twice its size)."""
        g = _scored(v, jbg)
        png = await run_in_threadpool(scorecard_png, g)
        return Response(png, media_type="image/png", headers=_download(g.vector, "png"))

    @router.get("/calculator/scorecard.txt")
    async def scorecard_as_text(v: str | None = None, jbg: str | None = None) -> Response:
        """The grade's scorecard as plain text (80 columns)."""
        g = _scored(v, jbg)
        return PlainTextResponse(scorecard_text(g), headers=_download(g.vector, "txt"))

    return router


def _download(vector: str, ext: str) -> dict[str, str]:
    """``Content-Disposition`` naming the file after the grade (ASCII only)."""
    safe = "".join(c if c.isalnum() else "-" for c in vector.strip().split("/", 1)[-1])
    return {"content-disposition": f'inline; filename="jbg-scorecard-{safe[:80]}.{ext}"'}


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
