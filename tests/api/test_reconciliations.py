"""Reconciliation records over HTTP: stored on the case, listed, problem documents on
bad input, on SQLite and PostgreSQL (the registry suite's ``engine`` fixture)."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy.engine import Engine
from starlette.testclient import TestClient

from jbgrade.api import Settings, create_app
from jbgrade.registry import Keyring, Registry
from tests.registry.conftest import (  # noqa: F401 - fixtures used by name
    World,
    disputed_case,
    engine,
    pg_server,
    sqlite_template,
)


def test_store_and_list_over_http(engine: Engine) -> None:  # noqa: F811 - the fixture
    key = secrets.token_bytes(32)
    reg = Registry(engine, Keyring.from_keys(key))
    admin, _ = reg.bootstrap("Operators", "root")
    ids = {k: reg.create_org(admin, f"Org {k}", kind="lab").id for k in ("lab", "gov", "other")}
    users = {
        (k, role): Registry.actor_of(reg.create_user(admin, oid, f"{k}-{role}", role))
        for k, oid in ids.items()
        for role in ("reporter", "assessor", "regulator", "admin")
    }
    world = World(reg, ids["lab"], ids["lab"], ids["gov"], ids["other"], users)
    case_id, rec = disputed_case(world)

    def auth(org: str, role: str) -> dict[str, str]:
        u = users[(org, role)]
        return {
            "authorization": f"Bearer {reg.issue_token(admin, u.user_id).token.get_secret_value()}"
        }

    url = engine.url.render_as_string(hide_password=False)
    path = f"/api/v1/cases/{case_id}/reconciliations"
    app = create_app(Settings(db_url=url, payload_keys=(key,)))
    with TestClient(app) as client:
        r = client.post(path, json=rec, headers=auth("gov", "regulator"))
        assert r.status_code == 201, r.text
        made: dict[str, Any] = r.json()
        assert made["id"].startswith("rcn_") and made["record"] == rec
        r = client.get(path, headers=auth("lab", "assessor"))
        assert r.status_code == 200 and [x["id"] for x in r.json()["items"]] == [made["id"]]

        # Bad input: problem documents, nothing stored.
        bad = {**rec, "differences": [{"item": "UN"}]}
        for body, want in (
            (bad, "differences.0"),
            ({**rec, "case_id": "case_elsewhere"}, "is about case"),
            ({"kind": "other"}, "reconciliation"),
        ):
            r = client.post(path, json=body, headers=auth("gov", "assessor"))
            assert r.status_code == 422, r.text
            assert r.headers["content-type"] == "application/problem+json"
            assert want in r.json()["detail"]
        r = client.post(path, content=b"[1, 2]", headers=auth("gov", "assessor"))
        assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
        # Per the table: a reporter of the owning lab sees the case, not its reconciliations.
        r = client.get(path, headers=auth("lab", "reporter"))
        assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json"
        r = client.get(path, headers=auth("other", "assessor"))
        assert r.status_code == 403
        assert len(reg.list_reconciliations(users[("lab", "assessor")], case_id)) == 1
        r = client.get("/api/v1/audit/verify", headers=auth("gov", "regulator"))
        assert r.status_code == 200 and r.json()["ok"], r.text
    app.state.registry.close()  # the app does not dispose its engine; PostgreSQL would warn
