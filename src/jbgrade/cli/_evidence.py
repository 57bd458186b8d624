"""``jbgrade campaign evidence DIR [--json]``: rates, transfer and derived metrics."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from jbgrade.cli._common import FAIL_ON_HELP, gate, out_console, print_json, warn_skipped

if TYPE_CHECKING:
    from jbgrade.evidence import AttackEvidence, Evidence, Rate

__all__ = ["register", "render_evidence"]


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def _rate(r: Rate) -> str:
    if r.n == 0:
        return "-"
    return f"{r.successes}/{r.n} {_pct(r.rate)} [{_pct(r.low)}, {_pct(r.high)}]"


def _render_attack(ev: Evidence, a: AttackEvidence) -> None:
    from jbgrade.evidence import RULES, partial_vector

    few = f" (<{RULES['M-UN']['min_behaviours_per_domain']})"
    out_console.rule(f"[bold]attack {a.attack}[/] ({a.kind})")
    t = Table(
        title="Success by target and domain (Wilson 95% intervals)",
        title_justify="left",
    )
    for col in (
        "target",
        "domain",
        "attack arm",
        "baseline",
        "adjusted",
        "broken/tested",
        "uplift (spec.)",
    ):
        t.add_column(col)
    for s in a.targets:
        t.add_row(
            f"[bold]{s.target}[/]",
            "all",
            _rate(s.attack),
            _rate(s.baseline),
            _pct(s.adjusted),
            f"{s.universality.behaviours_broken}/{s.universality.behaviours_tested}",
            "-" if s.uplift.mean_specificity is None else f"{s.uplift.mean_specificity:.2f}",
        )
        for d in s.domains:
            t.add_row(
                "",
                d.domain + ("" if d.counted else few),
                _rate(d.attack),
                _rate(d.baseline),
                _pct(d.adjusted),
                f"{d.behaviours_broken}/{d.behaviours_tested}",
                "-" if d.uplift.mean_specificity is None else f"{d.uplift.mean_specificity:.2f}",
            )
        if s.errors or s.blocked:
            t.add_row("", "", f"[dim]{s.errors} errors, {s.blocked} blocked[/]", "", "", "", "")
    out_console.print(t)
    if len(a.transfer.rows) > 1:
        tr = Table(title="Transfer across targets", title_justify="left")
        for col in (
            "target",
            "model",
            "vendor",
            "attack",
            "low",
            "baseline",
            "adjusted",
            "affected",
        ):
            tr.add_column(col)
        for r in a.transfer.rows:
            tr.add_row(
                r.target,
                r.model,
                r.vendor,
                _pct(r.attack_rate),
                _pct(r.attack_low),
                _pct(r.baseline_rate),
                _pct(r.adjusted),
                "yes" if r.affected else "no",
            )
        out_console.print(tr)
        names = [r.target for r in a.transfer.rows]
        mx = Table(
            title="Transfer matrix: share of behaviours broken on the row also broken on the "
            "column",
            title_justify="left",
        )
        mx.add_column("broken on")
        for n in names:
            mx.add_column(n)
        cells = {(c.source, c.dest): c for c in a.transfer.matrix}
        for src in names:
            row = [src]
            for dst in names:
                c = cells.get((src, dst))
                row.append("-" if c is None else f"{c.broken_both}/{c.tested_both}")
            mx.add_row(*row)
        out_console.print(mx)
    layered = [s for s in a.targets if s.layer_stats]
    if layered:
        lt = Table(title="Declared layers (attack arm)", title_justify="left")
        for col in ("target", "layer", "stopped", "passed", "successes past it"):
            lt.add_column(col)
        for s in layered:
            for ls in s.layer_stats:
                lt.add_row(
                    s.target, ls.layer, str(ls.stopped), str(ls.passed), str(ls.successes_passed)
                )
        out_console.print(lt)
    mt = Table(title="Derived JBG metrics (design 0002)", title_justify="left")
    for col in ("metric", "value", "rule", "provenance"):
        mt.add_column(col)
    for key, m in a.metrics.items():
        val = m.value or "[dim]not derived[/]"
        if m.near_boundary:
            val += " [yellow](near boundary)[/]"
        mt.add_row(key, val, m.rule, m.explanation)
    for key in a.for_assessor:
        mt.add_row(key, "[dim]assessor[/]", "-", "not measurable from attempts")
    out_console.print(mt)
    vec = partial_vector(ev, attack=a.attack)
    out_console.print(f"Partial vector (X = for the assessor): [bold]{vec.canonical()}[/]")


def render_evidence(ev: Evidence) -> None:
    """Print evidence as readable tables."""
    c = ev.counts
    out_console.print(
        f"[bold]Evidence[/] campaign {ev.campaign or '-'}: {c.total} attempts "
        f"({c.attack_arm} attack arm, {c.baseline_arm} baseline), {c.judged} judged, "
        f"{c.errors} errors or undecided, {c.blocked} blocked by a layer"
    )
    for note in ev.notes:
        out_console.print(f"[yellow]note:[/] {note}", markup=True)
    for a in ev.attacks:
        _render_attack(ev, a)


def evidence(
    directory: Annotated[Path, typer.Argument(help="Campaign directory (from campaign run).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the Evidence record.")] = False,
    fail_on: Annotated[str | None, typer.Option("--fail-on", help=FAIL_ON_HELP)] = None,
) -> None:
    """Statistics and derived JBG metrics (with provenance) of a campaign."""
    from jbgrade.evidence import SkippedLine, load_campaign_evidence
    from jbgrade.interop import parse_fail_on

    expr = parse_fail_on(fail_on, ("rate", "adjusted")) if fail_on is not None else None
    skipped: list[SkippedLine] = []
    ev = load_campaign_evidence(directory, skipped)
    if as_json:
        # The text view prints the evidence's note; JSON readers get it on stderr too.
        warn_skipped(skipped, "they count in no figure")
        print_json(ev.model_dump(mode="json"))
    else:
        render_evidence(ev)
    rates = [s.attack.rate for a in ev.attacks for s in a.targets if s.attack.rate is not None]
    adj = [s.adjusted for a in ev.attacks for s in a.targets if s.adjusted is not None]
    gate(expr, {"rate": max(rates, default=None), "adjusted": max(adj, default=None)})


def register(app: typer.Typer) -> None:
    app.command("evidence")(evidence)
