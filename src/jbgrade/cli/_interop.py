"""``jbgrade evidence import FORMAT PATH --out DIR [--map FILE]``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from jbgrade.cli._common import out_console, print_json

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


def register(app: typer.Typer) -> None:
    sub = typer.Typer(help="Evidence from other tools.", no_args_is_help=True)
    sub.command("import")(import_cmd)
    app.add_typer(sub, name="evidence")
