"""Decisions recorded over HTTP go through Registry.decide, so they can be replayed."""

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

from jbgrade.api import Settings, create_app
from jbgrade.registry import Keyring, Registry, make_engine, upgrade

LOW = "JBG:1.0/LY:S/UN:N/RL:L/TR:S/HD:G/UP:N/AG:T/AC:H/AU:N/EX:R/ST:U"
REPORTED = datetime(2025, 11, 3, 9, 30, tzinfo=UTC)
HIGH = "JBG:1.0/LY:F/UN:U/RL:H/TR:M/HD:C/UP:F/AG:A/AC:L/AU:Y/EX:O/ST:A"


@dataclass
class Api:
    client: TestClient
    reg: Registry
    past: Registry  # the same registry, its clock months ago (a case reported back then)
    headers: dict[str, str]

    def post(self, path: str, body: dict[str, Any], status: int = 201) -> Any:
        r = self.client.post(path, json=body, headers=self.headers)
        assert r.status_code == status, r.text
        return r.json()

    def get(self, path: str, status: int = 200) -> Any:
        r = self.client.get(path, headers=self.headers)
        assert r.status_code == status, r.text
        return r.json()


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    eng = make_engine(url)
    upgrade(eng)
    key = secrets.token_bytes(32)
    reg = Registry(eng, Keyring.from_keys(key))
    ticks = count()
    past = Registry(
        eng, Keyring.from_keys(key), clock=lambda: REPORTED + timedelta(microseconds=next(ticks))
    )
    admin, _ = reg.bootstrap("Operators", "root")
    lab = reg.create_org(admin, "Lab", kind="lab")
    user = reg.create_user(admin, lab.id, "assessor", "assessor")
    token = reg.issue_token(admin, user.id).token.get_secret_value()
    with TestClient(create_app(Settings(db_url=url, payload_keys=(key,)))) as client:
        yield Api(client, reg, past, {"authorization": f"Bearer {token}"})
    eng.dispose()


def test_a_decision_recorded_over_http_replays(api: Api) -> None:
    actor = api.reg.authenticate_token(api.headers["authorization"].split()[1])
    cid = api.past.report_case(actor, title="Reported months ago").id
    reported_on = REPORTED.date().isoformat()
    low = api.post(f"/api/v1/cases/{cid}/assessments", {"vector": LOW})
    api.post(f"/api/v1/cases/{cid}/assessments", {"vector": HIGH})

    # No assessment named: the highest current one; no date: the day the case was reported.
    d = api.post(
        f"/api/v1/cases/{cid}/decisions",
        {"profile": "lab-frontier", "context": {"deployment": "internal"}},
    )
    assert d["result"]["vector"] == HIGH and d["assessment_id"] != low["id"]
    assert d["result"]["aware_on"] == reported_on
    assert d["result"]["context_given"] == {"deployment": "internal"}
    assert {o["clock_start"] for o in d["result"]["obligations"]} == {reported_on}
    out = api.get(f"/api/v1/cases/{cid}/decisions/{d['id']}/replay")
    assert out["reproduced"] is True and out["decision"]["id"] == d["id"]

    # A named assessment, and a bare vector, with a given date: replayable too.
    by_id = api.post(
        f"/api/v1/cases/{cid}/decisions",
        {"profile": "eu-ai-act-gpai", "assessment_id": low["id"], "aware_on": "2026-05-04"},
    )
    assert by_id["assessment_id"] == low["id"] and by_id["result"]["aware_on"] == "2026-05-04"
    by_vec = api.post(f"/api/v1/cases/{cid}/decisions", {"profile": "us-export", "vector": LOW})
    assert by_vec["assessment_id"] is None and by_vec["result"]["vector"] == LOW
    for rec in (by_id, by_vec):
        assert api.get(f"/api/v1/cases/{cid}/decisions/{rec['id']}/replay")["reproduced"]


def test_replay_refusals_are_problems(api: Api) -> None:
    cid = api.post("/api/v1/cases", {"title": "One"})["id"]
    other = api.post("/api/v1/cases", {"title": "Two"})["id"]
    d = api.post(f"/api/v1/cases/{cid}/decisions", {"profile": "lab-frontier", "vector": LOW})
    # Named under another case: not found (who may replay what: tests/api/test_authz_matrix).
    p = api.get(f"/api/v1/cases/{other}/decisions/{d['id']}/replay", status=404)
    assert p["type"] == "/api/v1/problems/not-found"
    # A decision that the engine does not give again (here: edited before recording).
    actor = api.reg.authenticate_token(api.headers["authorization"].split()[1])
    rec = dict(d["result"], action="block_deployment")
    outside = api.reg.record_decision(actor, cid, rec)
    p = api.get(f"/api/v1/cases/{cid}/decisions/{outside.id}/replay", status=422)
    assert "replay differs" in p["detail"]
    # Nothing to decide on: a problem naming the missing input.
    p = api.post(f"/api/v1/cases/{other}/decisions", {"profile": "lab-frontier"}, status=422)
    assert "no assessment to decide on" in p["detail"]
    # Only shipped profiles: a request never names a file on the server.
    p = api.post(
        f"/api/v1/cases/{cid}/decisions", {"profile": "/etc/passwd", "vector": LOW}, status=422
    )
    assert p["type"] == "/api/v1/problems/unknown-profile"
