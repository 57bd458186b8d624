"""Issue 14: `jbgrade case list | show` flag overdue and due-soon obligations."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from tests.cli.test_rubric_cli import assert_one_line_error, run

pytest.importorskip("sqlalchemy")

VECTOR = "JBG:1.1/LY:F/UN:D/RL:H/TR:F/HD:W/UP:F/CG:S/AG:T/AC:L/AU:Y/EX:P/RE:W/ST:P"


def _registry(tmp: Path) -> tuple[str, str]:
    """A file registry with one assessed case and a recorded decision; (url, case id)."""
    from jbgrade.registry import Keyring, Registry, make_engine, upgrade

    url = f"sqlite:///{tmp / 'r.db'}"
    eng = make_engine(url)
    upgrade(eng)
    reg = Registry(eng, Keyring.generate())
    admin, _ = reg.bootstrap("Operator", "root")
    lab = reg.create_org(admin, "Frontier Lab", kind="lab").id
    reg.create_user(admin, lab, "lab-assessor", "assessor")
    actor = reg.operator("lab-assessor")
    case = reg.report_case(actor, title="Persona jailbreak " * 8, owning_org_id=lab)
    reg.add_assessment(actor, case.id, VECTOR)
    reg.decide(actor, case.id, "lab-frontier")
    eng.dispose()
    return url, case.id


def test_case_show_and_list_flag_overdue_and_due_soon(tmp_path: Path) -> None:
    url, cid = _registry(tmp_path)
    show = run("case", "show", cid, "--db", url, "--as", "lab-assessor", "--json")
    assert show.returncode == 0, show.stderr
    data = json.loads(show.stdout)
    obs = [o for d in data["decisions"] for o in d["obligations"]]
    assert obs, "the decision under lab-frontier has obligations"
    first = dt.date.fromisoformat(min(o["due"] for o in obs))
    last = dt.date.fromisoformat(max(o["due"] for o in obs))
    # Before everything: nothing overdue; the day after the last deadline: all overdue.
    early = json.loads(
        run(
            "case",
            "show",
            cid,
            "--db",
            url,
            "--as",
            "lab-assessor",
            "--json",
            "--on",
            (first - dt.timedelta(days=30)).isoformat(),
        ).stdout
    )
    assert {o["status"] for d in early["decisions"] for o in d["obligations"]} == {"pending"}
    after = (last + dt.timedelta(days=1)).isoformat()
    late = run("case", "show", cid, "--db", url, "--as", "lab-assessor", "--on", after)
    assert late.returncode == 0, late.stderr
    n = len(obs)
    assert f"OVERDUE: {n} obligation{'s' if n != 1 else ''} past due" in late.stdout
    assert late.stdout.count(" OVERDUE  ") == n
    assert all(len(line) <= 80 for line in late.stdout.splitlines())
    soon = run("case", "show", cid, "--db", url, "--as", "lab-assessor", "--on", first.isoformat())
    assert " due soon  " in soon.stdout and "OVERDUE" not in soon.stdout
    lst = run("case", "list", "--db", url, "--as", "lab-assessor", "--on", after)
    assert lst.returncode == 0, lst.stderr
    assert f"{first.isoformat()} OVERDUE" in lst.stdout and cid in lst.stdout
    assert all(len(line) <= 80 for line in lst.stdout.splitlines())
    rows = json.loads(run("case", "list", "--db", url, "--as", "lab-assessor", "--json").stdout)
    assert rows[0]["id"] == cid and rows[0]["next_due"]["due"] == first.isoformat()


def test_case_show_refuses_a_bad_date_and_an_unknown_case(tmp_path: Path) -> None:
    url, cid = _registry(tmp_path)
    assert_one_line_error(
        run("case", "show", cid, "--db", url, "--as", "lab-assessor", "--on", "soon"), "--on"
    )
    p = run("case", "show", "case_nope", "--db", url, "--as", "lab-assessor")
    assert p.returncode != 0 and len(p.stderr.splitlines()) == 1 and "Traceback" not in p.stderr
