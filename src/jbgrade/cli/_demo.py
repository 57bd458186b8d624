"""``jbgrade demo``: the main job end to end on a bundled scenario, with no network.

A lab and a government evaluation office assess the same reported jailbreak of a
(fictional) frontier model. The demo measures it against jbgrade's reference
target (in process, placeholders only), grades both assessments, decides under
every shipped policy profile, reconciles the two, and writes the reports.
"""

from __future__ import annotations

import html
import json
import shutil
import time
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from jbgrade.cli._assess import run_assessment
from jbgrade.cli._common import err_console, out_console

if TYPE_CHECKING:
    from jbgrade.assess import AssessmentReport, Reconciliation
    from jbgrade.harness import Reporter

__all__ = ["DEMO_FILES", "copy_demo_inputs", "register"]

DEMO_FILES = ("lab.yaml", "regulator.yaml", "campaign.yaml", "payload.txt")


def copy_demo_inputs(cases: Path) -> None:
    """Copy the bundled demo case files, campaign spec and payload into ``cases``."""
    cases.mkdir(parents=True, exist_ok=True)
    src = resources.files("jbgrade.assess").joinpath("data/demo")
    for name in DEMO_FILES:
        (cases / name).write_bytes(src.joinpath(name).read_bytes())


def _fresh_campaign_dir(campaign: Path) -> None:
    # The demo owns this directory: start it afresh so an older demo's attempts
    # (perhaps from another version of the spec) never mix in.
    manifest = campaign / "manifest.json"
    if manifest.is_file():
        name = json.loads(manifest.read_text("utf-8")).get("campaign", "")
        if str(name).startswith("demo-"):
            shutil.rmtree(campaign)


def _index(out: Path, reports: list[tuple[str, AssessmentReport]], rec: Reconciliation) -> Path:
    rows = []
    for folder, r in reports:
        g = r.grade
        acts = ", ".join(
            f"{d.profile}: {d.decision.action if d.decision else 'n/a'}" for d in r.decisions
        )
        rows.append(
            f"<tr><td><b>{html.escape(r.case.assessor.organisation)}</b></td>"
            f'<td><span class="sev sev-{g.severity}">{g.severity} {g.score:.1f}</span>'
            f"{' systemic' if g.systemic else ' narrow'}</td>"
            f"<td>{html.escape(acts)}</td>"
            f'<td><a href="{folder}/report.html">HTML</a> · <a href="{folder}/report.pdf">PDF</a>'
            f' · <a href="{folder}/report.json">JSON</a></td></tr>'
        )
    summary = "".join(f"<li>{html.escape(s)}</li>" for s in rec.summary)
    page = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>jbgrade demo: case {html.escape(rec.case_id)}</title><style>
