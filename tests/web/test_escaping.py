"""Script and markup payloads come back inert: escaped in HTML, plain strings in JSON."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from markupsafe import escape
from starlette.testclient import TestClient

from jbgrade.api import Settings
from jbgrade.registry import Keyring, Registry, make_engine, upgrade
from jbgrade.web import create_app

PAYLOADS = (
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(2)>',
    "'><svg/onload=alert(3)>",
    "javascript:alert(4)",
    "</textarea><script>alert(5)</script>",
    "{{ 7*7 }}{% raw %}",
)
VECTOR = "JBG:1.0/LY:S/UN:D/RL:M/TR:S/HD:W/UP:P/AG:T/AC:M/AU:N/EX:P/ST:U"


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, Any]]:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    eng = make_engine(url)
    upgrade(eng)
    key = secrets.token_bytes(32)
    reg = Registry(eng, Keyring.from_keys(key))
    admin, _ = reg.bootstrap("Ops", "root")
    evil = " ".join(PAYLOADS)
    lab = reg.create_org(admin, "Lab " + PAYLOADS[1], kind="lab")
    user = reg.create_user(admin, lab.id, "assessor", "assessor", display_name=PAYLOADS[0])
    actor = Registry.actor_of(user)
    app = create_app(Settings(db_url=url, payload_keys=(key,)))
    client = TestClient(app)
    token = reg.issue_token(admin, user.id).token.get_secret_value()
    session = app.state.sessions.sign(reg.create_session(actor).token.get_secret_value())
    yield {
        "client": client,
        "reg": reg,
        "actor": actor,
        "evil": evil,
        "token": token,
        "session": session,
        "app": app,
    }
    client.close()
    eng.dispose()


def _assert_inert_html(html: str, shown: tuple[str, ...] = PAYLOADS) -> None:
    """No payload appears raw; each one expected on the page appears escaped."""
    for p in PAYLOADS:
        if "<" in p:
            assert p not in html, p
    assert "<script>alert" not in html and "<img src=x" not in html and "<svg/onload" not in html
    for p in shown:
        assert str(escape(p)) in html, p


def test_case_page_escapes_everything(env: dict[str, Any]) -> None:
    c: TestClient = env["client"]
    h = {"authorization": f"Bearer {env['token']}"}
    evil = env["evil"]
    r = c.post(
        "/api/v1/cases",
        headers=h,
        json={
            "title": evil,
            "summary": evil,
            "affected_models": list(PAYLOADS),
            "attack_description": evil,
            "payload": evil,
        },
    )
    assert r.status_code == 201, r.text
    case_id = r.json()["id"]
    # JSON: the strings come back verbatim as JSON strings, served as JSON (nosniff).
    assert r.headers["content-type"] == "application/json"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.json()["title"] == evil
    r = c.post(
        f"/api/v1/cases/{case_id}/assessments",
        headers=h,
        json={"vector": VECTOR, "rationales": {"UN": evil}, "note": evil},
    )
    assert r.status_code == 201, r.text
    c.cookies.set("jbg_session", env["session"])
    for path, shown in (
        (f"/cases/{case_id}", PAYLOADS),
        ("/cases", (evil,)),
        (f"/cases?q={PAYLOADS[0]}", (PAYLOADS[0],)),
    ):
        page = c.get(path)
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        _assert_inert_html(page.text, shown)
    assert "{{ 7*7 }}" in c.get(f"/cases/{case_id}").text  # not evaluated as a template


def test_error_pages_and_problems_escape_input(env: dict[str, Any]) -> None:
    c: TestClient = env["client"]
    for p in PAYLOADS:
        page = c.get("/calculator", params={"v": p})
        assert page.status_code == 422
        _assert_inert_html(page.text, (p,))
        prob = c.post("/api/v1/grade", json={"vector": p})
        assert prob.status_code == 422
        assert prob.headers["content-type"] == "application/problem+json"
    page = c.get("/no/" + PAYLOADS[0], headers={"accept": "text/html"})
    assert page.status_code == 404
    _assert_inert_html(page.text, ())
