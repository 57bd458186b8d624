"""Writing the report files: ``report.json`` always; HTML and PDF with the reports extra."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from jbgrade.assess import AssessmentReport, Reconciliation, seal_report

__all__ = ["Written", "reports_available", "write_assessment_reports", "write_dispute_reports"]


@dataclass
class Written:
    """Paths written, and the formats skipped with the reason."""

    paths: dict[str, Path] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)


def _missing(exc: ImportError) -> str:
    return f"{exc.name} is not installed (pip install 'jbgrade[reports]')"


def reports_available() -> str | None:
    """None when HTML/PDF rendering is available, else why not."""
    try:
        import altair  # noqa: F401
        import jinja2  # noqa: F401
        import vl_convert  # noqa: F401
    except ImportError as exc:
        return _missing(exc)
    return None


def _atomic_write(path: Path, data: bytes) -> None:
    # Write then rename, so a crash never leaves a half-written report behind.
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _json(obj: AssessmentReport | Reconciliation) -> bytes:
    if isinstance(obj, AssessmentReport) and obj.content_sha256 is None:
        obj = seal_report(obj)
    data = obj.model_dump(mode="json")
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _write(
    obj: AssessmentReport | Reconciliation,
    out: Path,
    json_name: str,
    stem: str,
    render: Callable[[], str],
    *,
    html: bool,
    pdf: bool,
) -> Written:
    """``json_name`` always; ``stem.html`` and ``stem.pdf`` from ``render()`` when asked and
    the reports extra is installed (``render`` imports it, so it is called only then)."""
    out.mkdir(parents=True, exist_ok=True)
    w = Written()
    w.paths["json"] = out / json_name
    _atomic_write(w.paths["json"], _json(obj))
    if not (html or pdf):
        return w
    why = reports_available()
    if why is not None:
        w.skipped["html"] = w.skipped["pdf"] = why
        return w
    page = render()
    if html:
        w.paths["html"] = out / f"{stem}.html"
        _atomic_write(w.paths["html"], page.encode("utf-8"))
    if pdf:
        _pdf(page, out / f"{stem}.pdf", w)
    return w


def _pdf(page: str, path: Path, w: Written) -> None:
    try:
        from jbgrade.reports._pdf import html_to_pdf

        data = html_to_pdf(page)
    except ImportError as exc:
        w.skipped["pdf"] = _missing(exc)
        return
    except OSError as exc:  # WeasyPrint needs pango from the system
        w.skipped["pdf"] = f"WeasyPrint cannot run here: {exc}"
        return
    w.paths["pdf"] = path
    _atomic_write(path, data)


def write_assessment_reports(
    report: AssessmentReport, out: Path, *, html: bool = True, pdf: bool = True
) -> Written:
    """Write ``report.json``, ``report.html`` and ``report.pdf`` into ``out``."""

    def render() -> str:
        from jbgrade.reports._html import render_assessment_html

        return render_assessment_html(report)

    return _write(report, out, "report.json", "report", render, html=html, pdf=pdf)


def write_dispute_reports(
    rec: Reconciliation, out: Path, *, html: bool = True, pdf: bool = True
) -> Written:
    """Write ``reconciliation.json``, ``dispute.html`` and ``dispute.pdf`` into ``out``."""

    def render() -> str:
        from jbgrade.reports._html import render_dispute_html

        return render_dispute_html(rec)

    return _write(rec, out, "reconciliation.json", "dispute", render, html=html, pdf=pdf)
