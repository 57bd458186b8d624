"""``jbgrade migrate`` and ``jbgrade crosswalk cjs | jef``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from jbgrade.cli._common import fail, out_console, print_json

__all__ = ["register"]


def migrate(
    vector: Annotated[str, typer.Argument(help="A JBG 1.0 vector.")],
    to: Annotated[str, typer.Option("--to", help="Target version.")] = "1.1",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Map a JBG 1.0 vector to JBG 1.1 and explain each mapping."""
    from jbgrade.rubric import grade, migrate_vector

    m = migrate_vector(vector, to=to)
    if as_json:
        print_json(
            {
                "from": m.from_version,
                "to": m.to_version,
                "vector": m.vector,
                "notes": list(m.notes),
                "source": m.source,
            }
        )
        return
    before, after = grade(m.source), grade(m.vector)
    out_console.print(f"{m.source}  {before.score:.1f} {before.severity}", markup=False)
    out_console.print(f"{m.vector}  {after.score:.1f} {after.severity}", markup=False)
    for n in m.notes:
        out_console.print(f"- {n}", markup=False)


def _vector_of(arg: str) -> str:
    """A vector, or the path of a JSON file holding one (a grade, a report, a case)."""
    if arg.startswith("JBG:"):
        return arg
    p = Path(arg)
    if not p.is_file():
        raise fail(f"{arg!r} is neither a JBG vector nor a readable file")
    try:
        doc: Any = json.loads(p.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise fail(f"{p}: not a JSON report ({exc})") from None
    for path in (("vector",), ("grade", "vector"), ("assessment", "vector")):
        cur: Any = doc
        for k in path:
            cur = cur.get(k) if isinstance(cur, dict) else None
        if isinstance(cur, str):
            return cur
    raise fail(f"{p}: no 'vector' (nor grade.vector) in the report")


def cjs_cmd(
    vector_or_report: Annotated[
        str, typer.Argument(metavar="VECTOR_OR_REPORT", help="A JBG vector or a JSON report.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Crosswalk a JBG grade to the labs' draft CJS scale (informative)."""
    from jbgrade.crosswalk import cjs

    r = cjs(_vector_of(vector_or_report))
    if as_json:
        print_json(r.to_dict())
        return
    out_console.print(
        f"{r.band} {r.band_name}  (JBG {r.jbg_score:.1f} {r.jbg_severity}; informative)",
        markup=False,
    )
    for k, v in r.axes.items():
        out_console.print(f"  {k:<22} {v}  {r.reasons[k]}", markup=False)
    out_console.print(f"  band: {r.reasons['band']}", markup=False)
    for n in r.notes:
        out_console.print(f"  note: {n}", markup=False)


def jef_cmd(
    evidence: Annotated[
        Path | None,
        typer.Argument(help="Evidence JSON ('jbgrade evidence' output); or give the inputs."),
    ] = None,
    *,
    vendors: Annotated[int | None, typer.Option("--vendors", min=0)] = None,
    models: Annotated[int | None, typer.Option("--models", min=0)] = None,
    subjects: Annotated[int | None, typer.Option("--subjects", min=0)] = None,
    fidelity: Annotated[float | None, typer.Option("--fidelity", min=0.0, max=100.0)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Compute 0DIN's JEF score from campaign evidence or from its four inputs."""
    from jbgrade.crosswalk import jef_from_evidence, jef_score

    given = [vendors, models, subjects, fidelity]
    if evidence is None:
        if any(x is None for x in given):
            raise fail("give an evidence file, or all of --vendors --models --subjects --fidelity")
        assert vendors is not None and models is not None and subjects is not None
        assert fidelity is not None
        results = [jef_score(vendors, models, subjects, fidelity)]
    else:
        if any(x is not None for x in given):
            raise fail("give an evidence file or the four inputs, not both")
        try:
            doc = json.loads(evidence.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise fail(f"{evidence}: no such file") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise fail(f"{evidence}: not JSON ({exc})") from None
        results = jef_from_evidence(doc)
    if as_json:
        print_json([r.to_dict() for r in results] if evidence is not None else results[0].to_dict())
        return
    for r in results:
        name = f"{r.attack}: " if r.attack else ""
        out_console.print(
            f"{name}JEF {r.score:.2f}  (vendors {r.vendors}, models {r.models}, "
            f"subjects {r.subjects}, fidelity {r.fidelity:.1f}; informative)",
            markup=False,
        )


def register(app: typer.Typer) -> None:
    app.command("migrate")(migrate)
    cw = typer.Typer(
        help="Informative crosswalks to other scales (CJS, JEF).", no_args_is_help=True
    )
    cw.command("cjs")(cjs_cmd)
    cw.command("jef")(jef_cmd)
    app.add_typer(cw, name="crosswalk")
