"""``jbgrade evidence import FORMAT PATH --out DIR [--map FILE]``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from jbgrade.cli._common import err_console, out_console, print_json

if TYPE_CHECKING:
    from jbgrade.interop import CsafPublisher

__all__ = ["register"]


def import_cmd(
    fmt: Annotated[
        str,
        typer.Argument(
            metavar="FORMAT",
            help="garak, inspect, pyrit, promptfoo, jailbreakbench or harmbench.",
        ),
    ],
    path: Annotated[Path, typer.Argument(help="The tool's result file.")],
    out: Annotated[Path, typer.Option("--out", help="Campaign directory to write (new).")],
    mapping: Annotated[
        Path | None,
        typer.Option("--map", help="Mapping file (YAML/JSON): target, domains, baseline, ..."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
) -> None:
    """Import another red-team tool's results as a campaign directory."""
    from jbgrade.interop import import_evidence

    r = import_evidence(fmt, path, out, mapping)
    if as_json:
        print_json(
            {
                "directory": str(r.directory),
                "campaign": r.campaign,
                "attempts": r.attempts,
                "attacks": r.attacks,
                "targets": r.targets,
                "tool": r.tool,
                "tool_version": r.tool_version,
                "gaps": r.gaps,
            }
        )
        return
    out_console.print(
        f"Imported {r.attempts} attempts from {r.tool} {r.tool_version or '(version unknown)'} "
        f"into {r.directory} (campaign {r.campaign}; attacks {', '.join(r.attacks) or '-'}; "
        f"targets {', '.join(r.targets)})",
        markup=False,
    )
    for g in r.gaps:
        out_console.print(f"note: {g['message']}", markup=False)


