"""RFC 9457 problem documents for every error the server returns.

Problem types are data (:data:`PROBLEM_TYPES`): a slug, its HTTP status, a
title and a description. A type's URI is ``/api/v1/problems/<slug>``, which
the server itself documents, so nothing points outside the deployment.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from jbgrade._errors import (
    AuditChainError,
    AuthenticationError,
    ConflictError,
    DatabaseError,
    InputError,
    InvalidTransitionError,
    JbgradeError,
    KeyringError,
    NotFoundError,
    PermissionDeniedError,
    RegistryError,
    UnknownProfileError,
    VectorError,
)
from jbgrade.api._respond import json_bytes

__all__ = [
    "PROBLEM_MEDIA_TYPE",
    "PROBLEM_TYPES",
    "Problem",
    "ProblemType",
    "install_problem_handlers",
    "problem_body",
    "problem_type_uri",
]

PROBLEM_MEDIA_TYPE = "application/problem+json"
_log = logging.getLogger("jbgrade.api")


@dataclass(frozen=True, slots=True)
class ProblemType:
    """One kind of problem: its HTTP status, short title and what it means."""

    slug: str
    status: int
    title: str
    description: str


_TYPES: tuple[ProblemType, ...] = (
    ProblemType(
        "invalid-vector",
        422,
        "Invalid JBG vector",
        "The vector string is malformed; `metric` and `position` name the offending part.",
    ),
    ProblemType(
        "validation-error",
        422,
        "Request failed validation",
        "The request body, query or path does not match the schema; `errors` lists each "
        "offending field.",
    ),
    ProblemType("invalid-input", 422, "Invalid input", "A value in the request is not valid."),
    ProblemType(
        "unknown-profile",
        422,
        "Unknown policy profile",
        "No policy profile of that name; the detail lists the known ones.",
    ),
    ProblemType(
        "unauthenticated",
        401,
        "Authentication required",
        "Send `Authorization: Bearer <token>` or log in.",
    ),
    ProblemType("forbidden", 403, "Forbidden", "Your role or organisation may not do this."),
    ProblemType(
        "csrf-failed",
        403,
        "CSRF check failed",
        "A state-changing request from a browser session lacked a valid CSRF token; "
        "reload the page and try again.",
    ),
    ProblemType("not-found", 404, "Not found", "No such resource, or it is not visible to you."),
    ProblemType(
        "method-not-allowed",
        405,
        "Method not allowed",
        "The resource exists but does not support this method; see the Allow header.",
    ),
    ProblemType(
        "not-acceptable",
        406,
        "Not acceptable",
        "The server cannot produce a representation the client accepts.",
    ),
    ProblemType(
        "invalid-transition",
        409,
        "Lifecycle transition not allowed",
        "The case's lifecycle does not allow this transition from its current state.",
    ),
    ProblemType(
        "conflict", 409, "Conflict", "The registry refused the operation in its current state."
    ),
    ProblemType(
        "payload-too-large",
        413,
        "Request body too large",
        "The request body exceeds the limit for this endpoint; `limit_bytes` gives it.",
    ),
    ProblemType(
        "unsupported-media-type",
        415,
        "Unsupported media type",
        "Send the body as the content type the endpoint documents.",
    ),
    ProblemType(
        "rate-limited",
        429,
        "Too many requests",
        "This client sent requests faster than allowed; retry after `Retry-After` seconds.",
    ),
    ProblemType(
        "internal-error",
        500,
        "Internal server error",
        "The server failed unexpectedly; the error was logged without request data.",
    ),
    ProblemType(
        "registry-unavailable",
        503,
        "Case registry unavailable",
        "The server has no usable case registry (no database, an old schema, or no "
        "encryption key for payloads); stateless endpoints still work.",
    ),
)

PROBLEM_TYPES: Mapping[str, ProblemType] = {t.slug: t for t in _TYPES}

_BY_STATUS: dict[int, str] = {
    400: "invalid-input",
    401: "unauthenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "conflict",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "validation-error",
    429: "rate-limited",
    500: "internal-error",
    503: "registry-unavailable",
}


def problem_type_uri(slug: str) -> str:
    """The (relative) URI that identifies and documents a problem type."""
    return f"/api/v1/problems/{slug}"


class Problem(StarletteHTTPException):
    """Raise inside a route (or while a body is read) to answer with a problem document.

    An HTTP exception underneath, so that FastAPI passes it through body parsing.
    """

    def __init__(
        self,
        slug: str,
        detail: str,
        *,
        status: int | None = None,
        headers: Mapping[str, str] | None = None,
        **extensions: Any,
    ):
        kind = PROBLEM_TYPES[slug]
        super().__init__(status or kind.status, detail, dict(headers or {}))
        self.slug = slug
        self.status = status or kind.status
        self.extensions = extensions


def problem_body(
    slug: str,
    detail: str,
    *,
    status: int | None = None,
    instance: str | None = None,
    **extensions: Any,
) -> dict[str, Any]:
    """The JSON members of a problem document (RFC 9457 section 3)."""
    kind = PROBLEM_TYPES.get(slug)
    st = status or (kind.status if kind else 500)
    title = kind.title if kind else HTTPStatus(st).phrase
    body: dict[str, Any] = {
        "type": problem_type_uri(slug) if kind else "about:blank",
        "title": title,
        "status": st,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    body.update(extensions)
    return body


#: Renders a problem for a browser (HTML) or returns None to fall back to JSON.
HtmlProblemRenderer = Callable[[Request, dict[str, Any], dict[str, str]], Response | None]


def _route_methods(app: Any) -> list[tuple[re.Pattern[str], frozenset[str]]]:
    """(path regex, methods) of every route, included routers flattened."""
    from fastapi.routing import iter_route_contexts
    from starlette.routing import compile_path

    out = []
    for rc in iter_route_contexts(app.routes):
        if rc.methods:
            out.append((compile_path(str(rc.path))[0], frozenset(rc.methods)))
    return out


def _respond(
    request: Request,
    body: dict[str, Any],
    headers: Mapping[str, str] | None = None,
) -> Response:
    hdrs = dict(headers or {})
    renderer: HtmlProblemRenderer | None = getattr(request.app.state, "html_problems", None)
    if renderer is not None and not request.url.path.startswith("/api/"):
        html = renderer(request, body, hdrs)
        if html is not None:
            return html
    return Response(
        json_bytes(body),
        status_code=int(body["status"]),
        media_type=PROBLEM_MEDIA_TYPE,
        headers=hdrs,
    )


def _slug_for_error(exc: JbgradeError) -> tuple[str, dict[str, Any]]:
    if isinstance(exc, VectorError):
        return "invalid-vector", {"metric": exc.metric, "position": exc.position}
    if isinstance(exc, UnknownProfileError):
        return "unknown-profile", {}
    if isinstance(exc, InputError):
        ext = {k: v for k in ("field", "line") if (v := getattr(exc, k)) is not None}
        return "invalid-input", ext
    if isinstance(exc, NotFoundError):
        return "not-found", {}
    if isinstance(exc, PermissionDeniedError):
        return "forbidden", {}
    if isinstance(exc, InvalidTransitionError):
        return "invalid-transition", {}
    if isinstance(exc, AuthenticationError):
        return "unauthenticated", {}
    if isinstance(exc, KeyringError | DatabaseError):
        return "registry-unavailable", {}
    if isinstance(exc, ConflictError):
        return "conflict", {}
    if isinstance(exc, AuditChainError | RegistryError):
        return "conflict", {}
    return "invalid-input", {}


def _field_loc(loc: Any) -> str:
    return ".".join(str(p) for p in loc)


def install_problem_handlers(app: FastAPI) -> None:
    """Route every error FastAPI or jbgrade raises through a problem document."""

    async def on_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Problem)
        body = problem_body(
            exc.slug,
            str(exc.detail),
            status=exc.status,
            instance=request.url.path,
            **exc.extensions,
        )
        return _respond(request, body, dict(exc.headers or {}))

    async def on_jbgrade(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, JbgradeError)
        slug, ext = _slug_for_error(exc)
        body = problem_body(slug, str(exc), instance=request.url.path, **ext)
        return _respond(request, body)

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        errors = [
            {"loc": _field_loc(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": e["type"]}
            for e in exc.errors()
        ]
        first = errors[0] if errors else {"loc": "", "msg": "invalid request"}
        detail = f"{first['loc']}: {first['msg']}" if first["loc"] else str(first["msg"])
        if len(errors) > 1:
            detail += f" (and {len(errors) - 1} more)"
        body = problem_body("validation-error", detail, instance=request.url.path, errors=errors)
        return _respond(request, body)

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        slug = _BY_STATUS.get(exc.status_code, "")
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no resource at {request.url.path}"
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            if detail == "Method Not Allowed":
                detail = f"{request.method} is not allowed on {request.url.path}"
            allow = _allowed_methods(request)
            if allow:
                headers["Allow"] = ", ".join(allow)
        body = problem_body(slug, detail, status=exc.status_code, instance=request.url.path)
        return _respond(request, body, headers)

    def _allowed_methods(request: Request) -> list[str]:
        """Every method some route serves at this path (Starlette names only the first
        route's, and GET and POST on one path are two routes)."""
        table = getattr(request.app.state, "jbgrade_route_methods", None)
        if table is None:
            table = _route_methods(request.app)
            request.app.state.jbgrade_route_methods = table
        path = request.url.path
        return sorted({m for rx, methods in table if rx.match(path) for m in methods})

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        # Log the type and place only: request data may hold a sensitive payload.
        _log.error(
            "internal error %s on %s %s", type(exc).__name__, request.method, request.url.path
        )
        body = problem_body(
            "internal-error",
            "the server failed unexpectedly",
            instance=request.url.path,
        )
        return _respond(request, body)

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(JbgradeError, on_jbgrade)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)
