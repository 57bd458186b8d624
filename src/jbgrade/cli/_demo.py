"""``jbgrade demo``: the main job on the embedded default (no network)."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer

from jbgrade.cli._common import out_console
from jbgrade.cli._rubric import render_explanation
from jbgrade.rubric import grade

__all__ = ["register"]


def demo(
    out: Annotated[Path, typer.Option("--out", help="Directory for the demo's outputs.")] = Path(
        "jbgrade-demo-out"
    ),
) -> None:
    """Run the bundled demonstration end to end (no network)."""
    examples = json.loads(
        resources.files("jbgrade.rubric").joinpath("data/examples.json").read_text("utf-8")
    )
    out.mkdir(parents=True, exist_ok=True)
    grades = []
    for ex in examples:
        out_console.rule(f"[bold]{ex['name']}[/]")
        out_console.print(ex["description"], markup=False)
        g = grade(ex["vector"])
        render_explanation(g)
        grades.append({"name": ex["name"], **g.to_dict()})
    path = out / "grades.json"
    path.write_text(json.dumps(grades, indent=2) + "\n", encoding="utf-8")
    out_console.print(f"\nWrote {path}", markup=False)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
