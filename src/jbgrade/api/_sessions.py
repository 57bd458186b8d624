"""Browser sessions (signed cookies, server-side expiry) and CSRF tokens.

The session cookie carries ``{user id, session id, issued, expires}`` signed
with HMAC-SHA256 under ``Settings.secret_key``; the server checks the
signature and the expiry itself (the cookie's Max-Age is only a hint to the
browser), and keeps the ids of sessions that logged out until they expire.

CSRF: a random value lives in an HttpOnly ``jbg_csrf`` cookie; forms and htmx
requests echo ``HMAC(key, "csrf" + value)``, which a cross-site page can
neither read nor compute (double submit, signed). Requests authenticated by a
bearer token carry no ambient credential and need no CSRF token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

__all__ = [
    "CSRF_COOKIE",
    "CSRF_FIELD",
    "CSRF_HEADER",
    "SESSION_COOKIE",
    "SessionData",
    "SessionStore",
]

SESSION_COOKIE = "jbg_session"
CSRF_COOKIE = "jbg_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True, slots=True)
class SessionData:
    """What a valid session cookie says."""

    user_id: str
    session_id: str
    issued_at: int
    expires_at: int


class SessionStore:
    """Issues and checks signed session cookies; remembers logged-out sessions."""

    def __init__(self, secret_key: bytes, ttl_s: int):
        self._key = hashlib.sha256(b"jbgrade-session\x00" + secret_key).digest()
        self._csrf_key = hashlib.sha256(b"jbgrade-csrf\x00" + secret_key).digest()
        self.ttl_s = ttl_s
        self._revoked: dict[str, int] = {}

    def _sign(self, body: bytes) -> str:
        return _b64(hmac.new(self._key, body, hashlib.sha256).digest())

    def issue(self, user_id: str, *, now: float | None = None) -> tuple[str, SessionData]:
        """A new cookie value for ``user_id`` and what it encodes."""
        t = int(time.time() if now is None else now)
        data = SessionData(str(user_id), secrets.token_urlsafe(18), t, t + self.ttl_s)
        body = json.dumps(
            {"u": data.user_id, "s": data.session_id, "i": data.issued_at, "e": data.expires_at},
            separators=(",", ":"),
        ).encode()
        return f"{_b64(body)}.{self._sign(body)}", data

    def read(self, cookie: str | None, *, now: float | None = None) -> SessionData | None:
        """The session a cookie proves, or ``None`` (bad signature, expired, logged out)."""
        if not cookie or cookie.count(".") != 1:
            return None
        body_b64, sig = cookie.split(".")
        try:
            body = _unb64(body_b64)
        except (ValueError, TypeError):
            return None
        if not hmac.compare_digest(sig, self._sign(body)):
            return None
        try:
            raw: dict[str, Any] = json.loads(body)
            data = SessionData(str(raw["u"]), str(raw["s"]), int(raw["i"]), int(raw["e"]))
        except (ValueError, KeyError, TypeError):
            return None
        t = time.time() if now is None else now
        if t >= data.expires_at or data.session_id in self._revoked:
            return None
        return data

    def revoke(self, data: SessionData) -> None:
        """End a session before its expiry (logout)."""
        now = int(time.time())
        self._revoked = {k: e for k, e in self._revoked.items() if e > now}
        self._revoked[data.session_id] = data.expires_at

    # -- CSRF -----------------------------------------------------------------
    @staticmethod
    def new_csrf_cookie() -> str:
        return secrets.token_urlsafe(24)

    def csrf_token_for(self, csrf_cookie: str) -> str:
        return _b64(
            hmac.new(self._csrf_key, b"csrf" + csrf_cookie.encode(), hashlib.sha256).digest()
        )

    def verify_csrf(self, csrf_cookie: str | None, token: str | None) -> bool:
        if not csrf_cookie or not token:
            return False
        return hmac.compare_digest(self.csrf_token_for(csrf_cookie), token)
