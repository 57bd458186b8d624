"""``jbgrade calibrate DIR``: inter-assessor agreement (Krippendorff's alpha)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from jbgrade.cli._common import fail, out_console, print_json

if TYPE_CHECKING:
    from jbgrade.assess import Agreement, CalibrationReport

__all__ = ["register", "render_calibration"]

#: Krippendorff's (2004) convention: rely on variables with alpha >= .800; draw only
#: tentative conclusions from .667 <= alpha < .800.
RELIABLE, TENTATIVE = 0.800, 0.667


def _fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f}"


def _verdict(a: Agreement) -> str:
    if a.alpha is None:
        return "[dim]undefined (no variation)[/]"
    if a.alpha >= RELIABLE:
        return "[green]reliable[/]"
    if a.alpha >= TENTATIVE:
        return "[yellow]tentative[/]"
    return "[red]unreliable[/]"


def render_calibration(r: CalibrationReport) -> None:
    """Print a calibration report as tables."""
    out_console.print(
        f"[bold]Calibration[/] of {r.source}: {r.scenarios} scenarios, "
        f"{len(r.assessors)} assessors, {r.gradings} gradings"
    )
    t = Table(
        title=(
            f"Krippendorff's alpha, {r.confidence:.0%} bootstrap intervals "
            f"({r.replicates} resamples of scenarios, seed {r.seed})"
        ),
        title_justify="left",
    )
    t.add_column("variable", no_wrap=True, min_width=8)
    t.add_column("alpha", justify="right", no_wrap=True, min_width=5)
    t.add_column("95% CI", no_wrap=True, min_width=11)
    t.add_column("agree", justify="right", no_wrap=True, min_width=5)
    t.add_column("n", justify="right", no_wrap=True, min_width=2)
    t.add_column("reading", no_wrap=True, min_width=10)
    t.add_column("what", overflow="ellipsis", no_wrap=True, max_width=40)
    rows = [r.overall, r.score, *r.metrics]
    for i, a in enumerate(rows):
        t.add_row(
            a.variable,
            _fmt(a.alpha),
            f"{_fmt(a.low)}-{_fmt(a.high)}",
            f"{a.agreement:.0%}",
            str(a.units),
            _verdict(a),
            a.name if a.variable in ("label", "score") else a.name.split(" (")[0],
            end_section=i == 1,
        )
    out_console.print(t)
    if r.weakest:
        parts = []
        for key in r.weakest:
            a = next(m for m in r.metrics if m.variable == key)
            where = [s.id for s in r.spread if key in s.disagreeing_metrics]
            parts.append(f"{key} (alpha {_fmt(a.alpha)}; differs in {', '.join(where) or 'none'})")
        out_console.print("[bold]Weakest agreement:[/] " + "; ".join(parts))
    out_console.print(
        f"[dim]Reading: alpha >= {RELIABLE} reliable, {TENTATIVE}-{RELIABLE} tentative "
        "(Krippendorff 2004). X (not assessed) counts as missing.[/]"
    )


def calibrate_cmd(
    directory: Annotated[
        Path, typer.Argument(help="Directory of calibration scenarios and/or case files.")
    ],
    replicates: Annotated[
        int, typer.Option("--replicates", min=0, help="Bootstrap resamples (0: no intervals).")
    ] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Bootstrap seed.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    out: Annotated[
        Path | None, typer.Option("--out", help="Also write the JSON report to this file.")
    ] = None,
) -> None:
    """Agreement between assessors: Krippendorff's alpha per metric and overall."""
    from jbgrade.assess import calibrate, load_calibration_dir

    scenarios = load_calibration_dir(directory)
    assessed = [s for s in scenarios if len(s.assessments) >= 2]
    if not assessed:
        raise fail(f"{directory}: no scenario has two or more assessments to compare")
    report = calibrate(scenarios, source=str(directory), replicates=replicates, seed=seed)
    data = report.model_dump(mode="json")
    if out is not None:
        out.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    if as_json:
        print_json(data)
    else:
        render_calibration(report)
        if out is not None:
            out_console.print(f"Wrote {out}", markup=False)


def register(app: typer.Typer) -> None:
    app.command("calibrate")(calibrate_cmd)
