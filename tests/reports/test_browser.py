"""The reports in a real browser (Debian's Chromium via Playwright): they render, with their
charts, from file:// with no request of any kind beyond the file itself, and the answer
(how severe, what now, why) is on the first screen."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from jbgrade.assess import dispute, side_from_report
from jbgrade.reports import write_assessment_reports, write_dispute_reports
from tests.assess.demo import Demo

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
FIRST_SCREEN = {"width": 1366, "height": 768}

pytestmark = pytest.mark.browser


def open_page(browser: Any, path: Path) -> tuple[Any, list[str], list[str]]:
    page = browser.new_page(viewport=FIRST_SCREEN)
    requests: list[str] = []
    failed: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("requestfailed", lambda r: failed.append(r.url))
    page.on(
        "console",
        lambda m: failed.append(f"console {m.type}: {m.text}") if m.type == "error" else None,
    )
    page.goto(path.as_uri(), wait_until="load")
    return page, requests, failed


def on_first_screen(page: Any, selector: str) -> bool:
    box = page.locator(selector).first.bounding_box()
    return box is not None and box["height"] > 0 and box["y"] + 10 < FIRST_SCREEN["height"]


def test_assessment_report_renders_with_charts(browser: Any, demo: Demo, tmp_path: Path) -> None:
    w = write_assessment_reports(demo.regulator_report, tmp_path, pdf=False)
    page, requests, failed = open_page(browser, w.paths["html"])
    try:
        assert requests == [w.paths["html"].as_uri()], requests
        assert failed == []
        charts = page.locator("figure svg")
        assert charts.count() == 3
        for i in range(3):
            box = charts.nth(i).bounding_box()
            assert box is not None and box["width"] > 200 and box["height"] > 80
        assert page.locator("figure svg .mark-rect, figure svg .mark-rule").count() > 0
        # How severe, what now, why: all on the first screen.
        assert on_first_screen(page, ".verdict .label")
        assert page.locator(".verdict .label").inner_text() == "High"
        for d in demo.regulator_report.decisions:
            row = page.locator("section.answer tr", has_text=d.profile)
            assert on_first_screen(page, f"section.answer tr:has-text('{d.profile}') .action")
            assert row.count() == 1
        assert on_first_screen(page, "section.answer .why li")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "report-first-screen.png"))
        page.screenshot(path=str(ARTIFACTS / "report-full.png"), full_page=True)
    finally:
        page.close()


def test_dispute_report_renders(browser: Any, demo: Demo, tmp_path: Path) -> None:
    rec = dispute(
        side_from_report(demo.lab_report), side_from_report(demo.regulator_report), demo.decider
    )
    w = write_dispute_reports(rec, tmp_path, pdf=False)
    page, requests, failed = open_page(browser, w.paths["html"])
    try:
        assert requests == [w.paths["html"].as_uri()], requests
        assert failed == []
        assert page.locator("figure svg").count() == 1
        assert on_first_screen(page, "table .action")
        text = page.locator("body").inner_text()
        assert "Smallest agreement" in text and "CG" in text
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "dispute-full.png"), full_page=True)
    finally:
        page.close()
