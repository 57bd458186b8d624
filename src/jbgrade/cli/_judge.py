"""``jbgrade judge eval FILE --judge SPEC [--json]``: a judge's error on labelled responses."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from jbgrade.cli._common import fail, out_console, print_json

__all__ = ["register"]


def _spec(text: str) -> dict[str, Any]:
    from jbgrade._errors import JudgeSpecError
    from jbgrade._yaml import load_located

    doc = load_located(text, "--judge", cls=JudgeSpecError)
    if not isinstance(doc.data, dict):
        raise JudgeSpecError("--judge must be a mapping, e.g. '{type: refusal}'")
    return dict(doc.data)


def judge_eval(
    file: Annotated[Path, typer.Argument(help="Labelled responses: .csv or .jsonl.")],
    judge: Annotated[str, typer.Option("--judge", help="Judge spec, e.g. '{type: refusal}'.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the evaluation as JSON.")] = False,
) -> None:
    """Measure a judge against labelled responses (success = label 1 = positive class)."""
    from jbgrade.judges._eval import evaluate_judge

    if not file.is_file():
        raise fail(f"{file}: no such file")
    ev = evaluate_judge(file, _spec(judge))
    if as_json:
        print_json(ev.model_dump(mode="json"))
        return
    c = ev.confusion
    out_console.print(f"judge {ev.judge} on {ev.file}: n={ev.n} (undecided {ev.undecided})")
    for name in ("precision", "recall", "specificity", "f1", "accuracy"):
        v = getattr(ev, name)
        iv = ev.intervals.get(name)
        ci = f"  [{iv.low:.3f}, {iv.high:.3f}] ({iv.method})" if iv else ""
        out_console.print(f"  {name:12s} {'n/a' if v is None else f'{v:.3f}'}{ci}")
    out_console.print(f"  confusion    tp={c.tp} fp={c.fp} fn={c.fn} tn={c.tn}")


def register(app: typer.Typer) -> None:
    sub = typer.Typer(help="Judges: measure their error.", no_args_is_help=True)
    sub.command("eval")(judge_eval)
    app.add_typer(sub, name="judge")
