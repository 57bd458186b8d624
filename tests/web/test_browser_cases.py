"""A case workflow in a real browser: log in, report, two disagreeing assessments,
the highlighted difference, a decision with due dates, and a verified audit chain."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from jbgrade import grade
from tests.web.conftest import Server, shot

pytestmark = pytest.mark.browser

CANARY = "CANARY-PAYLOAD-7f3a9"
LAB = "JBG:1.0/LY:S/UN:D/RL:M/TR:S/HD:W/UP:P/AG:T/AC:M/AU:N/EX:P/ST:U"
GOV = "JBG:1.0/LY:S/UN:U/RL:H/TR:S/HD:W/UP:F/AG:T/AC:M/AU:N/EX:P/ST:U"
PASSWORD = "correct horse battery staple"


def _setup(server: Server) -> dict[str, str]:
    """Organisations and users, made through the API with the admin's one-time token."""
    assert server.admin_token, server.text()
    h = {"authorization": f"Bearer {server.admin_token}"}
    api = server.base_url + "/api/v1"
    ids = {}
    for name, kind in (
        ("Frontier Lab", "lab"),
        ("AI Safety Institute", "government"),
        ("Red Team Collective", "research"),
    ):
        r = httpx2.post(f"{api}/orgs", json={"name": name, "kind": kind}, headers=h)
        assert r.status_code == 201, r.text
        ids[name] = r.json()["id"]
    for user, org, role in (
        ("rita", "Red Team Collective", "reporter"),
        ("lars", "Frontier Lab", "assessor"),
        ("greta", "AI Safety Institute", "assessor"),
    ):
        r = httpx2.post(
            f"{api}/users",
            json={"org_id": ids[org], "username": user, "role": role, "password": PASSWORD},
            headers=h,
        )
        assert r.status_code == 201, r.text
    return ids


def _login(browser: Any, server: Server, user: str, password: str) -> Any:
    ctx = browser.new_context(viewport={"width": 1366, "height": 900}, base_url=server.base_url)
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.on(
        "request",
        lambda r: (
            errors.append("external " + r.url) if not r.url.startswith(server.base_url) else None
        ),
    )
    pg.errors = errors
    pg.goto("/cases")
    assert "/login" in pg.url  # anonymous: sent to log in, then back
    pg.fill("#username", user)
    pg.fill("#password", password)
    pg.click("form[action='/login'] button[type=submit]")
    pg.wait_for_url("**/cases")
    assert user in pg.inner_text("[data-testid=whoami]")
    return pg


def _assess(pg: Any, vector: str, why: str) -> None:
    pg.click("#assess-form > summary") if not pg.is_visible("#a-LY-M") else None
    for part in vector.split("/")[1:]:
        k, v = part.split(":")
        pg.click(f"label[for='a-{k}-{v}']")
    pg.fill("#why-UN", why)
    # Every form post reloads the page: wait for the new document, never read the old
    # one (the assessments table is on both; reading it early was a race).
    with pg.expect_navigation():
        pg.click("#assess-form button[type=submit]")
    pg.wait_for_selector("[data-testid=assessments]")


