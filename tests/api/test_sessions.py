"""Signed session cookies and CSRF tokens."""

from __future__ import annotations

from jbgrade.api import SessionStore

TOKEN = "jbs_0123456789abcdef_" + "A" * 43


def test_sign_and_unsign() -> None:
    s = SessionStore(b"k" * 32, ttl_s=100)
    cookie = s.sign(TOKEN)
    assert s.unsign(cookie) == TOKEN


def test_tampered_or_foreign_cookie_rejected() -> None:
    s = SessionStore(b"k" * 32, ttl_s=100)
    cookie = s.sign(TOKEN)
    forged = SessionStore(b"other-key-000000", ttl_s=100).sign(TOKEN)
    assert s.unsign(forged) is None
    assert s.unsign(cookie[:-2] + ("AA" if not cookie.endswith("AA") else "BB")) is None
    assert s.unsign(TOKEN.replace("A", "B") + cookie[len(TOKEN) :]) is None
    assert s.unsign("garbage") is None and s.unsign(None) is None and s.unsign(".x") is None


def test_csrf_tokens() -> None:
    s = SessionStore(b"k" * 32, ttl_s=100)
    c = s.new_csrf_cookie()
    tok = s.csrf_token_for(c)
    assert s.verify_csrf(c, tok)
    assert not s.verify_csrf(s.new_csrf_cookie(), tok)
    assert not s.verify_csrf(c, None) and not s.verify_csrf(None, tok)
    assert not SessionStore(b"j" * 32, ttl_s=1).verify_csrf(c, tok)
    assert s.sign(c).split(".")[1] != tok  # cookie signatures and CSRF tokens never coincide
