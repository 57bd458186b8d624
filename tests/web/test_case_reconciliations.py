"""Stored reconciliations on the case page: when, by whom, what changes the action,
what to stop arguing about; escaped; shown only to roles the table lets see them."""

from __future__ import annotations

import html
import secrets
from pathlib import Path

from starlette.testclient import TestClient

from jbgrade.api import Settings
from jbgrade.registry import Actor, Keyring, Registry, make_engine, upgrade
from jbgrade.web import create_app
from tests.registry.conftest import World, disputed_case

HOSTILE = "Lab <script>alert(1)</script>"


def test_case_page_lists_stored_reconciliations(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    eng = make_engine(url)
    upgrade(eng)
    key = secrets.token_bytes(32)
    reg = Registry(eng, Keyring.from_keys(key))
    admin, _ = reg.bootstrap("Ops", "root")
    names = {"lab": HOSTILE, "gov": "Safety office", "other": "Other"}
    ids = {k: reg.create_org(admin, n, kind="lab").id for k, n in names.items()}
    users = {
        (k, role): Registry.actor_of(reg.create_user(admin, oid, f"{k}-{role}", role))
        for k, oid in ids.items()
        for role in ("reporter", "assessor", "regulator")
    }
    case_id, rec = disputed_case(
        World(reg, ids["lab"], ids["lab"], ids["gov"], ids["other"], users)
    )
    stored = reg.add_reconciliation(users[("gov", "regulator")], case_id, rec)
    app = create_app(Settings(db_url=url, payload_keys=(key,)))

    def page(actor: Actor) -> str:
        client.cookies.clear()
        token = reg.create_session(actor).token.get_secret_value()
        client.cookies.set("jbg_session", app.state.sessions.sign(token))
        r = client.get(f"/cases/{case_id}")
        assert r.status_code == 200, r.text[:300]
        return r.text

    with TestClient(app) as client:
        text = page(users[("lab", "assessor")])
        assert text.count('data-testid="reconciliation"') == 1
        assert stored.id in text and "gov-regulator (Safety office)" in text
        assert stored.created_at.strftime("%Y-%m-%d %H:%M") in text
        assert "<script>alert(1)" not in text and html.escape(HOSTILE, quote=False) in text
        decisive = [
            d["item"] for d in rec["differences"] if any(e["changes_action"] for e in d["effects"])
        ]
        assert decisive, "the fixture's parties should disagree on the action somewhere"
        assert text.count('data-testid="reconciliation-decisive"') == len(decisive)
        for item in decisive:
            assert f"<code>{item}</code>" in text
        assert rec["unchanged"]
        assert f'data-testid="reconciliation-stop">{", ".join(rec["unchanged"])}<' in text
        # A reporter of the same lab sees the case but not the reconciliations.
        text = page(users[("lab", "reporter")])
        assert 'id="h-recon"' not in text and stored.id not in text
    app.state.registry.close()
    eng.dispose()
