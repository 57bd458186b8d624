"""Who is calling: bearer tokens for programs, signed session cookies for browsers.

Both credentials are issued and checked by the registry, which stores only
their hashes and enforces expiry and revocation. The session cookie is also
HMAC-signed here, so forged or garbled cookies are turned away before any
database lookup. Requests that ride on the session cookie and change state
must carry the CSRF token (``X-CSRF-Token`` header or ``csrf_token`` field).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from fastapi import Request

from jbgrade._errors import AuthenticationError
from jbgrade.api._problems import Problem
from jbgrade.api._sessions import CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE, SessionStore
from jbgrade.registry import Actor, Registry

__all__ = [
    "Caller",
    "get_registry",
    "require_actor",
    "require_csrf",
    "resolve_caller",
]

_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated actor (if any) and how they proved it."""

    actor: Actor | None
    via: Literal["token", "session", "none"]
    session_token: str | None = None


def get_registry(request: Request) -> Registry:
    reg: Registry | None = getattr(request.app.state, "registry", None)
    if reg is None:
        raise Problem("registry-unavailable", "this server has no case registry configured")
    return reg


def resolve_caller(request: Request) -> Caller:
    """Authenticate from the Authorization header, else the session cookie (cached per request)."""
    cached: Caller | None = getattr(request.state, "caller", None)
    if cached is not None:
        return cached
    caller = _resolve(request)
    request.state.caller = caller
    request.state.user = caller.actor
    return caller


def _resolve(request: Request) -> Caller:
    reg: Registry | None = getattr(request.app.state, "registry", None)
    auth = request.headers.get("authorization")
    if auth is not None:
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Problem(
                "unauthenticated",
                "the Authorization header must be 'Bearer <token>'",
                headers={"WWW-Authenticate": 'Bearer error="invalid_request"'},
            )
        try:
            return Caller(get_registry(request).authenticate_token(token.strip()), "token")
        except AuthenticationError as exc:
            raise Problem(
                "unauthenticated",
                str(exc),
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            ) from None
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie and reg is not None:
        store: SessionStore = request.app.state.sessions
        session = store.unsign(cookie)
        if session is not None:
            try:
                return Caller(reg.authenticate_session(session), "session", session)
            except AuthenticationError:
                pass  # expired or logged out: carry on as anonymous
    return Caller(None, "none")


def require_csrf(request: Request, caller: Caller, form_token: str | None = None) -> None:
    """Refuse a state-changing request riding on the session cookie without a valid token."""
    if request.method in _SAFE or caller.via != "session":
        return
    store: SessionStore = request.app.state.sessions
    token = request.headers.get(CSRF_HEADER) or form_token
    if not store.verify_csrf(request.cookies.get(CSRF_COOKIE), token):
        raise Problem("csrf-failed", "missing or invalid CSRF token; reload the page and retry")


def require_actor(request: Request) -> Actor:
    """FastAPI dependency: the authenticated actor, CSRF-checked, or a 401 problem."""
    caller = resolve_caller(request)
    if caller.actor is None:
        raise Problem(
            "unauthenticated",
            "authentication required: send 'Authorization: Bearer <token>' or log in",
            headers={"WWW-Authenticate": "Bearer"},
        )
    require_csrf(request, caller)
    return caller.actor
