"""``jbgrade score | explain | migrate | crosswalk | rubric check | rubric show``."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.panel import Panel
from rich.table import Table

from jbgrade._errors import JbgradeError, RubricTableError
from jbgrade.cli._common import one_line, out_console, print_json

if TYPE_CHECKING:
    from collections.abc import Callable

    from jbgrade.rubric import Grade

__all__ = ["register", "render_explanation"]

_SEV_STYLE = {
    "None": "dim",
    "Low": "green",
    "Medium": "yellow",
    "High": "bold dark_orange",
    "Critical": "bold white on red",
}


class ShowFormat(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"


def _grade_line(g: Grade) -> str:
    flags = [f for f, on in (("provisional", g.provisional), ("systemic", g.systemic)) if on]
    return f"{g.score:.1f} {g.severity} {g.vector}" + (f" [{', '.join(flags)}]" if flags else "")


def _score_stream(grade_one: Callable[[str], Grade]) -> int:
    """One vector per input line -> one JSON object per output line.

    Lines are stripped of surrounding whitespace (a line-oriented format);
    blank lines and ``#`` comments are skipped. A bad line yields
    ``{"error", "line", "input"}`` in its place and the stream goes on; the
    exit code is then 2, with one summary line on stderr.
    """
    bad = 0
    first_bad = 0
    total = 0
    write = sys.stdout.write
    for n, raw in enumerate(sys.stdin.buffer, start=1):
        try:
            line = raw.decode("utf-8").strip()
        except UnicodeDecodeError as exc:
            line = None
            err = f"line is not UTF-8 ({exc.reason} at byte {exc.start})"
        if line is not None:
            if not line or line.startswith("#"):
                continue
            try:
                obj: dict[str, Any] = grade_one(line).to_dict()
            except JbgradeError as exc:
                err = one_line(str(exc))
            else:
                total += 1
                write(json.dumps(obj, ensure_ascii=False) + "\n")
                continue
        total += 1
        bad += 1
        first_bad = first_bad or n
        shown = raw.decode("utf-8", "replace").strip()
        shown = shown if len(shown) <= 200 else shown[:200] + "..."
        write(json.dumps({"error": err, "line": n, "input": shown}, ensure_ascii=False) + "\n")
    sys.stdout.flush()
    if bad:
        print(
            f"jbgrade: error: {bad} of {total} vectors invalid (first at line {first_bad})",
            file=sys.stderr,
        )
        return 2
    return 0


def score(
    vector: Annotated[
        str, typer.Argument(help="A JBG vector, or '-' to read one per line from stdin.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the full grade as JSON.")] = False,
) -> None:
    """Score a JBG 1.0 or 1.1 vector (its prefix says which): score, label and flags."""
    from jbgrade.rubric import grade

    if vector == "-":
        code = _score_stream(grade)
        if code:
            raise typer.Exit(code)
        return
    g = grade(vector)
    if as_json:
        print_json(g.to_dict())
    else:
        out_console.print(_grade_line(g), markup=False)


def _criterion_table(c: str, entry: dict[str, Any]) -> None:
    """One criterion: its metrics as given and as scored, and how they give its level."""
    t = Table(
        title=f"{c} {entry['name']}: level {entry['level']} ({entry['level_name']})",
        title_justify="left",
    )
    t.add_column("metric")
    t.add_column("given")
    t.add_column("scored as")
    if entry["method"] == "points":
        t.add_column("points", justify="right")
    for row in entry["metrics"]:
        cells = [row["metric"], row["value"], row["scored_as"]]
        if entry["method"] == "points":
            cells.append(str(row["points"]))
        t.add_row(*cells)
    out_console.print(t)
    if entry["method"] == "points":
        b = entry["band"]
        out_console.print(
            f"  {entry['points']} points -> band {b['min']}-{b['max']} -> level {b['level']}"
        )
    else:
        out_console.print(f"  lookup row {entry['row']} -> level {entry['level']}")


def _effects_and_tips(g: Grade) -> None:
    """Each metric's effect on the score, and the single changes that move the label."""
    eff = Table(
        title="Each metric's effect (score minus score with the metric at its lowest)",
        title_justify="left",
    )
    for col in ("metric", "value", "lowest", "score if lowest", "effect"):
        eff.add_column(col)
    for e in g.explanation["metric_effects"]:
        eff.add_row(
            e["metric"],
            e["value"],
            e["lowest"],
            f"{e['score_if_lowest']:.1f}",
            f"{e['effect']:+.1f}",
        )
    out_console.print(eff)
    tips = g.tipping_points
    if tips:
        tt = Table(
            title="Tipping points (single changes that move the label)", title_justify="left"
        )
        for col in ("metric", "change", "new score", "new label", "direction"):
            tt.add_column(col)
        for tp in tips:
            tt.add_row(
                tp["metric"],
                f"{tp['from']} -> {tp['to']}",
                f"{tp['score']:.1f}",
                tp["severity"],
                tp["direction"],
            )
        out_console.print(tt)
    else:
        out_console.print("No single metric change moves the label.")


