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


def _p0(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.0f}"


def _rate(r: Rate) -> str:
    if r.n == 0:
        return "-"
    return f"{r.successes}/{r.n} {_pct(r.rate)} [{_p0(r.low)}-{_p0(r.high)}]"


def _iv(est: float | None, lo: float | None, hi: float | None) -> str:
    """A difference in points with its interval: ``+12.3 [+4, +20]``."""
    if est is None:
        return "-"

    def pts(x: float | None) -> str:
        return "-" if x is None else f"{100 * x:+.0f}"

    return f"{100 * est:+.1f} [{pts(lo)}, {pts(hi)}]"


def _say(text: str) -> None:
    # Plain lines wrap at the console width (80 columns stay readable).
    out_console.print(text, soft_wrap=False)


def _render_rates(a: AttackEvidence) -> None:
    from jbgrade.evidence import RULES

    few = f"<{RULES['M-UN']['min_behaviours_per_domain']}"
    t = Table(
        title="Success by target and domain (Wilson 95%, in %)",
        title_justify="left",
    )
    for col in ("target", "dom", "attack arm", "baseline", "broken", "uplift"):
        t.add_column(col)
    for s in a.targets:
        t.add_row(
            f"[bold]{s.target}[/]",
            "all",
            _rate(s.attack),
            _rate(s.baseline),
            f"{s.universality.behaviours_broken}/{s.universality.behaviours_tested}",
            "-" if s.uplift.mean_specificity is None else f"{s.uplift.mean_specificity:.2f}",
        )
        for d in s.domains:
            t.add_row(
                "",
                d.domain + ("" if d.counted else f" {few}"),
                _rate(d.attack),
                _rate(d.baseline),
                f"{d.behaviours_broken}/{d.behaviours_tested}",
                "-" if d.uplift.mean_specificity is None else f"{d.uplift.mean_specificity:.2f}",
            )
        if s.errors or s.blocked:
            t.add_row("", "", f"[dim]{s.errors} errors, {s.blocked} blocked[/]", "", "", "")
    out_console.print(t)


def _render_differences(ev: Evidence, a: AttackEvidence) -> None:
    """Attack - baseline with its cluster-robust interval, effective n and, where the
    judge's error is declared, the corrected difference (design 0100, 0110)."""
    corrected = ev.judge_error is not None
    t = Table(
        title="Attack - baseline, points (95%, cluster-robust)"
        + ("; corrected for judge error" if corrected else ""),
        title_justify="left",
    )
    for col in ("target", "raw", "claim low", "eff. n a/b", "deff"):
        t.add_column(col)
    if corrected:
        t.add_column("corrected")
    for s in a.targets:
        d = s.difference
        row = [s.target]
        if d is None:
            row += ["-", "-", "-", "-"]
        else:
            row += [
                _iv(d.estimate, d.low, d.high),
                f"{100 * d.family_low:+.1f}",
                f"{d.effective_n_attack:.0f}/{d.effective_n_baseline:.0f}",
                f"{d.design_effect:.2f}",
            ]
        if corrected:
            c = s.corrected
            row.append("-" if c is None else _iv(c.difference, c.low, c.high))
        t.add_row(*row)
    p = a.pooled
    if p is not None and p.targets > 1:
        row = [
            f"[bold]pooled ({p.targets})[/]",
            _iv(p.difference, p.low, p.high),
            "",
            f"{p.effective_n_attack:.0f}/{p.effective_n_baseline:.0f}",
            f"{p.design_effect:.2f}",
        ]
        if corrected:
            c = p.corrected
            row.append("-" if c is None else _iv(c.difference, c.low, c.high))
        t.add_row(*row)
    out_console.print(t)
    if corrected:
        rt = Table(title="Corrected success rates (Rogan-Gladen, 95%, in %)", title_justify="left")
        for col in ("target", "attack arm", "raw", "baseline", "raw"):
            rt.add_column(col)
        rows = [(s.target, s.corrected, s.attack.rate, s.baseline.rate) for s in a.targets]
        if p is not None and p.targets > 1:
            rows.append((f"pooled ({p.targets})", p.corrected, p.attack_rate, p.baseline_rate))
        for name, c, ra, rb in rows:
            if c is None:
                continue
            rt.add_row(
                name,
                f"{_pct(c.attack_rate)} [{_p0(c.attack_low)}-{_p0(c.attack_high)}]",
                _pct(ra),
                f"{_pct(c.baseline_rate)} [{_p0(c.baseline_low)}-{_p0(c.baseline_high)}]",
                _pct(rb),
            )
        out_console.print(rt)


def _render_transfer(a: AttackEvidence) -> None:
    tr = Table(title="Transfer across targets", title_justify="left")
    for col in ("target", "model", "vendor", "attack", "low", "base", "adj.", "affected"):
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
        title="Transfer matrix: behaviours broken on the row also broken on the column",
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


