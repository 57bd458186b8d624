"""Signed session cookies with server-side expiry; CSRF tokens."""

from __future__ import annotations

from jbgrade.api import SessionStore


def test_issue_read_expire_revoke() -> None:
    s = SessionStore(b"k" * 32, ttl_s=100)
    cookie, data = s.issue("user-1", now=1000)
    assert s.read(cookie, now=1050) == data
    assert s.read(cookie, now=1100) is None  # the server enforces expiry
    s.revoke(data)
    assert s.read(cookie, now=1050) is None


def test_tampered_or_foreign_cookie_rejected() -> None:
    s = SessionStore(b"k" * 32, ttl_s=100)
    cookie, _ = s.issue("user-1", now=1000)
    body, sig = cookie.split(".")
    forged, _ = SessionStore(b"other-key-000000", ttl_s=100).issue("admin", now=1000)
    assert s.read(forged, now=1001) is None
    assert s.read(body + "." + sig[:-2] + "AA", now=1001) is None
    assert s.read("garbage", now=1001) is None
    assert s.read(None) is None


def test_csrf_tokens() -> None:
    s = SessionStore(b"k" * 32, ttl_s=100)
    c = s.new_csrf_cookie()
    tok = s.csrf_token_for(c)
    assert s.verify_csrf(c, tok)
    assert not s.verify_csrf(s.new_csrf_cookie(), tok)
    assert not s.verify_csrf(c, None) and not s.verify_csrf(None, tok)
    assert not SessionStore(b"j" * 32, ttl_s=1).verify_csrf(c, tok)
