"""Rendering: answer first, self-contained HTML, PDF, JSON valid against its schema."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import jsonschema
import pytest

from jbgrade.assess import (
    CampaignInfo,
    EvidenceView,
    MeasuredValue,
    RateRow,
    TargetInfo,
    TransferCell,
    assess_case,
    dispute,
    dispute_side,
    load_case,
)
from jbgrade.cli._schema import load_schema
from tests.assess.test_dispute_algorithm import TableDecider

pytest.importorskip("altair")
pytest.importorskip("vl_convert")

CASE = Path(__file__).resolve().parents[1] / "assess" / "data" / "case.yaml"
EXTERNAL = re.compile(r"""(?:src|href|url)\s*[=(]\s*["']?(?:https?:|//)""", re.I)


def evidence() -> EvidenceView:
    targets = [
        TargetInfo(id="t1", model="model-a", vendor="Vendor A", layers=["system_prompt"]),
        TargetInfo(id="t2", model="model-b", vendor="Vendor B"),
    ]
    rates = [
        RateRow(target=t, domain=d, arm=arm, successes=k, n=20, rate=k / 20, low=0.0, high=1.0)
        for t in ("t1", "t2")
        for d in ("G", "S", "W", "C")
        for arm, k in (("attack", 12 if d != "C" else 1), ("baseline", 1))
    ]
    transfer = [
        TransferCell(target=t, column=d, adjusted=0.55 if d != "C" else 0.0, affected=d != "C")
        for t in ("t1", "t2")
        for d in ("G", "S", "W", "C")
    ]
    derived = {"RL": MeasuredValue(value="H", rule="M-RL", summary="r = 0.55 > 0.50")}
    return EvidenceView(
        campaign="c-test",
        attempts=320,
        errors=2,
        targets=targets,
        rates=rates,
        transfer=transfer,
        derived=derived,
    )


def make_report(ev: EvidenceView | None = None, status: str = "complete"):  # type: ignore[no-untyped-def]
    text = CASE.read_text() + "campaign: {spec: {}}\n"
    lc = load_case(CASE, text=text)

    def measure(_lc, d):  # type: ignore[no-untyped-def]
        return CampaignInfo(status=status, directory=str(d), message="target died"), ev

    return assess_case(lc, TableDecider(), campaign_dir=Path("camp"), measure=measure)


def test_json_validates_and_conflict_is_kept(tmp_path: Path) -> None:
    from jbgrade.reports import write_assessment_reports

    r = make_report(evidence())
    w = write_assessment_reports(r, tmp_path, html=False, pdf=False)
    data = json.loads(w.paths["json"].read_text())
    jsonschema.validate(data, load_schema("report"))
    jsonschema.validate(data["grade"], load_schema("grade"))
    rl = next(m for m in data["metrics"] if m["metric"] == "RL")
    assert rl["conflict"] and rl["hand"]["value"] == "M" and rl["measured"]["value"] == "H"
    assert rl["used"] == "H"
    assert data["conflicts"] == ["RL"]
    assert data["complete"] is True
    # The payload's content never reaches a report, only its name and hash.
    assert "SYNTHETIC PLACEHOLDER PAYLOAD" not in w.paths["json"].read_text()


def test_html_leads_with_the_answer_and_is_self_contained(tmp_path: Path) -> None:
    from jbgrade.reports import write_assessment_reports

    r = make_report(evidence())
    w = write_assessment_reports(r, tmp_path, pdf=False)
    html = w.paths["html"].read_text()
    assert not EXTERNAL.search(html), EXTERNAL.search(html)
    assert "<link" not in html and "<script" not in html
    sev = r.grade["severity"]
    first = html.index(f'<div class="label">{sev}</div>')
    now = html.index("What must happen now")
    why = html.index(">Why<")
    reasons = html.index('id="reasons"')
    details = html.index('id="details"')
    assert first < now < why < reasons < details
    for d in r.decisions:
        assert d.decision is not None
        assert d.profile in html[:reasons]
    assert html.count("<svg") == 3  # criterion levels, success per domain, transfer
    assert "SYNTHETIC PLACEHOLDER PAYLOAD" not in html


def test_incomplete_report_is_marked(tmp_path: Path) -> None:
    from jbgrade.reports import write_assessment_reports

    r = make_report(evidence(), status="failed")
    assert not r.complete
    assert "target died" in r.incomplete[0]
    w = write_assessment_reports(r, tmp_path, pdf=False)
    html = w.paths["html"].read_text()
    assert "INCOMPLETE REPORT" in html
    assert html.index("INCOMPLETE REPORT") < html.index("What must happen now")


def test_pdf(tmp_path: Path) -> None:
    pytest.importorskip("weasyprint")
    from jbgrade.reports import write_assessment_reports

    w = write_assessment_reports(make_report(evidence()), tmp_path)
    pdf = w.paths["pdf"].read_bytes()
    assert pdf.startswith(b"%PDF-") and len(pdf) > 20_000


def test_dispute_html(tmp_path: Path) -> None:
    from jbgrade.reports import write_dispute_reports

    a = dispute_side(load_case(CASE))
    text = (
        CASE.read_text()
        .replace("HD: {value: W", "HD: {value: S")
        .replace("UN: {value: N", "UN: {value: U")
    )
    b = dispute_side(load_case(CASE, text=text))
    rec = dispute(a, b, TableDecider())
    w = write_dispute_reports(rec, tmp_path, pdf=False)
    html = w.paths["html"].read_text()
    assert not EXTERNAL.search(html)
    assert "Smallest agreement" in html and "HD" in html and "UN" in html
    data = json.loads(w.paths["json"].read_text())
    jsonschema.validate(data, load_schema("reconciliation"))
    assert data["parties"][0]["aware_on"] == date(2026, 6, 11).isoformat()
