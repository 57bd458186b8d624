"""``jbgrade decide`` and ``jbgrade policy list | show | check | compare | diff``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.panel import Panel
from rich.table import Table

from jbgrade._errors import PolicyError
from jbgrade.cli._common import out_console, print_json
from jbgrade.policy import Decision, Profile, decide, list_profiles, load_profile

__all__ = ["register"]

_ACTION_STYLE = {
    "none": "dim",
    "monitor": "green",
    "mitigate": "yellow",
    "restrict_export": "bold dark_orange",
    "block_deployment": "bold white on red",
}


def _load_context(path: Path | None) -> dict[str, Any] | None:
    if path is None:
        return None
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise PolicyError("no such context file", path=str(path)) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"cannot read context file: {exc}", path=str(path)) from exc
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        line = line + 1 if line is not None else getattr(exc, "lineno", None)
        raise PolicyError(
            f"context file is not valid {'JSON' if path.suffix == '.json' else 'YAML'}",
            path=str(path),
            line=line,
        ) from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise PolicyError("context file must hold a mapping of field: value", path=str(path))
    return data


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
        if cite:
            text = (
                "illustrative"
                if cite.get("illustrative")
                else ", ".join(str(cite[k]) for k in ("title", "section") if cite.get(k))
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
) -> None:
    """Decide what a policy profile requires for a graded jailbreak."""
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


def list_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """List the shipped policy profiles."""
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
    p = load_profile(profile)
    if as_json:
        print_json({**p.summary_dict(), "document": p.document})
    else:
        _show(p)


def register(app: typer.Typer) -> None:
    app.command("decide")(decide_cmd)
    sub = typer.Typer(
        help="Policy profiles: list, show, check, compare, diff.", no_args_is_help=True
    )
    sub.command("list")(list_cmd)
    sub.command("show")(show_cmd)
    app.add_typer(sub, name="policy")
