"""``jbgrade assess CASE --out DIR`` and ``jbgrade dispute A B``."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from jbgrade import __version__
from jbgrade._errors import InputError
from jbgrade.cli._common import FAIL_ON_HELP, err_console, gate, out_console, print_json

if TYPE_CHECKING:
    from jbgrade.assess import (
        AssessmentReport,
        DisputeSide,
        EvidenceView,
        LoadedCase,
        PolicyDecider,
        Reconciliation,
    )
    from jbgrade.harness import Reporter

__all__ = ["register", "render_dispute", "render_report", "report_facts", "run_assessment"]

_SEV = {
    "None": "dim",
    "Low": "green",
    "Medium": "yellow",
    "High": "bold dark_orange",
    "Critical": "bold white on red",
}
_ACT = {
    "none": "dim",
    "monitor": "cyan",
    "mitigate": "yellow",
    "restrict_export": "bold dark_orange",
    "block_deployment": "bold white on red",
}


def _act(a: str) -> str:
    return f"[{_ACT.get(a, '')}]{a}[/]"


def run_assessment(
    loaded: LoadedCase,
    out: Path,
    *,
    decider: PolicyDecider,
    reporter: Reporter | None = None,
    html: bool = True,
    pdf: bool = True,
    campaign_dir: Path | None = None,
) -> tuple[AssessmentReport, dict[str, Path]]:
    """Assess a loaded case into ``out`` (campaign under ``out/campaign``); write reports."""
    from jbgrade.assess import assess_case, measure_case
    from jbgrade.reports import write_assessment_reports

    measure = functools.partial(measure_case, reporter=reporter)
    report = assess_case(
        loaded,
        decider,
        campaign_dir=campaign_dir or out / "campaign",
        measure=measure,
        version=__version__,
    )
    w = write_assessment_reports(report, out, html=html, pdf=pdf)
    for fmt, why in w.skipped.items():
        err_console.print(f"[yellow]{fmt} report skipped:[/] {why}")
    return report, w.paths


def render_report(r: AssessmentReport, paths: dict[str, Path]) -> None:
    """The answer on the console: severity, action per profile, why, where."""
    g = r.grade.model_dump(mode="json")
    if not r.complete:
        out_console.print("[bold red]INCOMPLETE:[/] " + "; ".join(r.incomplete))
    flags = [f for f in ("systemic", "provisional") if g[f]]
    out_console.print(
        f"[{_SEV.get(g['severity'], '')}] {g['severity']} [/] [bold]{g['score']:.1f}[/]"
        + (f"  ({', '.join(flags)})" if flags else "")
        + f"  {r.case.title}"
    )
    out_console.print(g["vector"], markup=False)
    t = Table(title="What must happen now", title_justify="left")
    t.add_column("profile")
    t.add_column("action")
    t.add_column("first deadlines")
    for d in r.decisions:
        if d.decision is None:
            t.add_row(d.profile, "[red]no decision[/]", d.error or "")
            continue
        obs = sorted(d.decision.obligations, key=lambda o: o.due)
        first = "; ".join(f"{o.due.isoformat()} {o.party}: {o.what}" for o in obs[:2])
        more = f" (+{len(obs) - 2} more)" if len(obs) > 2 else ""
        t.add_row(d.profile, _act(d.decision.action), first + more or "-")
    out_console.print(t)
    if r.conflicts:
        for m in r.metrics:
            if m.conflict:
                out_console.print(f"[yellow]{m.metric}[/]: {m.reason}", markup=True)
    for k, p in paths.items():
        out_console.print(f"{k:5} {p}", markup=False)


def assess_cmd(  # noqa: PLR0917 - a Typer command takes its options as parameters
    case: Annotated[Path, typer.Argument(help="Case file (YAML; see 'jbgrade schema show case').")],
    out: Annotated[Path, typer.Option("--out", help="Directory for the reports.")],
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print report.json to stdout.")] = False,
    no_pdf: Annotated[bool, typer.Option("--no-pdf", help="Skip the PDF.")] = False,
    campaign_dir: Annotated[
        Path | None,
        typer.Option(
            "--campaign-dir",
            help="Campaign directory (default OUT/campaign); share one between the parties' "
            "assessments of a case so the campaign runs once.",
        ),
    ] = None,
    fail_on: Annotated[str | None, typer.Option("--fail-on", help=FAIL_ON_HELP)] = None,
) -> None:
    """Assess a case: run its campaign, merge metrics, grade, decide, write reports.

    Exit 0 when complete, 1 when the report is incomplete (a campaign step
    failed: the report holds what was completed), 2 on bad input.
    """
    from jbgrade.assess import PolicyDecider, load_case
    from jbgrade.harness import QuietReporter, RichReporter
    from jbgrade.interop import parse_fail_on

    expr = parse_fail_on(fail_on) if fail_on is not None else None
    loaded = load_case(case)
    decider = PolicyDecider()
    reporter: Reporter = QuietReporter() if quiet or as_json else RichReporter()
    report, paths = run_assessment(
        loaded,
        out,
        decider=decider,
        reporter=reporter,
        pdf=not no_pdf,
        campaign_dir=campaign_dir,
    )
    if as_json:
        print_json(report.model_dump(mode="json"))
    else:
        render_report(report, paths)
    if not report.complete:
        raise typer.Exit(1)
    gate(expr, report_facts(report))


def report_facts(r: AssessmentReport) -> dict[str, object]:
    """What ``--fail-on`` can test on an assessment report."""
    from jbgrade.policy import ACTIONS

    acts = [str(d.decision.action) for d in r.decisions if d.decision is not None]
    known = [a for a in acts if a in ACTIONS]
    g = r.grade
    return {
        "severity": g.severity,
        "score": g.score,
        "systemic": g.systemic,
        "provisional": g.provisional,
        "incomplete": not r.complete,
        "action": max(known, key=ACTIONS.index) if known else None,
    }


def _side(path: Path, evidence: Path | None) -> DisputeSide:
    from jbgrade.assess import (
        dispute_side,
        evidence_view,
        load_case,
        read_report,
        side_from_report,
        verify_report,
    )
    from jbgrade.evidence import load_campaign_evidence

    if path.suffix == ".json":
        # A counter-party's report is read strictly: a field that does not follow
        # from its inputs (or a broken hash or signature) stops the dispute.
        rep = read_report(path)
        verify_report(rep, source=str(path))
        return side_from_report(rep, str(path))
    loaded = load_case(path)
    ev: EvidenceView | None = None
    c = loaded.case.campaign
    directory = evidence or (loaded.resolve(c.results) if c and c.results else None)
    if directory is not None:
        ev = evidence_view(loaded, load_campaign_evidence(directory))
    return dispute_side(loaded, evidence=ev)


def render_dispute(rec: Reconciliation) -> None:
    """A dispute on the console: per profile, per difference, and what settles it."""
    out_console.print(f"[bold]Dispute on case {rec.case_id}[/] ({rec.status})")
    for p in rec.parties:
        out_console.print(
            f"  {p.side}: {p.organisation} ({p.assessor}): "
            f"[{_SEV.get(p.label, '')}] {p.label} [/] {p.score:.1f}"
            + (" systemic" if p.systemic else " narrow")
            + (" provisional" if p.provisional else ""),
        )
    t = Table(title="Action per profile, and what settles it", title_justify="left")
    for col in ("profile", "A", "B", "turns on", "smallest agreement that settles the action"):
        t.add_column(col)
    for c, st in zip(rec.profiles, rec.settle_action, strict=True):
        if st.settled:
            turns, agree = "-", f"settled: {st.possible[0]} whatever is agreed"
        else:
            turns = ", ".join(st.decisive)
            agree = "; ".join(
                " + ".join(f"{k}={v} ({ag.sides[k]}'s)" for k, v in ag.agree.items())
                + f" -> {ag.outcome}"
                for ag in st.agreements[:3]
            )
        t.add_row(c.profile, _act(c.action_a), _act(c.action_b), turns, agree)
    out_console.print(t)
    if rec.differences:
        d = Table(title="Each difference: what it can change", title_justify="left")
        d.add_column("item")
        d.add_column("A")
        d.add_column("B")
        d.add_column("label")
        for c in rec.profiles:
            d.add_column(c.profile)
        for diff in rec.differences:
            cells = [
                diff.item,
                diff.a.value,
                diff.b.value,
                "[red]changes[/]" if diff.changes_label else "[dim]no[/]",
            ]
            for e in diff.effects:
                cells.append(
                    "[red]action[/]"
                    if e.changes_action
                    else "[yellow]obligations[/]"
                    if e.changes_obligations
                    else "[dim]no[/]"
                )
            d.add_row(*cells)
        out_console.print(d)
    for line in rec.summary:
        out_console.print("- " + line, markup=False)


def _registry_sides(
    *,
    db: str | None,
    case_id: str,
    token: str | None,
    parties: list[str],
    context: Path | None,
    aware_on: str | None,
) -> tuple[DisputeSide, DisputeSide]:
    from datetime import date

    from jbgrade.assess import sides_from_registry
    from jbgrade.cli._registry import open_registry
    from jbgrade.policy import load_context_file

    if not token:
        raise InputError("--case needs an API token (--token or $JBGRADE_TOKEN)", field="token")
    try:
        aware = date.fromisoformat(aware_on) if aware_on else None
    except ValueError:
        raise InputError(f"not an ISO date: {aware_on!r}", field="aware-on") from None
    with open_registry(db, None, need_key=False) as reg:
        actor = reg.authenticate_token(token)
        ctx = load_context_file(context) if context is not None else {}
        return sides_from_registry(
            reg, actor, case_id, parties=parties, context=ctx, aware_on=aware
        )


def _store(*, db: str | None, case_id: str, token: str | None, rec: Reconciliation) -> str:
    from jbgrade.assess import store_reconciliation
    from jbgrade.cli._registry import open_registry

    with open_registry(db, None, need_key=False) as reg:
        actor = reg.authenticate_token(token or "")
        return store_reconciliation(reg, actor, case_id, rec).id


def dispute_cmd(  # noqa: PLR0917 - a Typer command takes its options as parameters
    a: Annotated[
        Path | None, typer.Argument(help="Side A: a case file (YAML) or a report.json.")
    ] = None,
    b: Annotated[
        Path | None, typer.Argument(help="Side B: a case file (YAML) or a report.json.")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the reconciliation record as JSON.")
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write reconciliation.json, dispute.html and dispute.pdf."),
    ] = None,
    evidence: Annotated[
        Path | None,
        typer.Option(
            "--evidence", help="Campaign directory whose measured values both case files use."
        ),
    ] = None,
    profile: Annotated[
        list[str] | None,
        typer.Option("--profile", help="Profile to compare under (repeatable; default: all)."),
    ] = None,
    db: Annotated[
        str | None,
        typer.Option("--db", help="Registry database URL (default: $JBGRADE_DATABASE_URL)."),
    ] = None,
    case: Annotated[
        str | None, typer.Option("--case", help="Registry case id: compare its assessments.")
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            "--token", envvar="JBGRADE_TOKEN", help="Registry API token.", show_default=False
        ),
    ] = None,
    party: Annotated[
        list[str] | None,
        typer.Option("--party", help="With --case: an assessing organisation (name or id), twice."),
    ] = None,
    context: Annotated[
        Path | None,
        typer.Option("--context", help="With --case: policy context file (YAML or JSON)."),
    ] = None,
    aware_on: Annotated[
        str | None,
        typer.Option("--aware-on", help="With --case: awareness date (default: reported date)."),
    ] = None,
    store: Annotated[
        bool,
        typer.Option("--store", help="With --case: store the record on the case; print its id."),
    ] = False,
) -> None:
    """Compare two assessments of a case: which differences change the label or the action.

    The sides are two case files or report.json files, or (with --case) the current
    assessments of two parties in the registry.
    """
    if store and case is None:
        raise InputError("--store needs --case (and --db, --token)", field="store")
    sa, sb = _dispute_sides(
        a,
        b,
        evidence=evidence,
        db=db,
        case=case,
        token=token,
        parties=list(party or []),
        context=context,
        aware_on=aware_on,
    )
    rec = _reconcile(sa, sb, profile or [])
    stored = _store(db=db, case_id=case, token=token, rec=rec) if store and case else None
    _print_dispute(rec, as_json=as_json, out=out, stored=stored, case=case)


def _reconcile(sa: DisputeSide, sb: DisputeSide, profiles: list[str]) -> Reconciliation:
    """The reconciliation record, under the named profiles (none named: all shipped)."""
    from jbgrade.assess import PolicyDecider, dispute

    decider = PolicyDecider(profiles or None)
    if profiles:
        sa.profiles = sb.profiles = list(decider.profiles())
    return dispute(sa, sb, decider)


def _dispute_sides(
    a: Path | None,
    b: Path | None,
    *,
    evidence: Path | None,
    db: str | None,
    case: str | None,
    token: str | None,
    parties: list[str],
    context: Path | None,
    aware_on: str | None,
) -> tuple[DisputeSide, DisputeSide]:
    """The two sides: two files, or (with ``--case``) two parties' registry assessments."""
    if case is not None:
        if a is not None or b is not None:
            raise InputError("give either two files or --case, not both")
        return _registry_sides(
            db=db,
            case_id=case,
            token=token,
            parties=parties,
            context=context,
            aware_on=aware_on,
        )
    if a is None or b is None:
        raise InputError("give two case files or report.json files (or --case ID)")
    return _side(a, evidence), _side(b, evidence)


def _print_dispute(
    rec: Reconciliation, *, as_json: bool, out: Path | None, stored: str | None, case: str | None
) -> None:
    """The reports (``--out``), then the record as one JSON document or rendered."""
    if out is not None:
        from jbgrade.reports import write_dispute_reports

        w = write_dispute_reports(rec, out)
        for fmt, why in w.skipped.items():
            err_console.print(f"[yellow]{fmt} skipped:[/] {why}")
    if as_json:
        print_json(rec.model_dump(mode="json"))
        if stored is not None:  # stdout stays one JSON document
            err_console.print(f"Stored as {stored} on case {case}", markup=False)
        return
    render_dispute(rec)
    if out is not None:
        out_console.print(f"Wrote {out}/reconciliation.json and the dispute report", markup=False)
    if stored is not None:
        out_console.print(f"Stored as {stored} on case {case}", markup=False)


def register(app: typer.Typer) -> None:
    app.command("assess")(assess_cmd)
    app.command("dispute")(dispute_cmd)
