"""Importing a report.json into a case: verified strictly first (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jbgrade import ReportIntegrityError
from jbgrade.assess import AssessmentReport, PolicyDecider, assess_case, import_report, load_case
from jbgrade.reports import write_assessment_reports
from tests.registry.conftest import World

CASE = Path(__file__).parents[1] / "assess" / "data" / "case.yaml"


@pytest.fixture(scope="module")
def report_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    r = assess_case(load_case(CASE), PolicyDecider(["us-export", "lab-frontier"]))
    out = tmp_path_factory.mktemp("rep")
    return write_assessment_reports(r, out, html=False, pdf=False).paths["json"].read_bytes()


def test_import_stores_assessment_and_decisions(world: World, report_bytes: bytes) -> None:
    reg, lab = world.reg, world.u("lab", "assessor")
    case = reg.report_case(lab, title="Imported", owning_org_id=world.lab)
    view, decisions = import_report(reg, lab, case.id, report_bytes)
    rep = AssessmentReport.model_validate_json(report_bytes)
    assert view.vector == rep.vector
    assert [d.action for d in decisions] == [
        pd.decision.action for pd in rep.decisions if pd.decision
    ]


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("grade", "score"), 0.1, "grade.score"),
        (("decisions", 0, "decision", "action"), "none", "decisions[0].decision.action"),
        (
            ("decisions", 1, "decision", "obligations", 0, "due"),
            "2031-01-01",
            "decisions[1].decision.obligations[0].due",
        ),
    ],
)
def test_tampered_report_is_refused_and_nothing_stored(
    world: World, report_bytes: bytes, path: tuple[str | int, ...], value: object, field: str
) -> None:
    data = json.loads(report_bytes)
    x = data
    for p in path[:-1]:
        x = x[p]
    x[path[-1]] = value
    reg, lab = world.reg, world.u("lab", "assessor")
    case = reg.report_case(lab, title="Tampered", owning_org_id=world.lab)
    with pytest.raises(ReportIntegrityError) as err:
        import_report(reg, lab, case.id, json.dumps(data).encode())
    assert err.value.field == field
    assert reg.list_assessments(lab, case.id) == []
