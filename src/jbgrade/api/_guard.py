"""The outermost guard: security headers, body size limits and per-client rate limits.

A pure ASGI middleware (no request objects built) because it runs on every
request, including the 200 requests/s the grade endpoint is benchmarked at.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from jbgrade.api._problems import PROBLEM_MEDIA_TYPE, Problem, problem_body
from jbgrade.api._respond import json_bytes
from jbgrade.api._settings import Settings

__all__ = ["CONTENT_SECURITY_POLICY", "SECURITY_HEADERS", "GuardMiddleware", "TokenBuckets"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Same origin only: no CDN, no inline script or style, no framing.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
    "object-src 'none'; frame-ancestors 'none'"
)

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), interest-cohort=()"),
)

# Routes whose bodies may be large: evidence uploads.
_UPLOAD_SUFFIX = "/evidence"


class TokenBuckets:
    """Per-client token buckets: ``rate`` tokens per second, at most ``burst`` saved up."""

    def __init__(self, rate: float, burst: int, *, max_clients: int = 50_000):
        self.rate = rate
        self.burst = float(burst)
        self.max_clients = max_clients
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, key: str, now: float | None = None) -> float:
        """Spend one token; return 0.0 if allowed, else the seconds until one is free."""
        t = time.monotonic() if now is None else now
        tokens, last = self._buckets.get(key, (self.burst, t))
        tokens = min(self.burst, tokens + (t - last) * self.rate)
        if tokens >= 1.0:
            self._buckets[key] = (tokens - 1.0, t)
            if len(self._buckets) > self.max_clients:
                self._prune(t)
            return 0.0
        self._buckets[key] = (tokens, t)
        return (1.0 - tokens) / self.rate

    def _prune(self, now: float) -> None:
        # A bucket that has refilled completely holds no information: drop it.
        full = [
            k
            for k, (tok, last) in self._buckets.items()
            if tok + (now - last) * self.rate >= self.burst
        ]
        for k in full:
            del self._buckets[k]
        if len(self._buckets) > self.max_clients:
            self._buckets.clear()


def _credential_key(scope: Scope) -> str | None:
    """The bearer token or session cookie presented, hashed (None: no credential)."""
    auth = b""
    cookie = b""
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            auth = value
        elif name == b"cookie":
            cookie = value
    if auth:
        return "t:" + hashlib.sha256(auth).hexdigest()[:24]
    if b"jbg_session=" in cookie:
        start = cookie.index(b"jbg_session=") + len(b"jbg_session=")
        end = cookie.find(b";", start)
        raw = cookie[start:] if end < 0 else cookie[start:end]
        return "s:" + hashlib.sha256(raw).hexdigest()[:24]
    return None


def _address_key(scope: Scope) -> str:
    client = scope.get("client")
    return "a:" + (str(client[0]) if client else "unknown")


class _KnownCredentials:
    """Credentials that authenticated recently: only these get a bucket of their own.

    Anything else (no credential, a garbage or revoked token, a forged cookie) is
    rate-limited by the client's address, so a fresh random token per request buys
    nothing: 400 random tokens are throttled like 400 requests with one.
    """

    def __init__(self, max_entries: int = 50_000):
        self.max_entries = max_entries
        self._keys: set[str] = set()

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def add(self, key: str) -> None:
        if len(self._keys) >= self.max_entries:
            self._keys.clear()  # forgetting only costs a request on the address bucket
        self._keys.add(key)

    def discard(self, key: str) -> None:
        self._keys.discard(key)


class GuardMiddleware:
    """Security headers on every response; 413 and 429 problem documents."""

    def __init__(self, app: ASGIApp, settings: Settings):
        self.app = app
        self.settings = settings
        self.buckets = TokenBuckets(settings.rate_limit_per_s, settings.rate_burst)
        self.known = _KnownCredentials()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        cred = _credential_key(scope)
        status = 0

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message.get("status", 0))
                headers = list(message.get("headers", ()))
                headers.extend(SECURITY_HEADERS)
                if not path.startswith("/static/"):
                    # Case data must not linger in shared or browser caches.
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        # Static files are cheap and needed to render error pages: not rate limited.
        if not path.startswith("/static/"):
            key = cred if cred is not None and cred in self.known else _address_key(scope)
            wait = self.buckets.take(key)
            if wait > 0.0:
                retry = max(1, math.ceil(wait))
                await _send_problem(
                    send_with_headers,
                    problem_body(
                        "rate-limited",
                        f"too many requests from this client; retry in {retry} s",
                        instance=path,
                        retry_after_s=retry,
                    ),
                    [(b"retry-after", str(retry).encode())],
                )
                return

        limit = (
            self.settings.max_upload_bytes
            if path.endswith(_UPLOAD_SUFFIX)
            else self.settings.max_body_bytes
        )
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared > limit:
                    await _send_problem(send_with_headers, _too_large(path, limit), [])
                    return
                break

        received = 0

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # An HTTP exception: FastAPI lets it through body parsing to the handlers.
                    raise Problem(
                        "payload-too-large",
                        f"request body exceeds {limit} bytes",
                        limit_bytes=limit,
                    )
            return message

        await self.app(scope, counted_receive, send_with_headers)
        if cred is not None:
            caller = scope.get("state", {}).get("caller")
            if status == 401:
                self.known.discard(cred)
            elif getattr(caller, "actor", None) is not None:
                self.known.add(cred)


def _too_large(path: str, limit: int) -> dict[str, Any]:
    return problem_body(
        "payload-too-large",
        f"request body exceeds {limit} bytes",
        instance=path,
        limit_bytes=limit,
    )


async def _send_problem(send: Send, body: dict[str, Any], extra: list[tuple[bytes, bytes]]) -> None:
    data = json_bytes(body)
    await send(
        {
            "type": "http.response.start",
            "status": int(body["status"]),
            "headers": [
                (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                (b"content-length", str(len(data)).encode()),
                *extra,
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})
