"""``POST /api/v1/cases`` takes a case's attack kind and ATLAS ids; reads return them."""

from __future__ import annotations

import secrets
from pathlib import Path

from fastapi.testclient import TestClient

from jbgrade.api import Settings, create_app
from jbgrade.registry import Keyring, Registry, make_engine, upgrade


def test_api_takes_and_returns_atlas_ids(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    eng = make_engine(url)
    upgrade(eng)
    key = secrets.token_bytes(32)
    reg = Registry(eng, Keyring.from_keys(key))
    admin, _ = reg.bootstrap("Operators", "root")
    lab = reg.create_org(admin, "Lab", kind="lab")
    user = reg.create_user(admin, lab.id, "assessor", "assessor")
    token = reg.issue_token(admin, user.id).token.get_secret_value()
    h = {"authorization": f"Bearer {token}"}
    with TestClient(create_app(Settings(db_url=url, payload_keys=(key,)))) as client:
        body = {"title": "Role-play", "attack_kind": "roleplay", "atlas_techniques": ["AML.T0054"]}
        r = client.post("/api/v1/cases", json=body, headers=h)
        assert r.status_code == 201, r.text
        made = r.json()
        assert made["attack_kind"] == "roleplay" and made["atlas_techniques"] == ["AML.T0054"]
        got = client.get(f"/api/v1/cases/{made['id']}", headers=h).json()
        assert got["attack_kind"] == "roleplay" and got["atlas_techniques"] == ["AML.T0054"]
        bad = client.post(
            "/api/v1/cases", json={"title": "x", "atlas_techniques": ["T0054"]}, headers=h
        )
        assert 400 <= bad.status_code < 500, bad.text
        assert bad.headers["content-type"].startswith("application/problem+json")
        assert "atlas_techniques" in bad.text
    eng.dispose()
