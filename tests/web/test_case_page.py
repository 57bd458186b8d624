"""The case page: decisions recorded from it replay, their clocks from the reported day.

Served by the app in process (TestClient); the browser workflow is
test_browser_cases.py.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from jbgrade.api import Settings
from jbgrade.registry import Actor, Keyring, Registry, make_engine, upgrade
from jbgrade.web import create_app

LAB = "JBG:1.0/LY:S/UN:D/RL:M/TR:S/HD:W/UP:P/AG:T/AC:M/AU:N/EX:P/ST:U"
GOV = "JBG:1.0/LY:S/UN:U/RL:H/TR:S/HD:W/UP:F/AG:T/AC:M/AU:N/EX:P/ST:U"
REPORTED = datetime(2025, 11, 3, 9, 30, tzinfo=UTC)


@dataclass
class Env:
    client: TestClient
    reg: Registry
    past: Registry  # the same registry, its clock months ago (a case reported back then)
    actor: Actor
    api: dict[str, str]  # bearer headers
    session: str  # the signed session cookie of the same user

    def page(self, path: str) -> Any:
        self.client.cookies.clear()
        self.client.cookies.set("jbg_session", self.session)
        return self.client.get(path)

    def form(self, path: str, data: dict[str, str]) -> Any:
        """A form post as the logged-in browser sends it (session + CSRF)."""
        sessions = self.client.app.state.sessions  # type: ignore[attr-defined]
        csrf = sessions.new_csrf_cookie()
        self.client.cookies.clear()
        self.client.cookies.set("jbg_session", self.session)
        self.client.cookies.set("jbg_csrf", csrf)
        body = {**data, "csrf_token": sessions.csrf_token_for(csrf)}
        return self.client.post(path, data=body, follow_redirects=False)


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    eng = make_engine(url)
    upgrade(eng)
    key = secrets.token_bytes(32)
    reg = Registry(eng, Keyring.from_keys(key))
    ticks = count()
    past = Registry(
        eng,
        Keyring.from_keys(key),
        clock=lambda: REPORTED + timedelta(microseconds=next(ticks)),
    )
    admin, _ = reg.bootstrap("Ops", "root")
    lab = reg.create_org(admin, "Lab", kind="lab")
    user = reg.create_user(admin, lab.id, "assessor", "assessor")
    actor = Registry.actor_of(user)
    app = create_app(Settings(db_url=url, payload_keys=(key,)))
    token = reg.issue_token(admin, user.id).token.get_secret_value()
    session = app.state.sessions.sign(reg.create_session(actor).token.get_secret_value())
    with TestClient(app) as client:
        yield Env(client, reg, past, actor, {"authorization": f"Bearer {token}"}, session)
    eng.dispose()


def test_web_decision_defaults_to_the_reported_day_and_replays(env: Env) -> None:
    c = env.client
    cid = env.past.report_case(env.actor, title="Reported months ago").id
    reported_on = REPORTED.date().isoformat()
    for v in (LAB, GOV):
        assert c.post(
            f"/api/v1/cases/{cid}/assessments", json={"vector": v}, headers=env.api
        ).is_success
    page = env.page(f"/cases/{cid}").text
    # The form offers the day the case was reported: the default the registry applies.
    assert f'name="aware_on" type="date" value="{reported_on}"' in page

    # Submitted with the date left empty, and with a date: both recorded replayably.
    for aware in ("", "2026-03-02"):
        r = env.form(
            f"/cases/{cid}/decisions",
            {"profile": "eu-ai-act-gpai", "aware_on": aware, "context": '{"designated": "no"}'},
        )
        assert r.status_code == 303, r.text
        (d,) = [d for d in env.reg.list_decisions(env.actor, cid) if d.current]
        assert d.result["aware_on"] == (aware or reported_on)
        assert d.result["vector"] == GOV  # the higher of the two current assessments
        assert d.result["context_given"] == {"designated": "no"}
        assert env.reg.replay_decision(env.actor, d.id, case_id=cid).id == d.id