def export_cmd(  # noqa: PLR0917 - a Typer command takes its options as parameters
    fmt: Annotated[
        str,
        typer.Argument(
            metavar="FORMAT",
            help="csaf, csaf-2.1, stix, sarif, avid, atlas or jef (and registered exporters).",
        ),
    ],
    report: Annotated[
        Path | None,
        typer.Argument(metavar="INPUT", help="A report.json (or give --case ID)."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="File to write (default: stdout).")
    ] = None,
    case: Annotated[
        str | None,
        typer.Option("--case", help="Export a registry case (its current assessment)."),
    ] = None,
    party: Annotated[
        str | None,
        typer.Option("--party", help="With --case: whose assessment (organisation name or id)."),
    ] = None,
    include_payload: Annotated[
        bool,
        typer.Option(
            "--include-payload",
            help="With --case: carry the payload (only for a caller entitled to it, "
            "outside the case's embargo; the disclosure is audited).",
        ),
    ] = False,
    db: Annotated[
        str | None, typer.Option("--db", help="With --case: database URL.", show_default=False)
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            "--token", envvar="JBGRADE_TOKEN", help="With --case: API token.", show_default=False
        ),
    ] = None,
    key_file: Annotated[
        Path | None,
        typer.Option("--key-file", help="With --include-payload: key file.", show_default=False),
    ] = None,
    publisher_namespace: Annotated[
        str | None,
        typer.Option(
            "--csaf-publisher-namespace",
            help="CSAF: the publishing organisation's URL (document.publisher.namespace); "
            "default $JBGRADE_CSAF_PUBLISHER_NAMESPACE, else https://jbgrade.invalid.",
            show_default=False,
        ),
    ] = None,
    publisher_name: Annotated[
        str | None,
        typer.Option(
            "--csaf-publisher-name",
            help="CSAF: the publisher's name; default $JBGRADE_CSAF_PUBLISHER_NAME, else jbgrade.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Export an assessment report (or a registry case) to another format.

    CSAF, STIX, SARIF, AVID, an ATLAS case study or JEF. Payloads only with
    --include-payload, on a registry case the caller may read outside its embargo."""
    from jbgrade.interop import exporter

    exp = exporter(fmt)  # unknown format: exit 2 before any work
    publisher = _publisher(fmt, exp.with_publisher is not None, publisher_namespace, publisher_name)
    data = _export_input(
        report,
        case=case,
        party=party,
        include_payload=include_payload,
        db=db,
        token=token,
        key_file=key_file,
    )
    _write(exp.dumps(exp(data, publisher)), out, fmt)


def _write(text: str, out: Path | None, fmt: str) -> None:
    """The export on stdout, or in ``out`` with one line saying so."""
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
        out_console.print(f"Wrote {fmt} export to {out}", markup=False)


def _export_input(
    report: Path | None,
    *,
    case: str | None,
    party: str | None,
    include_payload: bool,
    db: str | None,
    token: str | None,
    key_file: Path | None,
) -> dict[str, Any]:
    """What to export: a registry case (``--case``) or a report file, never both."""
    from jbgrade._errors import InputError

    if case is not None:
        if report is not None:
            raise InputError("give either INPUT or --case, not both")
        return _case_report(
            case, party=party, include_payload=include_payload, db=db, token=token, key=key_file
        )
    if report is None:
        raise InputError("give a report.json (INPUT) or --case ID")
    if include_payload or party is not None:
        raise InputError(
            "--include-payload and --party need --case: payloads are exported only "
            "from a registry case, where access and embargo are checked"
        )
    return _read_report(report)


def _read_report(report: Path) -> dict[str, Any]:
    """A report file as a JSON object (exit 2 with one line when it is not one)."""
    import json

    from jbgrade._errors import InputError

    try:
        loaded = json.loads(report.read_text("utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", path=str(report)) from None
    except ValueError as exc:
        raise InputError(f"not JSON: {exc}", path=str(report)) from None
    if not isinstance(loaded, dict):
        raise InputError("not an assessment report", path=str(report))
    return loaded


def _publisher(
    fmt: str, takes: bool, namespace: str | None, name: str | None
) -> CsafPublisher | None:
    """The CSAF publisher for a CSAF export (options, else environment, else default);
    None for other formats, where the options are an input error."""
    from jbgrade._errors import InputError
    from jbgrade.interop import csaf_publisher

    if not takes:
        if namespace is not None or name is not None:
            raise InputError(
                f"--csaf-publisher-namespace/--csaf-publisher-name apply to csaf exports, not {fmt}"
            )
        return None
    pub = csaf_publisher(name=name, namespace=namespace)
    if not pub.configured:
        err_console.print(
            "note: CSAF publisher namespace not set; the advisory names the placeholder "
            "https://jbgrade.invalid (give --csaf-publisher-namespace or set "
            "JBGRADE_CSAF_PUBLISHER_NAMESPACE)",
            markup=False,
        )
    return pub


def _case_report(
    case_id: str,
    *,
    party: str | None,
    include_payload: bool,
    db: str | None,
    token: str | None,
    key: Path | None,
) -> dict[str, Any]:
    from jbgrade._errors import InputError
    from jbgrade.cli._registry import open_registry
    from jbgrade.interop import case_report

    if not token:
        raise InputError("--case needs an API token (--token or $JBGRADE_TOKEN)", field="token")
    with open_registry(db, key, need_key=include_payload) as reg:
        actor = reg.authenticate_token(token)
        return case_report(reg, actor, case_id, party=party, include_payload=include_payload)


def compare_cmd(  # noqa: PLR0917 - a Typer command takes its options as parameters
    old: Annotated[Path, typer.Argument(help="Campaign directory of the old model/defence.")],
    new: Annotated[Path, typer.Argument(help="Campaign directory of the new one.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the comparison as JSON.")] = False,
    fail_on: Annotated[
        str | None, typer.Option("--fail-on", help="CI gate; e.g. regression.")
    ] = None,
    html: Annotated[
        Path | None, typer.Option("--html", help="Also write the comparison as an HTML page.")
    ] = None,
    effect: Annotated[
        float,
        typer.Option(
            "--effect", help="Change in success rate the power is computed for (absolute)."
        ),
    ] = 0.10,
) -> None:
    """Paired comparison of two campaigns: exact McNemar per domain (Holm), verdict.

    Also each domain's power to detect a change of --effect at its observed
    discordance."""
    from jbgrade.cli._common import gate
    from jbgrade.interop import compare_campaigns, parse_fail_on

    expr = parse_fail_on(fail_on, ("regression",)) if fail_on is not None else None
    c = compare_campaigns(old, new, effect=effect)
    if html is not None:
        from jbgrade.reports import render_comparison_html

        html.write_text(render_comparison_html(c), encoding="utf-8")
    if as_json:
        print_json(c.to_dict())
    else:
        out_console.print(
            f"{c.verdict}"
            + (f" (domains {', '.join(c.responsible_domains)})" if c.responsible_domains else "")
            + f": {c.pairs} paired attempts, {c.unpaired} unpaired",
            markup=False,
        )
        for d in c.domains:
            out_console.print(
                f"  {d.domain}: {d.pairs} pairs, success {d.old_rate:.2f} -> {d.new_rate:.2f}, "
                f"{d.worse} worse / {d.better} better, p {d.p_value:.3g} (Holm {d.p_holm:.3g}); "
                f"power {d.power:.2f} to detect a {c.effect:.2f} change at discordance "
                f"{d.discordance:.2f}, detects "
                + (f">= {d.detectable_effect:.2f}" if d.detectable_effect else "no change")
                + " with probability 0.8",
                markup=False,
            )
        out_console.print(
            f"  resolution: a domain needs at least {c.min_detectable_pairs} one-sided "
            "discordant pairs to show a change",
            markup=False,
        )
        for k, v in c.metrics.items():
            if v["old"] != v["new"]:
                out_console.print(f"  {k}: {v['old']} -> {v['new']}", markup=False)
        if html is not None:
            out_console.print(f"Wrote {html}", markup=False)
    gate(expr, {"regression": c.verdict == "regressed"})


def register(app: typer.Typer) -> None:
    app.command("export")(export_cmd)
    app.command("compare")(compare_cmd)
    sub = typer.Typer(help="Evidence from other tools.", no_args_is_help=True)
    sub.command("import")(import_cmd)
    app.add_typer(sub, name="evidence")
