"""``jbgrade dispute --db URL --case ID``: the two parties' assessments from the registry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.test_rubric_cli import assert_one_line_error, run

pytest.importorskip("sqlalchemy")

LAB = "JBG:1.0/LY:F/UN:N/RL:M/TR:F/HD:W/UP:P/AG:T/AC:M/AU:Y/EX:P/ST:U"
GOV = "JBG:1.0/LY:F/UN:D/RL:M/TR:F/HD:W/UP:F/AG:T/AC:L/AU:Y/EX:P/ST:P"


@pytest.fixture(scope="module")
def registry_case(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str, str]:
    from jbgrade.registry import Registry, make_engine, upgrade

    url = f"sqlite:///{tmp_path_factory.mktemp('reg') / 'reg.db'}"
    engine = make_engine(url)
    upgrade(engine)
    reg = Registry(engine)
    admin, _ = reg.bootstrap("Registry operator", "root")
    lab = reg.create_org(admin, "Fablewright AI", kind="lab").id
    gov = reg.create_org(admin, "AI evaluation office", kind="government").id
    lab_user = Registry.actor_of(reg.create_user(admin, lab, "lab-assessor", "assessor"))
    gov_user = Registry.actor_of(reg.create_user(admin, gov, "gov-assessor", "assessor"))
    case = reg.report_case(lab_user, title="Persona jailbreak", affected_models=["fable-5"])
    reg.grant_access(lab_user, case.id, gov)
    reg.add_assessment(lab_user, case.id, LAB, rationales={"UN": "narrow in our replay"})
    reg.add_assessment(gov_user, case.id, GOV, rationales={"UP": "actionable steps in annex R-7"})
    token = reg.issue_token(gov_user).token.get_secret_value()
    return url, case.id, token


def test_dispute_from_the_registry(registry_case: tuple[str, str, str], tmp_path: Path) -> None:
    url, case_id, token = registry_case
    ctx = tmp_path / "ctx.yaml"
    ctx.write_text("weights: closed\ntraining_compute_flop: 3.0e+26\ncapability_tier: high\n")
    p = run(
        "dispute",
        "--db",
        url,
        "--case",
        case_id,
        "--token",
        token,
        "--context",
        str(ctx),
        "--aware-on",
        "2026-06-11",
        "--json",
    )
    assert p.returncode == 0, p.stderr
    rec = json.loads(p.stdout)
    assert rec["case_id"] == case_id
    assert [x["organisation"] for x in rec["parties"]] == ["Fablewright AI", "AI evaluation office"]
    assert rec["unchanged"] == ["AC", "ST"]
    un = next(d for d in rec["differences"] if d["item"] == "UN")
    assert un["a"]["rationale"] == "narrow in our replay"
    us = next(c for c in rec["profiles"] if c["profile"] == "us-export")
    assert (us["action_a"], us["action_b"]) == ("monitor", "restrict_export")


def test_registry_bad_input(registry_case: tuple[str, str, str]) -> None:
    url, case_id, token = registry_case
    assert_one_line_error(run("dispute", "--db", url, "--case", case_id), "token")
    p = run(
        "dispute",
        "--db",
        url,
        "--case",
        case_id,
        "--token",
        token,
        "--party",
        "Nobody",
        "--party",
        "Fablewright AI",
    )
    assert_one_line_error(p, "no current assessment by 'Nobody'")
    assert_one_line_error(run("dispute"), "give two case files")


def test_store_on_the_case(registry_case: tuple[str, str, str]) -> None:
    from jbgrade.registry import Registry, make_engine

    url, case_id, token = registry_case
    args = ("dispute", "--db", url, "--case", case_id, "--token", token, "--store")
    p = run(*args, "--profile", "us-export", "--json")
    assert p.returncode == 0, p.stderr
    rec = json.loads(p.stdout)  # stdout stays one JSON document; the id goes to stderr
    stored_id = p.stderr.strip().split()[2]
    assert p.stderr.strip() == f"Stored as {stored_id} on case {case_id}"
    p = run(*args, "--profile", "us-export")
    assert p.returncode == 0, p.stderr
    second_id = p.stdout.strip().splitlines()[-1].split()[2]
    engine = make_engine(url)
    reg = Registry(engine)
    try:
        actor = reg.authenticate_token(token)
        stored = reg.list_reconciliations(actor, case_id)
        assert [s.id for s in stored][-2:] == [stored_id, second_id]
        assert stored[-2].record == rec
        assert reg.verify_audit().ok
    finally:
        engine.dispose()


def test_store_needs_the_case() -> None:
    assert_one_line_error(run("dispute", "a.yaml", "b.yaml", "--store"), "--store needs --case")
