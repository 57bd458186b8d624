"""``jbgrade export FORMAT --case ID``: a registry case, read with the registry's own
checks (organisation, embargo); payloads only on request, when permitted."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from tests.cli.test_rubric_cli import assert_one_line_error, run

pytest.importorskip("sqlalchemy")

GOV = "JBG:1.0/LY:F/UN:D/RL:M/TR:F/HD:W/UP:F/AG:T/AC:L/AU:Y/EX:P/ST:P"
LAB = "JBG:1.0/LY:F/UN:N/RL:M/TR:F/HD:W/UP:P/AG:T/AC:M/AU:Y/EX:P/ST:U"
PAYLOAD = "SYNTHETIC-CANARY-PAYLOAD-7f3e"
DECISION = {
    "action": "restrict_export",
    "obligations": [
        {"id": "notify-bis", "party": "Developer -> BIS", "what": "notify", "due": "2026-06-19"}
    ],
    "fired_rules": [{"id": "r1"}],
    "near_misses": [],
    "provisional": False,
    "profile": "us-export",
    "profile_version": "2.0.0",
    "bundle_sha256": "ab" * 32,
}


@pytest.fixture(scope="module")
def reg_case(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    from jbgrade.registry import Keyring, Registry, make_engine, upgrade

    d = tmp_path_factory.mktemp("reg")
    url = f"sqlite:///{d / 'reg.db'}"
    key = d / "keys"
    ring = Keyring.load_or_create(key)
    engine = make_engine(url)
    upgrade(engine)
    reg = Registry(engine, ring)
    admin, _ = reg.bootstrap("Registry operator", "root")
    lab = reg.create_org(admin, "Fablewright AI", kind="lab").id
    gov = reg.create_org(admin, "AI evaluation office", kind="government").id
    other = reg.create_org(admin, "Unrelated lab", kind="lab").id
    lab_user = Registry.actor_of(reg.create_user(admin, lab, "lab-assessor", "assessor"))
    gov_user = Registry.actor_of(reg.create_user(admin, gov, "gov-assessor", "assessor"))
    stranger = Registry.actor_of(reg.create_user(admin, other, "stranger", "assessor"))
    open_case = reg.report_case(
        lab_user,
        title="Persona jailbreak",
        affected_models=["fable-5", "fable-5-mini"],
        affected_vendors=["Fablewright AI"],
        payload=PAYLOAD,
    )
    embargoed = reg.report_case(
        lab_user,
        title="Embargoed jailbreak",
        affected_models=["fable-5"],
        payload=PAYLOAD,
        embargo_until=datetime.now(UTC) + timedelta(days=30),
    )
    reg.grant_access(lab_user, open_case.id, gov)
    reg.add_assessment(lab_user, open_case.id, LAB, rationales={"UN": "narrow"})
    gov_a = reg.add_assessment(gov_user, open_case.id, GOV, rationales={"UP": "annex R-7"})
    reg.record_decision(lab_user, open_case.id, DECISION, assessment_id=gov_a.id)
    reg.add_assessment(lab_user, embargoed.id, LAB)
    engine.dispose()
    return {
        "url": url,
        "key": str(key),
        "case": open_case.id,
        "embargoed": embargoed.id,
        "lab": reg.issue_token(lab_user).token.get_secret_value(),
        "gov": reg.issue_token(gov_user).token.get_secret_value(),
        "stranger": reg.issue_token(stranger).token.get_secret_value(),
    }


def _export(r: dict[str, str], fmt: str, case: str, token: str, *extra: str) -> str:
    p = run("export", fmt, "--case", case, "--db", r["url"], "--token", token, *extra)
    assert p.returncode == 0, p.stderr
    return p.stdout


@pytest.mark.parametrize("fmt", ["sarif", "stix", "csaf", "avid", "atlas", "jef"])
def test_case_export_carries_the_highest_current_assessment(
    reg_case: dict[str, str], fmt: str
) -> None:
    text = _export(reg_case, fmt, reg_case["case"], reg_case["gov"])
    assert reg_case["case"] in text
    assert GOV in text  # the government's assessment scores higher than the lab's
    assert PAYLOAD not in text
    doc = yaml.safe_load(text) if fmt == "atlas" else json.loads(text)
    assert doc
    # the decision recorded on that assessment, with its obligation, round-trips
    assert "restrict_export" in text and "notify-bis" in text and "2026-06-19" in text


def test_party_picks_an_assessment(reg_case: dict[str, str]) -> None:
    doc = json.loads(
        _export(reg_case, "sarif", reg_case["case"], reg_case["gov"], "--party", "Fablewright AI")
    )
    assert doc["runs"][0]["properties"]["jbg"]["vector"] == LAB
    p = run(
        "export",
        "sarif",
        "--case",
        reg_case["case"],
        "--db",
        reg_case["url"],
        "--token",
        reg_case["gov"],
        "--party",
        "Nobody",
    )
    assert_one_line_error(p, "no current assessment by 'Nobody'")


def test_other_organisations_see_what_the_registry_lets_them(reg_case: dict[str, str]) -> None:
    """Another organisation may read an open case's metadata (the registry's rule), not an
    embargoed case (not found, existence not leaked), and never its payload."""
    base = ("--db", reg_case["url"], "--token", reg_case["stranger"])
    assert reg_case["case"] in _export(reg_case, "stix", reg_case["case"], reg_case["stranger"])
    p = run("export", "stix", "--case", reg_case["embargoed"], *base)
    assert p.returncode != 0 and "Traceback" not in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1 and "not found" in p.stderr
    p = run(
        "export", "stix", "--case", reg_case["case"], *base,
        "--include-payload", "--key-file", reg_case["key"],
    )  # fmt: skip
    assert p.returncode != 0 and len(p.stderr.strip().splitlines()) == 1
    assert PAYLOAD not in p.stdout + p.stderr


def test_payload_only_when_asked_permitted_and_not_embargoed(reg_case: dict[str, str]) -> None:
    key = ("--key-file", reg_case["key"])
    text = _export(reg_case, "stix", reg_case["case"], reg_case["lab"], "--include-payload", *key)
    ext = next(o for o in json.loads(text)["objects"] if o["type"] == "vulnerability")
    assert next(iter(ext["extensions"].values()))["payload"] == PAYLOAD
    p = run(
        "export", "stix", "--case", reg_case["embargoed"], "--db", reg_case["url"],
        "--token", reg_case["lab"], "--include-payload", *key,
    )  # fmt: skip
    assert_one_line_error(p, "under embargo")
    assert PAYLOAD not in p.stdout


def test_case_input_errors(reg_case: dict[str, str], tmp_path: Path) -> None:
    assert_one_line_error(run("export", "sarif", "--case", reg_case["case"]), "token")
    assert_one_line_error(run("export", "sarif"), "give a report.json")
    rp = tmp_path / "r.json"
    rp.write_text("{}", encoding="utf-8")
    assert_one_line_error(run("export", "sarif", str(rp), "--include-payload"), "need --case")
    assert_one_line_error(run("export", "sarif", str(rp), "--case", reg_case["case"]), "not both")


def test_case_exports_carry_the_attack_kind_and_atlas_ids_stored_on_the_case(
    tmp_path: Path,
) -> None:
    from jbgrade.interop import case_report, export_report, report_atlas
    from jbgrade.registry import Keyring, Registry, make_engine, upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'r.db'}")
    upgrade(engine)
    reg = Registry(engine, Keyring.generate())
    admin, _ = reg.bootstrap("Registry operator", "root")
    org = reg.create_org(admin, "Fablewright AI", kind="lab").id
    lab = Registry.actor_of(reg.create_user(admin, org, "lab-assessor", "assessor"))
    c = reg.report_case(
        lab,
        title="Injected instructions",
        attack_kind="prompt-injection",
        atlas_techniques=["AML.T0051.001"],
    )
    reg.add_assessment(lab, c.id, LAB)
    rep = case_report(reg, lab, c.id)
    assert rep["case"]["jailbreak"]["attack"]["atlas"] == ["AML.T0051.001"]
    ids = report_atlas(rep)
    # the stored id first, then AML.T0054 (always) and the kind table's injection ids
    assert ids[0] == "AML.T0051.001" and {"AML.T0054", "AML.T0051"} <= set(ids)
    stix = export_report("stix", rep)
    refs = {
        r.get("external_id")
        for o in stix["objects"]
        for r in o.get("external_references", [])
        if r.get("source_name") == "mitre-atlas"
    }
    assert "AML.T0051.001" in refs
    assert "AML.T0051.001" in json.dumps(export_report("atlas", rep))
    plain = reg.report_case(lab, title="No attack details")
    reg.add_assessment(lab, plain.id, LAB)
    assert report_atlas(case_report(reg, lab, plain.id)) == ["AML.T0054"]
    engine.dispose()
