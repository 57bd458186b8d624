"""Jinja2 rendering with autoescape everywhere, CSRF tokens and the base context."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.requests import Request
from starlette.responses import HTMLResponse

from jbgrade.api import SessionStore
from jbgrade.api._sessions import CSRF_COOKIE
from jbgrade.web._assets import HTMX_FILE, HTMX_VERSION, templates_dir

__all__ = ["Renderer", "calculator_url", "scorecard_url"]

# htmx settings that keep it inside the CSP and out of localStorage (case pages must
# not be cached client-side); 422 responses carry error messages and are swapped in.
HTMX_CONFIG = json.dumps(
    {
        "includeIndicatorStyles": False,
        "allowEval": False,
        "allowScriptTags": False,
        "selfRequestsOnly": True,
        "historyCacheSize": 0,
        "refreshOnHistoryMiss": True,
        "responseHandling": [
            {"code": "204", "swap": False},
            {"code": "[23]..", "swap": True},
            {"code": "422", "swap": True, "error": False},
            {"code": "[45]..", "swap": False, "error": True},
        ],
    },
    separators=(",", ":"),
)


def calculator_url(vector: str) -> str:
    """A shareable calculator link; ``:`` and ``/`` stay readable in the query."""
    return "/calculator?v=" + quote(vector, safe=":/")


def scorecard_url(vector: str, fmt: str) -> str:
    """The calculator's scorecard export of ``vector`` as ``fmt`` (png, svg, txt)."""
    return f"/calculator/scorecard.{fmt}?v=" + quote(vector, safe=":/")


class Renderer:
    """Renders templates; every variable is HTML-escaped unless marked safe in code."""

    def __init__(self, sessions: SessionStore, *, secure_cookies: bool):
        self.sessions = sessions
        self.secure_cookies = secure_cookies
        self.env = Environment(
            loader=FileSystemLoader(str(templates_dir())),
            autoescape=True,  # every template, whatever its extension
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.globals.update(
            htmx_src=f"/static/{HTMX_FILE}",
            htmx_version=HTMX_VERSION,
            htmx_config=HTMX_CONFIG,
            calculator_url=calculator_url,
            scorecard_url=scorecard_url,
        )

    def csrf_cookie(self, request: Request) -> tuple[str, bool]:
        """The request's CSRF cookie value, and whether it must be set (was absent)."""
        value = request.cookies.get(CSRF_COOKIE)
        if value and 16 <= len(value) <= 64:
            return value, False
        return self.sessions.new_csrf_cookie(), True

    def render(
        self,
        request: Request,
        template: str,
        context: dict[str, Any],
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> HTMLResponse:
        cookie, fresh = self.csrf_cookie(request)
        ctx = {
            "request_path": request.url.path,
            "csrf_token": self.sessions.csrf_token_for(cookie),
            "user": getattr(request.state, "user", None),
            **context,
        }
        html = self.env.get_template(template).render(ctx)
        resp = HTMLResponse(html, status_code=status, headers=headers)
        resp.headers["vary"] = "HX-Request, Cookie"
        if fresh:
            resp.set_cookie(
                CSRF_COOKIE,
                cookie,
                httponly=True,
                samesite="lax",
                secure=self.secure_cookies,
                path="/",
            )
        return resp
