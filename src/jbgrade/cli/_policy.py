"""``jbgrade decide`` and ``jbgrade policy list | show | check | compare | diff``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.panel import Panel
from rich.table import Table

from jbgrade.cli._common import FAIL_ON_HELP, gate, out_console, print_json

if TYPE_CHECKING:
    from jbgrade.policy import Decision, Profile

__all__ = ["register"]

_ACTION_STYLE = {
    "none": "dim",
    "monitor": "green",
    "mitigate": "yellow",
    "restrict_export": "bold dark_orange",
    "block_deployment": "bold white on red",
}


def _load_context(path: Path | None) -> dict[str, Any] | None:
    from jbgrade.policy import load_context_file

    return None if path is None else load_context_file(path)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, bool):
        return str(v).lower()
    return str(v)


def render_decision(d: Decision) -> None:
    """Print a decision for people."""
    style = _ACTION_STYLE.get(d.action, "")
    flags = " [yellow]provisional[/]" if d.provisional else ""
    head = f"[{style}] {d.action} [/]{flags}\n{d.vector}\nprofile {d.profile} {d.profile_version}"
    out_console.print(Panel(head, title="Decision", expand=False))
    for fr in d.fired_rules:
        label = {"rule": "rule", "gate": "gate", "assumption": "assumed"}[fr.kind]
        act = f" -> {fr.action}" if fr.action and fr.kind == "rule" else ""
        out_console.print(f"[bold]{label} {fr.id}[/]{act}: {fr.title}", highlight=False)
        cite = fr.citation
        if not cite.empty:
            text = (
                "illustrative"
                if cite.illustrative
                else ", ".join(v for v in (cite.title, cite.section) if v)
            )
            out_console.print(f"    citation: {text}", markup=False)
        for c in fr.conditions:
            mark = "ok " if c.holds else "no "
            extra = ""
            if c.given is not None:
                extra = f" (given {c.given}: {c.reason})"
            elif c.assumed:
                extra = f" (assumed: {c.reason})"
            out_console.print(f"    {mark}{c.on} {c.test}: {_fmt(c.actual)}{extra}", markup=False)
    if d.obligations:
        t = Table(title="Obligations", title_justify="left")
        for col in ("due", "party", "what", "period", "rules"):
            t.add_column(col)
        for o in d.obligations:
            period = f"{o.days} {o.calendar} days from {o.clock}"
            if o.clock != "awareness":
                period += f" ({o.clock_start.isoformat()}" + (
                    ", not given: awareness date used)" if o.clock_start_assumed else ")"
                )
            if o.recurs_every_days:
                period += f", then every {o.recurs_every_days} days"
            t.add_row(o.due.isoformat(), o.party, o.what, period, ", ".join(o.rules))
        out_console.print(t)
    if d.near_misses:
        t = Table(
            title="Near misses (one change away, would change the decision)", title_justify="left"
        )
        for col in ("rule", "action", "single change", "decision becomes"):
            t.add_column(col)
        for n in d.near_misses:
            for ch in n.changes:
                t.add_row(n.id, n.action, f"{ch.on}: {_fmt(ch.from_)} -> {_fmt(ch.to)}", ch.action)
        out_console.print(t)
    out_console.print(f"bundle sha256 {d.bundle_sha256}", markup=False)


def decide_cmd(
    vector: Annotated[str, typer.Argument(help="A JBG vector.")],
    *,
    profile: Annotated[
        str, typer.Option("--profile", "-p", help="Profile name (see 'policy list') or file.")
    ],
    context: Annotated[
        Path | None,
        typer.Option("--context", help="Context file (YAML or JSON mapping of field: value)."),
    ] = None,
    aware_on: Annotated[
        str | None, typer.Option("--aware-on", help="Awareness date (YYYY-MM-DD); default today.")
    ] = None,
    notified_on: Annotated[
        str | None, typer.Option("--notified-on", help="Notification date, if already made.")
    ] = None,
    patched_on: Annotated[
        str | None, typer.Option("--patched-on", help="Patch / resolution date, if known.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the decision as JSON.")] = False,
    fail_on: Annotated[str | None, typer.Option("--fail-on", help=FAIL_ON_HELP)] = None,
) -> None:
    """Decide what a policy profile requires for a graded jailbreak."""
    from jbgrade.interop import parse_fail_on
    from jbgrade.policy import decide, load_profile

    expr = parse_fail_on(fail_on) if fail_on is not None else None
    d = decide(
        vector,
        _load_context(context),
        load_profile(profile),
        aware_on=aware_on,
        notified_on=notified_on,
        patched_on=patched_on,
    )
    if as_json:
        print_json(d.to_dict())
    else:
        render_decision(d)
    if expr is not None:
        from jbgrade import grade

        g = grade(vector)
        gate(
            expr,
            {
                "action": d.action,
                "severity": g.severity,
                "score": g.score,
                "systemic": g.systemic,
                "provisional": bool(d.provisional),
            },
        )


def list_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """List the shipped policy profiles."""
    from jbgrade.policy import list_profiles, load_profile

    profs = [load_profile(n) for n in list_profiles()]
    if as_json:
        print_json([p.summary_dict() for p in profs])
        return
    t = Table()
    for col in ("id", "version", "status", "in force from", "rules", "title"):
        t.add_column(col)
    for p in profs:
        title = p.title + (" [illustrative]" if p.illustrative else "")
        t.add_row(p.id, p.version, p.status, p.effective_from.isoformat(), str(len(p.rules)), title)
    out_console.print(t)


def _show(p: Profile) -> None:
    out_console.print(
        Panel(
            f"[bold]{p.title}[/]\n{p.id} {p.version} ({p.status}"
            + (", illustrative" if p.illustrative else "")
            + f")\nin force from {p.effective_from}"
            + (f" to {p.effective_to}" if p.effective_to else "")
            + (f", rescinded on {p.rescinded_on}" if p.rescinded_on else "")
            + f"\n{p.source}\nbundle sha256 {p.bundle_sha256}",
            expand=False,
        )
    )
    if p.summary:
        out_console.print(p.summary, markup=False)
    if p.context:
        t = Table(title="Context", title_justify="left")
        for col in ("field", "values", "ordered", "default (precaution)"):
            t.add_column(col)
        for f in p.context.values():
            vals = (
                ", ".join(f.values)
                if f.type == "enum"
                else f"number{' ' + f.unit if f.unit else ''}"
            )
            t.add_row(f.name, vals, "yes" if f.ordered else "no", _fmt(f.default))
        out_console.print(t)
    if p.gates:
        gates = " OR ".join(
            "(" + " and ".join(f"{a.on} {a.test}" for a in g) + ")" for g in p.gates
        )
        out_console.print(f"Applies when: {gates}", markup=False)
    t = Table(title="Rules", title_justify="left")
    for col in ("id", "when", "action", "obligations", "citation"):
        t.add_column(col)
    for r in p.rules:
        when = "; ".join(f"{a.on} {a.test}" for a in r.atoms) or "always"
        t.add_row(r.id, when, r.action, ", ".join(r.obligations), r.citation.text())
    out_console.print(t)
    t = Table(title="Obligations", title_justify="left")
    for col in ("id", "party", "what", "within"):
        t.add_column(col)
    for o in p.obligations.values():
        within = f"{o.days} {o.calendar} days from {o.clock}"
        if o.repeat_every_days:
            within += f", every {o.repeat_every_days} days"
        t.add_row(o.id, o.party, o.what, within)
    out_console.print(t)
    if p.domains:
        out_console.print(
            "Unacceptable tiers: "
            + "; ".join(f"{d.letter} ({d.name}): {d.unacceptable}" for d in p.domains.values()),
            markup=False,
        )


def show_cmd(
    profile: Annotated[str, typer.Argument(help="Profile name or file.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print summary and document.")] = False,
) -> None:
    """Show a profile: context, gates, rules, obligations, domain tiers."""
    from jbgrade.policy import load_profile

    p = load_profile(profile)
    if as_json:
        print_json({**p.summary_dict(), "document": p.document})
    else:
        _show(p)


def check_cmd(
    profiles: Annotated[
        list[str] | None,
        typer.Argument(help="Profile files or names (default: every shipped profile)."),
    ] = None,
    *,
    as_json: Annotated[bool, typer.Option("--json", help="Print the reports as JSON.")] = False,
    examples: Annotated[
        int, typer.Option("--examples", min=1, help="Findings shown per check and rule.")
    ] = 3,
) -> None:
    """Check profiles: schema, coverage, monotonicity (exhaustive), reachability, shadowing,
    domain tiers. Exit 1 on any violation (file:line, rule id); 2 if a profile is malformed."""
    from jbgrade.policy import check_profile, list_profiles, load_profile

    refs = profiles or list_profiles()
    # Load everything first: a malformed file is bad input (exit 2), not a finding.
    loaded = [load_profile(r) for r in refs]
    reports = [check_profile(p, max_examples=examples) for p in loaded]
    bad = any(not r.ok for r in reports)
    if as_json:
        print_json([r.to_dict() for r in reports])
    else:
        for r in reports:
            st = r.stats
            head = (
                f"{'OK  ' if r.ok else 'FAIL'} {r.profile} {r.version} ({r.source}): "
                f"{st['vectors']:,} vectors x {st['context_combinations']} context "
                f"combination(s), {st['single_step_raises']:,} single-step raises, "
                f"{st['rules']} rules, {r.seconds:.2f} s"
            )
            out_console.print(head, markup=False)
            for f in r.findings:
                out_console.print(f"  {f}", markup=False)
            shown: dict[str, int] = {}
            for f in r.findings:
                k = f"{f.check}:{f.rule}" if f.rule else f.check
                shown[k] = shown.get(k, 0) + 1
            for k, n in st["violations"].items():
                if n > shown.get(k, 0):
                    out_console.print(f"  ... {n - shown.get(k, 0)} more {k}", markup=False)
            for note in r.notes:
                out_console.print(f"  note: {note}", markup=False)
    if bad:
        raise typer.Exit(1)


def compare_cmd(
    vector: Annotated[str, typer.Argument(help="A JBG vector.")],
    *,
    profiles: Annotated[
        list[str] | None,
        typer.Option("--profile", "-p", help="Profiles to compare (default: all shipped)."),
    ] = None,
    context: Annotated[
        Path | None, typer.Option("--context", help="Context file (YAML or JSON).")
    ] = None,
    aware_on: Annotated[
        str | None, typer.Option("--aware-on", help="Awareness date (YYYY-MM-DD).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """Decide one vector under several profiles, side by side."""
    from jbgrade.policy import decide, list_profiles, load_profile

    ctx = _load_context(context)
    decisions = [
        decide(vector, ctx, load_profile(p), aware_on=aware_on)
        for p in (profiles or list_profiles())
    ]
    if as_json:
        print_json(
            {
                "vector": decisions[0].vector if decisions else vector,
                "aware_on": decisions[0].aware_on.isoformat()
                if decisions and decisions[0].aware_on
                else None,
                "decisions": {d.profile: d.to_dict() for d in decisions},
            }
        )
        return
    out_console.print(decisions[0].vector if decisions else vector, markup=False)
    t = Table()
    t.add_column("profile", no_wrap=True)
    t.add_column("action", no_wrap=True)
    t.add_column("decided by", overflow="fold")
    t.add_column("obligations (first due)")
    t.add_column("flags")
    for d in decisions:
        first = min(d.obligations, key=lambda o: o.due) if d.obligations else None
        flags = []
        if d.provisional:
            flags.append("provisional")
        gate = next((r for r in d.fired_rules if r.kind == "gate" and r.action == "none"), None)
        if gate is not None:
            flags.append("not applicable" if gate.id == "applies_when" else "not in force")
        top = [r.id for r in d.fired_rules if r.kind == "rule" and r.action == d.action]
        t.add_row(
            f"{d.profile} {d.profile_version}",
            f"[{_ACTION_STYLE.get(d.action, '')}]{d.action}[/]",
            ", ".join(top) or "-",
            f"{len(d.obligations)} ({first.due} {first.id})" if first else "0",
            ", ".join(flags),
        )
    out_console.print(t)


def diff_cmd(
    old: Annotated[str, typer.Argument(help="Old profile (file or name).")],
    new: Annotated[str, typer.Argument(help="New profile (file or name).")],
    *,
    context: Annotated[
        Path | None,
        typer.Option("--context", help="Fix the context (default: every declared combination)."),
    ] = None,
    examples: Annotated[
        int, typer.Option("--examples", min=0, help="Examples per transition.")
    ] = 5,
    list_all: Annotated[
        bool, typer.Option("--all", help="List every changed (vector, context) point.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """Which grades change action between two profiles (e.g. two versions of one)."""
    from jbgrade.policy import diff_profiles, load_profile

    rep = diff_profiles(
        load_profile(old),
        load_profile(new),
        context=_load_context(context),
        examples=examples,
        list_all=list_all,
    )
    if as_json:
        print_json(rep.to_dict())
        return
    o, n = rep.old, rep.new
    out_console.print(
        f"{o['profile']} {o['version']} -> {n['profile']} {n['version']}: "
        f"{rep.vectors:,} vectors x {len(rep.contexts)} context combination(s) = "
        f"{rep.points:,} points",
        markup=False,
    )
    out_console.print(
        f"action changes at {rep.changed_points:,} points ({rep.vectors_changed:,} distinct "
        f"vectors); obligations change at {rep.obligation_changes:,} points",
        markup=False,
    )
    if rep.transitions:
        t = Table(title="Action changes", title_justify="left")
        for col in ("from", "to", "direction", "points", "example"):
            t.add_column(col)
        for tr in rep.transitions:
            ex = tr.examples[0] if tr.examples else None
            exs = ""
            if ex:
                exs = ex["vector"] + (f" {_ctx_text(ex['context'])}" if ex["context"] else "")
            t.add_row(tr.old, tr.new, tr.direction, f"{tr.points:,}", exs)
        out_console.print(t)
        for tr in rep.transitions:
            out_console.print(f"{tr.old} -> {tr.new}:", markup=False)
            for ex in tr.examples:
                ctx = f" {_ctx_text(ex['context'])}" if ex["context"] else ""
                out_console.print(f"  {ex['vector']}{ctx}", markup=False)
    for label, counts in (("added", rep.obligations_added), ("removed", rep.obligations_removed)):
        if counts:
            out_console.print(
                f"obligations {label}: "
                + ", ".join(f"{k} ({v:,} points)" for k, v in counts.items()),
                markup=False,
            )
    if rep.changed is not None:
        for ch in rep.changed:
            ctx = f" {_ctx_text(ch['context'])}" if ch["context"] else ""
            out_console.print(f"{ch['vector']}{ctx}: {ch['from']} -> {ch['to']}", markup=False)


def _ctx_text(values: dict[str, Any]) -> str:
    return "{" + ", ".join(f"{k}={_fmt(v)}" for k, v in values.items()) + "}"


def register(app: typer.Typer) -> None:
    app.command("decide")(decide_cmd)
    sub = typer.Typer(
        help="Policy profiles: list, show, check, compare, diff.", no_args_is_help=True
    )
    sub.command("list")(list_cmd)
    sub.command("show")(show_cmd)
    sub.command("check")(check_cmd)
    sub.command("compare")(compare_cmd)
    sub.command("diff")(diff_cmd)
    app.add_typer(sub, name="policy")
