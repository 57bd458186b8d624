"""``/admin``: organisations, users, roles and tokens in the browser, with the same
organisation isolation as the API."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from jbgrade.api import Settings
from jbgrade.registry import Actor, Keyring, Registry, make_engine, upgrade
from jbgrade.web import create_app


@dataclass
class Env:
    client: TestClient
    reg: Registry
    root: Actor
    lab_admin: Actor
    other_user: str
    session: str = ""

    def as_(self, actor: Actor) -> None:
        store = self.client.app.state.sessions  # type: ignore[attr-defined]
        self.session = store.sign(self.reg.create_session(actor).token.get_secret_value())
        self.client.cookies.clear()
        self.client.cookies.set("jbg_session", self.session)

    def post(self, data: dict[str, str]) -> Any:
        store = self.client.app.state.sessions  # type: ignore[attr-defined]
        csrf = store.new_csrf_cookie()
        self.client.cookies.clear()
        self.client.cookies.set("jbg_session", self.session)
        self.client.cookies.set("jbg_csrf", csrf)
        body = {**data, "csrf_token": store.csrf_token_for(csrf)}
        return self.client.post("/admin", data=body, follow_redirects=False)


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    eng = make_engine(url)
    upgrade(eng)
    key = secrets.token_bytes(32)
    reg = Registry(eng, Keyring.from_keys(key))
    root, _ = reg.bootstrap("Ops", "root")
    lab = reg.create_org(root, "Lab", kind="lab").id
    gov = reg.create_org(root, "Office", kind="government").id
    lab_admin = Registry.actor_of(reg.create_user(root, lab, "lab-admin", "admin"))
    other = reg.create_user(root, gov, "gov-assessor", "assessor").id
    client = TestClient(create_app(Settings(db_url=url, payload_keys=(key,))))
    yield Env(client, reg, root, lab_admin, other)
    client.close()
    eng.dispose()


def test_superadmin_adds_the_second_party(env: Env) -> None:
    env.as_(env.root)
    page = env.client.get("/admin")
    assert page.status_code == 200 and "Add organisation" in page.text
    r = env.post({"op": "org", "name": "Second party", "kind": "lab"})
    assert r.status_code == 303, r.text
    org = next(o for o in env.reg.list_orgs(env.root) if o.name == "Second party")
    r = env.post({"op": "user", "org_id": org.id, "username": "sp-admin", "role": "admin"})
    assert r.status_code == 303
    page = env.client.get("/admin")
    assert 'data-testid="user-sp-admin"' in page.text and "gov-assessor" in page.text
    r = env.post({"op": "token", "user_id": env.other_user})
    assert r.status_code == 200 and "jbg_" in r.text and "shown once" in r.text


def test_admin_sees_and_manages_only_its_organisation(env: Env) -> None:
    env.as_(env.lab_admin)
    page = env.client.get("/admin")
    assert page.status_code == 200
    assert "gov-assessor" not in page.text and "Add organisation" not in page.text
    assert ">superadmin<" not in page.text  # cannot hand out the super-administrator role
    for data in (
        {"op": "token", "user_id": env.other_user},
        {"op": "role", "user_id": env.other_user, "role": "admin"},
        {"op": "active", "user_id": env.other_user, "active": "false"},
        {"op": "org", "name": "Shadow", "kind": "lab"},
    ):
        r = env.post(data)
        assert r.status_code == 422 and 'data-testid="admin-error"' in r.text, data
        assert "jbg_" not in r.text
    assert env.reg.get_user(env.root, env.other_user).active


def test_audit_page_shows_a_usable_anchor(env: Env) -> None:
    import re

    env.as_(env.root)
    page = env.client.get("/audit")
    m = re.search(r'data-testid="audit-anchor"[^>]*>(\d+):([0-9a-f]{64})<', page.text)
    assert m is not None, page.text
    assert env.reg.verify_audit(anchor=(int(m.group(1)), m.group(2))).ok
