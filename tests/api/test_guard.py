"""Security headers, body size limits and per-client rate limits."""

from __future__ import annotations

from collections.abc import Iterator

from starlette.testclient import TestClient

from jbgrade.api import Settings, TokenBuckets
from jbgrade.web import create_app

TOP = "JBG:1.0/LY:F/UN:U/RL:H/TR:M/HD:C/UP:F/AG:A/AC:L/AU:Y/EX:O/ST:A"


def test_security_headers_on_pages_api_errors_and_static(client: TestClient) -> None:
    for path in ("/calculator", "/api/v1/health", "/api/v1/nope", "/static/app.css"):
        r = client.get(path)
        csp = r.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp
        assert "http" not in csp  # no external origin anywhere
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"
    assert client.get("/api/v1/health").headers["cache-control"] == "no-store"


def test_declared_oversize_body_is_413() -> None:
    with TestClient(create_app(Settings(max_body_bytes=1000))) as c:
        r = c.post(
            "/api/v1/grade", content=b"x" * 1001, headers={"content-type": "application/json"}
        )
        assert r.status_code == 413
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["limit_bytes"] == 1000
        assert c.post("/api/v1/grade", json={"vector": TOP}).status_code == 200


def test_streamed_oversize_body_without_length_is_413() -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(20):
            yield b"x" * 100

    with TestClient(create_app(Settings(max_body_bytes=1000))) as c:
        r = c.post("/api/v1/grade", content=chunks(), headers={"content-type": "application/json"})
        assert r.status_code == 413, r.text
        assert r.json()["type"] == "/api/v1/problems/payload-too-large"


def test_rate_limit_429_with_retry_after() -> None:
    with TestClient(create_app(Settings(rate_limit_per_s=1, rate_burst=3))) as c:
        codes = [c.get("/api/v1/health").status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        r = c.get("/api/v1/health")
        assert r.status_code == 429
        assert int(r.headers["retry-after"]) >= 1
        assert r.json()["type"] == "/api/v1/problems/rate-limited"
        # Another client (a bearer token) has its own bucket.
        assert c.get("/api/v1/health", headers={"authorization": "Bearer x"}).status_code == 200


def test_token_bucket_refills() -> None:
    b = TokenBuckets(rate=2.0, burst=2)
    assert b.take("k", now=0.0) == 0.0
    assert b.take("k", now=0.0) == 0.0
    assert b.take("k", now=0.0) == 0.5
    assert b.take("k", now=0.5) == 0.0
    assert b.take("other", now=0.5) == 0.0