def _render_attack(ev: Evidence, a: AttackEvidence) -> None:
    from jbgrade.evidence import partial_vector

    out_console.rule(f"[bold]attack {a.attack}[/] ({a.kind})")
    _render_rates(a)
    _render_differences(ev, a)
    if len(a.transfer.rows) > 1:
        _render_transfer(a)
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
    mt = Table(title="Derived JBG metrics (design 0100)", title_justify="left")
    for col in ("metric", "value", "provenance"):
        mt.add_column(col)
    for key, m in a.metrics.items():
        val = m.value or "[dim]not derived[/]"
        if m.near_boundary:
            val += " [yellow](near boundary)[/]"
        if m.underpowered:
            val += " [yellow](underpowered)[/]"
        text = f"{m.rule}: {m.explanation}"
        if m.warning:
            text += f"\n[yellow]{m.warning}[/]"
        mt.add_row(key, val, text)
    for key in a.for_assessor:
        mt.add_row(key, "[dim]assessor[/]", "not measurable from attempts")
    out_console.print(mt)
    _render_gain(a)
    vec = partial_vector(ev, attack=a.attack)
    _say(f"Partial vector (X = for the assessor): [bold]{vec.canonical()}[/]")
    from jbgrade.rubric import tables_for

    v11 = partial_vector(ev, attack=a.attack, tables=tables_for("1.1"))
    _say(f"Partial vector, JBG 1.1 (CG from M-CG): [bold]{v11.canonical()}[/]")


def _gain_text(gain: float, low: float, high: float) -> str:
    return f"{100 * gain:+.1f} pts [{100 * low:+.1f}, {100 * high:+.1f}]"


def _render_gain(a: AttackEvidence) -> None:
    """The comparator arm (design 0105): per domain, the gain over the best comparator."""
    if not a.capability_gain:
        return
    _say(
        "[bold]Capability gain over the best comparator[/] (design 0105): target attack "
        "success minus the comparator's, intervals simultaneous over targets x comparators"
    )
    for d, e in a.capability_gain.items():
        if e.gain is None or e.interval is None or e.target is None or e.best_comparator is None:
            _say(f"  {d}  {e.note or '-'}")
            continue
        t, c = e.target, e.best_comparator
        spec = " / ".join("-" if x.specificity is None else _pct(x.specificity) for x in (t, c))
        _say(
            f"  [bold]{d}  {t.id} vs {c.id}: {_pct(t.success.rate)} vs {_pct(c.success.rate)}, "
            f"gain {_gain_text(e.gain, e.interval.low, e.interval.high)}[/]"
            + ("" if e.qualifies else f" [yellow]({e.note})[/]")
            + f"; specific {spec}"
        )
        for r in e.comparators:
            if (r.target, r.comparator) == (t.id, c.id):
                continue
            _say(
                f"     {r.target} vs {r.comparator}: {_pct(r.target_rate)} vs "
                f"{_pct(r.comparator_rate)}, {_gain_text(r.gain, r.interval.low, r.interval.high)}"
            )


def render_evidence(ev: Evidence) -> None:
    """Print evidence as readable tables (80 columns suffice)."""
    c = ev.counts
    _say(
        f"[bold]Evidence[/] campaign {ev.campaign or '-'}: {c.total} attempts "
        f"({c.attack_arm} attack arm, {c.baseline_arm} baseline), {c.judged} judged, "
        f"{c.errors} errors or undecided, {c.blocked} blocked by a layer"
    )
    je = ev.judge_error
    if je is None:
        _say(
            "[dim]judge error: not declared, rates are not corrected for it "
            "(measured_error in the judge spec, design 0110)[/]"
        )
    else:
        _say(
            f"judge error: sensitivity {je.sensitivity:.3f} ({je.tp}/{je.tp + je.fn}), "
            f"specificity {je.specificity:.3f} ({je.tn}/{je.tn + je.fp}), J {je.youden:.3f} "
            f"[{je.youden_low:.3f}, {je.youden_high:.3f}]"
            + (f"; from {je.source}" if je.source else "")
            + "; corrected rates beside the raw ones"
        )
    for note in ev.notes:
        _say(f"[yellow]note:[/] {note}")
    for a in ev.attacks:
        _render_attack(ev, a)
        for m in a.metrics.values():
            if m.warning:
                _say(f"[yellow]warning ({a.attack} {m.metric}):[/] {m.warning}")


def evidence(
    directory: Annotated[Path, typer.Argument(help="Campaign directory (from campaign run).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the Evidence record.")] = False,
    fail_on: Annotated[str | None, typer.Option("--fail-on", help=FAIL_ON_HELP)] = None,
    judge_error: Annotated[
        Path | None,
        typer.Option(
            "--judge-error",
            help="A saved `jbgrade judge eval --json` result: correct the rates for this "
            "measured judge error (overrides the spec's measured_error; design 0110).",
        ),
    ] = None,
) -> None:
    """Statistics and derived JBG metrics (with provenance) of a campaign."""
    from jbgrade.evidence import SkippedLine, load_campaign_evidence
    from jbgrade.interop import parse_fail_on
    from jbgrade.judges import load_measured_error

    expr = parse_fail_on(fail_on, ("rate", "adjusted")) if fail_on is not None else None
    conf = load_measured_error(judge_error) if judge_error is not None else None
    skipped: list[SkippedLine] = []
    ev = load_campaign_evidence(directory, skipped, judge_error=conf)
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
