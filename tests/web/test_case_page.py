"""The case page: a real campaign's evidence charted, and decisions that replay.

Served by the app in process (TestClient); the browser workflow is
test_browser_cases.py.
"""

from __future__ import annotations

import html
import re
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
from jbgrade.evidence import Evidence, Rate, load_campaign_evidence
from jbgrade.records import DOMAINS
from jbgrade.registry import Actor, Keyring, Registry, make_engine, upgrade
from jbgrade.web import create_app
from jbgrade.web._charts import domain_bars
from tests.cli.test_rubric_cli import run

ROOT = Path(__file__).resolve().parents[2]
LAB = "JBG:1.0/LY:S/UN:D/RL:M/TR:S/HD:W/UP:P/AG:T/AC:M/AU:N/EX:P/ST:U"
GOV = "JBG:1.0/LY:S/UN:U/RL:H/TR:S/HD:W/UP:F/AG:T/AC:M/AU:N/EX:P/ST:U"
REPORTED = datetime(2025, 11, 3, 9, 30, tzinfo=UTC)
EXTERNAL = re.compile(r"""(?:src|href|url|action)\s*[=(]\s*["']?(?:https?:|//)""", re.I)


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


@pytest.fixture(scope="module")
def campaign_evidence(tmp_path_factory: pytest.TempPathFactory) -> Evidence:
    """The bundled example campaign, run against the in-process reference target."""
    out = tmp_path_factory.mktemp("campaign") / "reference-inprocess"
    spec = ROOT / "examples" / "campaigns" / "reference-inprocess.yaml"
    p = run("campaign", "run", str(spec), "--out", str(out), "--quiet")
    assert p.returncode == 0, p.stderr
    return load_campaign_evidence(out)


def _cell(r: Rate) -> str:
    """How the numbers table shows one arm: rate [interval] (k/n)."""
    assert r.rate is not None and r.low is not None and r.high is not None
    return f"{100 * r.rate:.1f}% [{100 * r.low:.1f}–{100 * r.high:.1f}] ({r.successes}/{r.n})"


def test_the_chart_reads_the_evidence_as_reports_do(campaign_evidence: Evidence) -> None:
    # Each bar is the evidence record's own per-domain rate (judged arms), per attack.
    bars = domain_bars(campaign_evidence)
    want = [
        r
        for atk in campaign_evidence.attacks
        for t in atk.targets
        for d in t.domains
        for r in (d.attack, d.baseline)
        if r.n > 0
    ]
    got = [r for b in bars for r in (b.attack, b.baseline) if r is not None]
    assert sorted(got, key=repr) == sorted(want, key=repr)
    assert {b.group for b in bars} == {
        f"{a.attack} on {t.model}" for a in campaign_evidence.attacks for t in a.targets
    }


def test_case_page_charts_a_real_campaigns_evidence(env: Env, campaign_evidence: Evidence) -> None:
    ev = campaign_evidence
    assert len(ev.attacks) > 1 and ev.counts.judged > 0
    cid = env.client.post("/api/v1/cases", json={"title": "Evidence"}, headers=env.api).json()["id"]
    r = env.client.post(
        f"/api/v1/cases/{cid}/evidence",
        json={"evidence": ev.model_dump(mode="json"), "label": "reference run"},
        headers=env.api,
    )
    assert r.status_code == 201, r.text
    page = env.page(f"/cases/{cid}")
    assert page.status_code == 200
    text = re.sub(r">\s+<", "><", html.unescape(page.text))
    # Every attack x target x domain with judged attempts: a row with both arms'
    # rates and Wilson intervals, as the Evidence record has them.
    rows = 0
    for atk in ev.attacks:
        for t in atk.targets:
            for d in t.domains:
                assert d.domain in DOMAINS
                if d.attack.n == 0 and d.baseline.n == 0:
                    continue
                row = (
                    f"<tr><td>{atk.attack} on {t.model}</td><td>{d.domain}</td>"
                    f"<td>{_cell(d.attack)}</td><td>{_cell(d.baseline)}</td></tr>"
                )
                assert row in text, row
                rows += 1
    assert rows >= 2 * len(ev.attacks)
    # One chart for the attachment: a bar and an interval whisker per arm and row.
    assert text.count('<svg class="chart"') == 1
    assert text.count("<rect ") == 2 * rows
    assert "Success rate per domain with intervals: reference run" in text
    assert "with 95% intervals" in text
    # Nothing on the page points outside the deployment.
    assert not EXTERNAL.search(page.text), EXTERNAL.search(page.text)
    assert "default-src 'none'" in page.headers["content-security-policy"]


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


def test_overdue_obligations_are_flagged(env: Env) -> None:
    """A decision recorded months ago (aware 2025-11-03): its obligations are past due
    today, and the case page says so next to the date, not just "next due ..."."""
    cid = env.past.report_case(env.actor, title="Old case").id
    assert env.client.post(
        f"/api/v1/cases/{cid}/assessments", json={"vector": GOV}, headers=env.api
    ).is_success
    r = env.form(f"/cases/{cid}/decisions", {"profile": "lab-frontier", "aware_on": ""})
    assert r.status_code == 303, r.text
    page = env.page(f"/cases/{cid}").text
    assert 'data-testid="overdue"' in page and "OVERDUE" in page
    assert page.count("flag-overdue") >= 2  # the headline and the obligation rows


def test_case_form_takes_atlas_ids_and_the_page_shows_them(env: Env) -> None:
    r = env.form(
        "/cases",
        {
            "title": "Injected instructions",
            "attack_kind": "prompt-injection",
            "atlas_techniques": "AML.T0051.000, AML.T0054",
        },
    )
    assert r.status_code == 303, r.text
    cid = r.headers["location"].rsplit("/", 1)[1]
    case = env.reg.get_case(env.actor, cid)
    assert case.attack_kind == "prompt-injection"
    assert case.atlas_techniques == ["AML.T0051.000", "AML.T0054"]
    page = env.page(f"/cases/{cid}").text
    assert "prompt-injection: AML.T0051.000, AML.T0054" in page
    bad = env.form("/cases", {"title": "x", "atlas_techniques": "T0054"})
    assert bad.status_code == 422 and "atlas_techniques" in bad.text
