"""Rendering: answer first, self-contained HTML, PDF, JSON valid against its schema."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from jbgrade.assess import dispute, side_from_report
from jbgrade.cli._schema import load_schema
from jbgrade.reports import write_assessment_reports, write_dispute_reports
from tests.assess.demo import Demo

pytest.importorskip("altair")
pytest.importorskip("vl_convert")

EXTERNAL = re.compile(r"""(?:src|href|url)\s*[=(]\s*["']?(?:https?:|//)""", re.I)


def test_json_validates(demo: Demo, tmp_path: Path) -> None:
    w = write_assessment_reports(demo.lab_report, tmp_path, html=False, pdf=False)
    text = w.paths["json"].read_text()
    jsonschema.validate(json.loads(text), load_schema("report"))
    # The payload's content never reaches a report, only its name and hash.
    payload = (demo.cases / "payload.txt").read_text().splitlines()[0]
    assert payload not in text


def test_html_leads_with_the_answer_and_is_self_contained(demo: Demo, tmp_path: Path) -> None:
    r = demo.regulator_report
    w = write_assessment_reports(r, tmp_path, pdf=False)
    html = w.paths["html"].read_text()
    assert not EXTERNAL.search(html), EXTERNAL.search(html)
    assert "<link" not in html and "<script" not in html
    sev = r.grade.severity
    first = html.index(f'<div class="label">{sev}</div>')
    now = html.index("What must happen now")
    why = html.index(">Why<")
    reasons = html.index('id="reasons"')
    details = html.index('id="details"')
    assert first < why < now < reasons < details
    answer = html[:reasons]
    for d in r.decisions:
        assert d.decision is not None
        assert d.profile in answer
        assert d.decision.obligations[0].due.isoformat() in answer
    assert "restrict_export" in answer  # the action id: one spelling everywhere
    assert html.count("<svg") == 3  # criterion levels, success per domain, transfer
    payload = (demo.cases / "payload.txt").read_text().splitlines()[0]
    assert payload not in html


def test_incomplete_report_is_marked(demo: Demo, tmp_path: Path) -> None:
    r = demo.lab_report.model_copy(
        update={"complete": False, "incomplete": ["campaign failed: target died"]}
    )
    html = write_assessment_reports(r, tmp_path, pdf=False).paths["html"].read_text()
    assert "INCOMPLETE REPORT" in html
    assert html.index("INCOMPLETE REPORT") < html.index("What must happen now")


def test_a_profile_that_could_not_decide_is_shown_not_fatal(demo: Demo, tmp_path: Path) -> None:
    # assess keeps the other profiles when one fails (e.g. a context value it refuses);
    # the report must then say so, not crash while rendering.
    first, *rest = demo.lab_report.decisions
    failed = first.model_copy(
        update={"decision": None, "error": "context.designated: True is not one of no, yes"}
    )
    r = demo.lab_report.model_copy(update={"decisions": [failed, *rest], "complete": False})
    html = write_assessment_reports(r, tmp_path, pdf=False).paths["html"].read_text()
    assert "No decision: context.designated: True is not one of no, yes" in html
    for d in rest:
        assert d.profile in html


def test_pdf(demo: Demo, tmp_path: Path) -> None:
    pytest.importorskip("weasyprint")
    w = write_assessment_reports(demo.regulator_report, tmp_path)
    pdf = w.paths["pdf"].read_bytes()
    assert pdf.startswith(b"%PDF-") and len(pdf) > 20_000


def test_dispute_html(demo: Demo, tmp_path: Path) -> None:
    rec = dispute(
        side_from_report(demo.lab_report), side_from_report(demo.regulator_report), demo.decider
    )
    w = write_dispute_reports(rec, tmp_path, pdf=False)
    html = w.paths["html"].read_text()
    assert not EXTERNAL.search(html)
    assert "Smallest agreement" in html and "Stop arguing about:" not in html  # none in 1.1
    assert "Decision table for us-export" in html
    jsonschema.validate(json.loads(w.paths["json"].read_text()), load_schema("reconciliation"))


def test_evidence_charts_from_a_stored_evidence_record(demo: Demo) -> None:
    from jbgrade.evidence import load_campaign_evidence
    from jbgrade.reports import evidence_charts

    stored = load_campaign_evidence(demo.campaign).model_dump(
        mode="json"
    )  # as the registry keeps it
    charts = evidence_charts(stored)
    assert [c.id for c in charts] == ["success", "transfer"]
    assert all(c.svg.startswith("<svg") and "fable-5" in c.alt for c in charts)


def test_overdue_and_due_soon_obligations_are_flagged(demo: Demo, tmp_path: Path) -> None:
    """Issue 14: a report made after a deadline says OVERDUE (HTML, PDF source, JSON)."""
    from datetime import timedelta

    from jbgrade.assess import deadlines_of, read_report, seal_report, verify_report

    r = demo.regulator_report
    dues = sorted(o.due for d in r.decisions if d.decision for o in d.decision.obligations)
    assert len(set(dues)) >= 2
    # Made the day after the first deadline: that one is overdue, later ones are not.
    day = dues[0] + timedelta(days=1)
    at = r.generated_at.replace(year=day.year, month=day.month, day=day.day)
    late = r.model_copy(update={"generated_at": at, "deadlines": deadlines_of(r.decisions, day)})
    late = seal_report(late)
    assert {x.status for x in late.deadlines if x.due == dues[0]} == {"overdue"}
    assert all(x.days_left == (x.due - day).days for x in late.deadlines)
    assert all(x.status != "overdue" for x in late.deadlines if x.due >= day)
    w = write_assessment_reports(late, tmp_path, pdf=False)
    html = w.paths["html"].read_text()
    now = html[html.index("What must happen now") : html.index('id="reasons"')]
    n = sum(x.status == "overdue" for x in late.deadlines)
    assert f'<span class="overdue">OVERDUE</span> {n} obligation' in now
    assert f'{dues[0].isoformat()}</span> <span class="overdue">OVERDUE</span>' in now
    if any(x.status == "due_soon" for x in late.deadlines):
        assert '<span class="due-soon">due soon</span>' in now
    data = json.loads(w.paths["json"].read_text())
    jsonschema.validate(data, load_schema("report"))
    assert [d["status"] for d in data["deadlines"]] == [x.status for x in late.deadlines]
    # Derived, so verified by recomputation; a report made before the field still verifies.
    back = read_report(w.paths["json"])
    verify_report(back)
    verify_report(back.model_copy(update={"deadlines": []}))
    forged = [x.model_copy(update={"status": "pending"}) for x in back.deadlines]
    with pytest.raises(Exception, match="deadlines"):
        verify_report(back.model_copy(update={"deadlines": forged}))
    # On time: nothing is flagged.
    d0 = dues[0]
    early = r.model_copy(
        update={
            "generated_at": r.generated_at.replace(year=d0.year, month=d0.month, day=d0.day),
            "deadlines": deadlines_of(r.decisions, d0),
        }
    )
    html = write_assessment_reports(early, tmp_path / "e", pdf=False).paths["html"].read_text()
    assert "OVERDUE" not in html


def _pdf_text_and_fonts(path: Path) -> tuple[dict[str, float], set[str], set[str]]:
    """Each text run's smallest printed size (pt), the fonts, and those not embedded."""
    import math

    pypdf = pytest.importorskip("pypdf")
    reader = pypdf.PdfReader(path)
    sizes: dict[str, float] = {}
    fonts: set[str] = set()
    missing: set[str] = set()

    def visit(text: str, cm: Any, tm: Any, _fd: Any, fs: float) -> None:
        t = text.strip()
        if t:
            m = pypdf.mult(tm, cm)
            pt = fs * math.hypot(m[2], m[3])
            sizes[t] = min(pt, sizes.get(t, pt))

    def walk(res: Any, seen: set[int]) -> None:
        res = res.get_object() if res is not None else None
        if res is None:
            return
        for ref in (res.get("/Font") or {}).values():
            f = ref.get_object()
            descs = [f.get("/FontDescriptor")]
            descs += [
                d.get_object().get("/FontDescriptor") for d in f.get("/DescendantFonts") or []
            ]
            for fd in (d.get_object() for d in descs if d is not None):
                fonts.add(str(fd.get("/FontName")))
                if not any(k in fd for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                    missing.add(str(fd.get("/FontName")))
        for xref in (res.get("/XObject") or {}).values():
            x = xref.get_object()
            if id(x) not in seen:
                seen.add(id(x))
                walk(x.get("/Resources"), seen)

    for page in reader.pages:
        page.extract_text(visitor_text=visit)
        walk(page.get("/Resources"), set())
    return sizes, fonts, missing


def test_pdf_charts_readable_fonts_embedded_legend_whole(demo: Demo, tmp_path: Path) -> None:
    """Issue 14: chart text was ~5 pt in the PDF, the dispute legend was cut and the
    heat map's gridlines struck through its labels."""
    pytest.importorskip("weasyprint")
    rep = write_assessment_reports(demo.regulator_report, tmp_path / "r")
    rec = dispute(
        side_from_report(demo.lab_report), side_from_report(demo.regulator_report), demo.decider
    )
    dis = write_dispute_reports(rec, tmp_path / "d")
    for w in (rep, dis):
        sizes, fonts, missing = _pdf_text_and_fonts(w.paths["pdf"])
        assert fonts and not missing, (fonts, missing)  # every font embedded
        assert all("DejaVu" in f for f in fonts), fonts  # charts use the report's font too
        assert "\ufffd" not in "".join(sizes)  # no glyph lost
    sizes, _, _ = _pdf_text_and_fonts(rep.paths["pdf"])
    chart_texts = ["level (0 minimal - 4 severe)", "share", "3 significant"]
    for t in chart_texts:
        assert sizes.get(t, 0) >= 7.5, (t, sizes.get(t))
    sizes, _, _ = _pdf_text_and_fonts(dis.paths["pdf"])
    a, b = rec.parties
    for label in (f"A: {a.organisation}", f"B: {b.organisation}"):
        assert sizes.get(label, 0) >= 7.5, (label, sizes.get(label))  # whole and readable
    html = rep.paths["html"].read_text()
    transfer = html[html.index("Transfer: of the behaviours") - 60000 :]
    heat = transfer[transfer.rindex("<svg") :]
    heat = heat[: heat.index("</svg>")]
    assert "role-axis-grid" not in heat and "share" in heat
