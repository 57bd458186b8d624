"""Security headers, body size limits and per-client rate limits."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

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
        # An unknown bearer token buys no bucket of its own: still this address's.
        assert c.get("/api/v1/health", headers={"authorization": "Bearer x"}).status_code == 429


def _registry_app(tmp_path: Path, burst: int) -> tuple[TestClient, str]:
    from jbgrade.registry import Registry, make_engine, upgrade

    url = f"sqlite:///{tmp_path / 'r.db'}"
    eng = make_engine(url)
    upgrade(eng)
    _, tok = Registry(eng).bootstrap("Ops", "root")
    eng.dispose()
    app = create_app(Settings(db_url=url, rate_limit_per_s=0.001, rate_burst=burst))
    return TestClient(app), tok.token.get_secret_value()


def _codes(c: TestClient, tokens: list[str]) -> list[int]:
    return [
        c.get("/api/v1/me", headers={"authorization": f"Bearer {t}"}).status_code for t in tokens
    ]


def test_random_tokens_are_throttled_like_one_token(tmp_path: Path) -> None:
    """Issue 14: 400 requests, each with a fresh garbage bearer token, are throttled
    like 400 with one token (per client address), and so are forged session cookies."""
    import secrets

    burst = 20
    c, good = _registry_app(tmp_path, burst)
    with c:
        one = _codes(c, ["jbg_" + "0" * 16 + "_" + "A" * 43] * 400)
    c, good = _registry_app(tmp_path / "b", burst)
    with c:
        fresh = _codes(c, [secrets.token_urlsafe(32) for _ in range(400)])
        cookies = []
        for _ in range(50):
            c.cookies.set("jbg_session", secrets.token_urlsafe(40))
            cookies.append(c.get("/api/v1/me").status_code)
        c.cookies.clear()
    assert one.count(401) == fresh.count(401) == burst
    assert one.count(429) == fresh.count(429) == 400 - burst
    assert set(cookies) == {429}
    # A valid token gets a bucket of its own once it has authenticated (that first
    # request is paid by the address).
    c, good = _registry_app(tmp_path / "c", burst)
    with c:
        assert _codes(c, [good]) == [200]
        _codes(c, ["garbage"] * (burst + 5))  # the address is exhausted ...
        assert _codes(c, [good] * 5) == [200] * 5  # ... the known token is not


def test_token_bucket_refills() -> None:
    b = TokenBuckets(rate=2.0, burst=2)
    assert b.take("k", now=0.0) == 0.0
    assert b.take("k", now=0.0) == 0.0
    assert b.take("k", now=0.0) == 0.5
    assert b.take("k", now=0.5) == 0.0
    assert b.take("other", now=0.5) == 0.0
