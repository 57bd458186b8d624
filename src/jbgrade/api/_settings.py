"""Server settings: one frozen object passed to the app factory (no globals)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

__all__ = ["Settings"]


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the API and web app need to know, fixed at start-up.

    The app reads nothing from the environment itself: ``jbgrade serve`` (or a
    test) builds this object and hands it to ``create_app``.
    """

    db_url: str | None = None
    """SQLAlchemy URL of the case registry; ``None`` serves only the stateless endpoints."""

    secret_key: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)
    """Key for signing session cookies and CSRF tokens (32+ random bytes; keep it stable
    across restarts, or every session ends)."""

    payload_keys: tuple[bytes, ...] = field(default=(), repr=False)
    """AES-256 keys (32 bytes each) for case payloads, the first one active; empty: the
    registry stores no payloads (reporting one fails clearly)."""

    session_ttl_s: int = 8 * 3600
    """Lifetime of a browser login session, enforced by the server."""

    secure_cookies: bool = False
    """Mark cookies ``Secure`` (set when served over HTTPS)."""

    max_body_bytes: int = 256 * 1024
    """Largest request body accepted, except on evidence upload routes."""

    max_upload_bytes: int = 16 * 1024 * 1024
    """Largest body accepted on evidence upload routes."""

    rate_limit_per_s: float = 50.0
    """Sustained requests per second allowed per client (token, session or address)."""

    rate_burst: int = 200
    """Requests a client may send at once before the sustained rate applies."""

    page_size: int = 50
    """Cases per page in lists (the API caps ``limit`` at ten times this)."""

    def __post_init__(self) -> None:
        if len(self.secret_key) < 16:
            raise ValueError("secret_key must be at least 16 bytes")
        if self.max_body_bytes <= 0 or self.max_upload_bytes <= 0:
            raise ValueError("body limits must be positive")
        if self.rate_limit_per_s <= 0 or self.rate_burst <= 0:
            raise ValueError("rate limits must be positive")