body{{font-family:Helvetica,Arial,sans-serif;max-width:1000px;margin:24px auto;padding:0 20px;
color:#1c2430;line-height:1.45}} table{{border-collapse:collapse;width:100%}}
td,th{{border-bottom:1px solid #d9dee5;padding:8px;text-align:left;vertical-align:top}}
.sev{{color:#fff;border-radius:4px;padding:2px 8px;font-weight:700}} .sev-None{{background:#6b7280}}
.sev-Low{{background:#2e7d32}} .sev-Medium{{background:#b7791f}} .sev-High{{background:#d35400}}
.sev-Critical{{background:#b71c1c}} a{{color:#1f5fa0}}</style></head><body>
<h1>jbgrade demo: two assessments of case {html.escape(rec.case_id)}</h1>
<p>A lab and a government evaluation office graded the same reported jailbreak from the
same measurement. Each report answers <i>how severe, what now, why</i> on its first
screen; the dispute report shows which of their differences change what must happen.</p>
<table><tr><th>Assessor</th><th>Grade</th><th>Action per profile</th><th>Report</th></tr>
{"".join(rows)}</table>
<h2>The dispute</h2><ul>{summary}</ul>
<p><a href="dispute/dispute.html"><b>Dispute report (HTML)</b></a> ·
<a href="dispute/dispute.pdf">PDF</a> · <a href="dispute/reconciliation.json">reconciliation record
(JSON)</a></p>
<p>Inputs (edit and re-run with <code>jbgrade assess</code>):
<a href="cases/lab.yaml">lab.yaml</a>, <a href="cases/regulator.yaml">regulator.yaml</a>,
<a href="cases/campaign.yaml">campaign.yaml</a>.</p>
</body></html>
"""
    path = out / "index.html"
    path.write_text(page, encoding="utf-8")
    return path


def demo(
    out: Annotated[Path, typer.Option("--out", help="Directory for the demo's outputs.")] = Path(
        "jbgrade-demo-out"
    ),
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    no_pdf: Annotated[bool, typer.Option("--no-pdf", help="Skip the PDF reports.")] = False,
) -> None:
    """Run the bundled scenario end to end: measure, grade, decide, reconcile, report."""
    from jbgrade.assess import PolicyDecider, dispute, load_case, side_from_report
    from jbgrade.harness import QuietReporter, RichReporter
    from jbgrade.reports import write_dispute_reports

    t0 = time.perf_counter()
    cases = out / "cases"
    campaign = out / "campaign"
    copy_demo_inputs(cases)
    _fresh_campaign_dir(campaign)
    decider = PolicyDecider()
    out_console.print(
        "[bold]jbgrade demo[/]: a reported jailbreak of the (fictional) frontier model Fable 5, "
        "assessed by its developer and by a government evaluation office"
    )
    reports: list[tuple[str, AssessmentReport]] = []
    for folder, name in (("lab", "lab.yaml"), ("regulator", "regulator.yaml")):
        loaded = load_case(cases / name)
        reporter: Reporter = QuietReporter() if quiet or reports else RichReporter()
        report, _ = run_assessment(
            loaded,
            out / folder,
            decider=decider,
            reporter=reporter,
            pdf=not no_pdf,
            campaign_dir=campaign,
        )
        if not report.complete:
            err_console.print(f"[red]{folder}: incomplete:[/] " + "; ".join(report.incomplete))
        reports.append((folder, report))
    ev = reports[0][1].evidence
    if ev is not None:
        derived = ", ".join(f"{k} {v.value}" for k, v in ev.derived().items())
        out_console.print(
            f"Measured {ev.counts.total} attempts on {len(ev.attack.targets)} simulated "
            "deployments "
            f"(attack and baseline arms): {derived}"
        )
    sides = [side_from_report(r, str(out / f / "report.json")) for f, r in reports]
    rec = dispute(sides[0], sides[1], decider)
    write_dispute_reports(rec, out / "dispute", pdf=not no_pdf)

    t = Table(title="Two assessments of the same jailbreak", title_justify="left")
    t.add_column("")
    for _, r in reports:
        t.add_column(f"{r.case.assessor.organisation} ({r.case.assessor.role})")
    t.add_row(
        "grade",
        *[
            f"{r.grade.severity} {r.grade.score:.1f} "
            + ("systemic" if r.grade.systemic else "narrow")
            for _, r in reports
        ],
        end_section=True,
    )
    for p in decider.profiles():
        acts = []
        for _, r in reports:
            d = next((d for d in r.decisions if d.profile == p), None)
            acts.append(d.decision.action if d is not None and d.decision else "n/a")
        t.add_row(p, *acts)
    out_console.print(t)
    out_console.print("[bold]Dispute[/]")
    for line in rec.summary[1:]:
        out_console.print("  - " + line, markup=False)
    index = _index(out, reports, rec)
    out_console.print("[bold]Reports[/] (no network was used; open the HTML in any browser):")
    out_console.print(f"  {index}   <- start here", markup=False)
    pdf = "" if no_pdf else "  .pdf"
    for folder in ("lab", "regulator"):
        out_console.print(f"  {out / folder}/report.html{pdf}  .json", markup=False)
    out_console.print(f"  {out / 'dispute'}/dispute.html{pdf}  reconciliation.json", markup=False)
    out_console.print(f"Done in {time.perf_counter() - t0:.1f} s.", markup=False)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
