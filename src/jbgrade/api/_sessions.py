"""Signed session cookies and CSRF tokens.

The session itself lives in the registry (a ``jbs_...`` token stored hashed,
with a server-side expiry and revocation on logout). The cookie carries that
token plus an HMAC-SHA256 signature under ``Settings.secret_key``, so forged
or garbled cookies are refused without touching the database.

CSRF: a random value lives in an HttpOnly ``jbg_csrf`` cookie; forms and htmx
requests echo ``HMAC(key, "csrf" + value)``, which a cross-site page can
neither read nor compute (signed double submit). Requests authenticated by a
bearer token carry no ambient credential and need no CSRF token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

__all__ = ["CSRF_COOKIE", "CSRF_FIELD", "CSRF_HEADER", "SESSION_COOKIE", "SessionStore"]

SESSION_COOKIE = "jbg_session"
CSRF_COOKIE = "jbg_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class SessionStore:
    """Signs session cookies and issues/checks CSRF tokens under one secret key."""

    def __init__(self, secret_key: bytes, ttl_s: int):
        # Separate derived keys: a CSRF token can never pass as a cookie signature.
        self._key = hashlib.sha256(b"jbgrade-session\x00" + secret_key).digest()
        self._csrf_key = hashlib.sha256(b"jbgrade-csrf\x00" + secret_key).digest()
        self.ttl_s = ttl_s

    def _mac(self, value: str) -> str:
        return _b64(hmac.new(self._key, value.encode(), hashlib.sha256).digest())

    def sign(self, token: str) -> str:
        """The cookie value for a session token."""
        return f"{token}.{self._mac(token)}"

    def unsign(self, cookie: str | None) -> str | None:
        """The session token a cookie carries, or ``None`` if the signature is wrong."""
        if not cookie or "." not in cookie or len(cookie) > 512:
            return None
        token, _, sig = cookie.rpartition(".")
        if not token or not hmac.compare_digest(sig, self._mac(token)):
            return None
        return token

    # -- CSRF -----------------------------------------------------------------
    @staticmethod
    def new_csrf_cookie() -> str:
        return secrets.token_urlsafe(24)

    def csrf_token_for(self, csrf_cookie: str) -> str:
        """The token a form must echo for the given ``jbg_csrf`` cookie value."""
        mac = hmac.new(self._csrf_key, b"csrf" + csrf_cookie.encode(), hashlib.sha256)
        return _b64(mac.digest())

    def verify_csrf(self, csrf_cookie: str | None, token: str | None) -> bool:
        """Constant-time check of an echoed CSRF token."""
        if not csrf_cookie or not token:
            return False
        return hmac.compare_digest(self.csrf_token_for(csrf_cookie), token)