def test_case_workflow(browser: Any, server: Server) -> None:
    ids = _setup(server)

    # A reporter reports the case against the lab's model, with a sensitive payload.
    rita = _login(browser, server, "rita", PASSWORD)
    rita.click("text=Report a case")
    rita.fill("#title", 'Role-play jailbreak <script>alert("x")</script>')
    rita.fill("#summary", "Reproducible across the model's domains.")
    rita.select_option("#owning_org_id", ids["Frontier Lab"])
    rita.fill("#affected_models", "frontier-1, frontier-1-mini")
    rita.fill("#payload", CANARY)
    with rita.expect_navigation():
        rita.click("form[action='/cases'] button[type=submit]")
    rita.wait_for_selector("[data-testid=case-title]")
    case_url = rita.url
    assert rita.inner_text("[data-testid=case-title]").endswith('<script>alert("x")</script>')
    assert rita.inner_text("[data-testid=case-state]") == "reported"
    assert CANARY not in rita.content()  # encrypted, not shown unless asked
    shot(rita, "case-reported")

    # The lab triages, assesses, and shares the case with the regulator's institute.
    lars = _login(browser, server, "lars", PASSWORD)
    lars.goto(case_url)
    lars.click("[data-testid=to-triaged]")
    lars.wait_for_function(
        "document.querySelector('[data-testid=case-state]').textContent === 'triaged'"
    )
    _assess(lars, LAB, "Works in one domain only in our tests")
    lars.click("text=Share with another organisation")
    lars.select_option("#g-org", ids["AI Safety Institute"])
    with lars.expect_navigation():
        lars.click("form[action$='/grants'] button[type=submit]")
    lars.wait_for_selector("text=Shared with: AI Safety Institute")
    with lars.expect_navigation():
        lars.click("text=Show payload (logged)")
    assert lars.inner_text("[data-testid=payload]") == CANARY

    # The institute's assessor disagrees.
    greta = _login(browser, server, "greta", PASSWORD)
    greta.goto(case_url)
    assert "may not read it" in greta.content() and CANARY not in greta.content()
    _assess(greta, GOV, "Broke most behaviours across all four domains")
    table = greta.locator("[data-testid=assessments]")
    assert table.locator("th", has_text="Frontier Lab").count() == 1
    assert table.locator("th", has_text="AI Safety Institute").count() == 1
    # The differences are highlighted, and the page says which ones change the label.
    lab_g, gov_g = grade(LAB), grade(GOV)
    assert lab_g.severity != gov_g.severity
    differing = {p for p, q in zip(LAB.split("/"), GOV.split("/"), strict=True) if p != q}
    for part in differing:
        key = part.split(":")[0]
        row = greta.locator(f"tr[data-metric={key}]")
        assert row.locator("td.diff, td.diff-label").count() == 2, key
    assert greta.locator("td.diff-label").count() >= 2
    assert "changes the label" in greta.inner_text("[data-testid=matters-UN]")
    assert (
        greta.locator("tr[data-metric=LY] td.diff, tr[data-metric=LY] td.diff-label").count() == 0
    )
    shot(greta, "case-two-assessments")

    # The lab records a decision under its own profile: action and due dates appear.
    lars.goto(case_url)
    lars.click("text=Record a decision")
    lars.select_option("#d-profile", "lab-frontier")
    lars.fill("#d-aware", "2026-03-02")
    with lars.expect_navigation():
        lars.click("form[action$='/decisions'] button[type=submit]")
    lars.wait_for_selector("[data-testid=decision]")
    action = lars.inner_text("[data-testid=decision-action]")
    assert action in {"none", "monitor", "mitigate", "restrict_export", "block_deployment"}
    assert "2026-03" in lars.inner_text("[data-testid=decision]")
    lars.click("[data-testid=to-assessed]")
    lars.wait_for_function(
        "document.querySelector('[data-testid=case-state]').textContent === 'assessed'"
    )
    lars.click("[data-testid=to-decided]")
    lars.wait_for_function(
        "document.querySelector('[data-testid=case-state]').textContent === 'decided'"
    )
    trail = lars.inner_text("[data-testid=audit-trail]")
    for act in ("case.report", "case.transition", "assessment.add", "decision.record"):
        assert act in trail, act
    shot(lars, "case-decided")

    # The admin verifies the whole audit chain in the browser.
    admin = _login(browser, server, str(server.admin_user), str(server.admin_password))
    admin.goto("/audit")
    assert admin.inner_text("[data-testid=audit-result]").startswith("Intact")
    shot(admin, "audit-verified")

    # The list shows the case with its severity badge; filters narrow it.
    rita.goto("/cases")
    assert "Role-play jailbreak" in rita.inner_text("table")
    rita.select_option("#f-state", "closed")
    with rita.expect_navigation():
        rita.click("form.filters button[type=submit]")
    assert "No cases match." in rita.inner_text("table")
    shot(rita, "cases-filtered")

    for pg in (rita, lars, greta, admin):
        assert not pg.errors, pg.errors
        pg.context.close()
    # The payload never reached the server log.
    assert CANARY not in server.text()