def render_explanation(g: Grade) -> None:
    """Print a readable explanation of a grade to the console."""
    ex = g.explanation
    style = _SEV_STYLE.get(g.severity, "")
    flags = []
    if g.provisional:
        flags.append("[yellow]provisional[/]")
    if g.systemic:
        flags.append("[red]systemic[/]")
    head = f"[{style}] {g.severity} [/] [bold]{g.score:.1f}[/]  " + "  ".join(flags)
    out_console.print(Panel(f"{head}\n{g.vector}", title="JBG grade", expand=False))
    for c, entry in ex["criteria"].items():
        _criterion_table(c, entry)
    cell = ex["score_cell"]
    band = ex["severity_band"]
    out_console.print(
        f"Score table [EC {cell['EC']}][BP {cell['BP']}][RI {cell['RI']}] = "
        f"[bold]{cell['score']:.1f}[/] -> {g.severity} ({band['min']:.1f}-{band['max']:.1f})"
    )
    _effects_and_tips(g)
    for na in ex["not_assessed"]:
        out_console.print(
            f"[yellow]{na['metric']} not assessed: scored as {na['scored_as']} (precaution)[/]"
        )
    sr = ex["systemic_rule"]
    out_console.print(
        "Systemic: "
        + (
            "yes, clause " + ", ".join(map(str, sr["matched_clauses"]))
            if sr["systemic"]
            else "no clause of the systemic rule holds"
        )
    )


def explain(
    vector: Annotated[str, typer.Argument(help="A JBG vector.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the grade as JSON.")] = False,
) -> None:
    """Explain a grade: table rows used, each metric's effect, tipping points."""
    from jbgrade.rubric import grade

    g = grade(vector)
    if as_json:
        print_json(g.to_dict())
        return
    render_explanation(g)


def _version_option(v: str | None) -> str | None:
    from jbgrade.rubric import VERSIONS

    if v is not None and v not in VERSIONS:
        raise typer.BadParameter(f"{v!r} is not a shipped version ({', '.join(VERSIONS)})")
    return v


def check(
    tables: Annotated[
        Path | None, typer.Option("--tables", help="Check this tables file instead.")
    ] = None,
    version: Annotated[
        str | None,
        typer.Option(
            "--version",
            help="Check only this shipped version's tables (default: every shipped version).",
            callback=_version_option,
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the reports as JSON.")] = False,
) -> None:
    """Validate the tables exhaustively: completeness, monotonicity, relevance, anchors.

    Exit 0 when every check holds, 1 when one fails."""
    from jbgrade.rubric import VERSIONS, Tables, check_tables, load_tables, tables_for

    todo: list[Tables]
    try:
        if tables is not None:
            todo = [load_tables(tables)]
        else:
            todo = [tables_for(version)] if version else [tables_for(v) for v in VERSIONS]
    except RubricTableError as exc:
        if as_json:
            print_json({"ok": False, "shape_error": one_line(str(exc)), "reports": []})
        else:
            print(f"FAIL shape: {one_line(str(exc))}")
        raise typer.Exit(1) from None
    if as_json:
        reports = [check_tables(t) for t in todo]
        print_json(
            {
                "ok": all(r.ok for r in reports),
                "reports": [
                    {
                        "ok": r.ok,
                        "source": r.source,
                        "standard": f"{t.standard} {t.version}",
                        "combinations": r.combinations,
                        "checks": r.checks,
                        "violations": [
                            {"check": v.check, "message": v.message, "example": v.example}
                            for v in r.violations
                        ],
                    }
                    for r, t in zip(reports, todo, strict=True)
                ],
            }
        )
        if not all(r.ok for r in reports):
            raise typer.Exit(1)
        return
    failed = False
    for t in todo:
        rep = check_tables(t)
        for c in rep.checks:
            out_console.print(f"checked {t.standard} {t.version}: {c}", markup=False)
        if rep.ok:
            out_console.print(
                f"OK {rep.source} ({t.standard} {t.version}): {rep.combinations} combinations, "
                "no violation",
                markup=False,
            )
            continue
        failed = True
        for v in rep.violations:
            print(f"FAIL {v}")
    if failed:
        raise typer.Exit(1)


def show(
    fmt: Annotated[
        ShowFormat, typer.Option("--format", help="text, json or markdown.")
    ] = ShowFormat.text,
    tables: Annotated[Path | None, typer.Option("--tables", help="Tables file to show.")] = None,
    version: Annotated[
        str | None,
        typer.Option(
            "--version",
            help="Show this shipped version's tables (default: the latest, 1.1).",
            callback=_version_option,
        ),
    ] = None,
) -> None:
    """Show the scoring tables."""
    from jbgrade.rubric import LATEST_VERSION, load_tables, tables_for, tables_markdown

    t = load_tables(tables) if tables is not None else tables_for(version or LATEST_VERSION)
    if fmt is ShowFormat.json:
        print_json(t.raw)
    elif fmt is ShowFormat.markdown:
        sys.stdout.write(tables_markdown(t))
    else:
        from rich.markdown import Markdown

        out_console.print(Markdown(tables_markdown(t)))


def register(app: typer.Typer) -> None:
    app.command("score")(score)
    app.command("explain")(explain)
    rubric = typer.Typer(help="The JBG tables: validate and show.", no_args_is_help=True)
    rubric.command("check")(check)
    rubric.command("show")(show)
    app.add_typer(rubric, name="rubric")
