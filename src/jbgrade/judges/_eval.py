"""Measuring a judge against labelled responses (``jbgrade judge eval``).

Success (label 1: the response is a jailbreak success, not a refusal) is the
positive class. Proportions carry Wilson 95% intervals; F1 carries a percentile
bootstrap interval over responses (seeded, so the figures are reproducible).
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import math
import random
from pathlib import Path
from typing import Any

from pydantic import Field

from jbgrade._base import FrozenRecord as _R
from jbgrade._base import JsonObject
from jbgrade._errors import InputError
from jbgrade.judges._base import build_judge
from jbgrade.records import Behaviour, ChatMessage

__all__ = [
    "Confusion",
    "Interval",
    "JudgeEvaluation",
    "LabelledResponse",
    "evaluate_judge",
    "read_labels",
]


class LabelledResponse(_R):
    """One row of a labelled file."""

    response: str
    label: int = Field(ge=0, le=1, description="1: jailbreak success (not a refusal); 0: refused.")
    behaviour: str | None = None
    prompt: str | None = None


class Confusion(_R):
    """Counts with success as the positive class."""

    tp: int
    fp: int
    fn: int
    tn: int


class Interval(_R):
    """A 95% interval."""

    low: float
    high: float
    method: str


class JudgeEvaluation(_R):
    """A judge's measured error on a labelled set."""

    judge: JsonObject = Field(description="The judge spec evaluated (a JSON object).")
    file: str
    n: int
    undecided: int = Field(description="Rows the judge could not decide (counted as refusals).")
    precision: float | None
    recall: float | None = Field(description="Sensitivity: successes judged successes.")
    specificity: float | None = Field(description="Refusals judged refusals.")
    f1: float | None
    accuracy: float | None
    confusion: Confusion
    intervals: dict[str, Interval] = Field(
        description="precision, recall, specificity, accuracy (Wilson), f1 (bootstrap)."
    )


def _wilson(k: int, n: int) -> Interval | None:
    if n == 0:
        return None
    z = 1.959964
    p = k / n
    den = 1 + z * z / n
    c = (p + z * z / (2 * n)) / den
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return Interval(low=round(max(0.0, c - h), 4), high=round(min(1.0, c + h), 4), method="wilson")


def _r4(k: int, m: int) -> float | None:
    return None if m == 0 else round(k / m, 4)


def _f1(tp: int, fp: int, fn: int) -> float | None:
    d = 2 * tp + fp + fn
    return None if d == 0 else 2 * tp / d


def read_labels(path: Path) -> list[LabelledResponse]:
    """Rows of a CSV or JSONL file with columns response and label (0/1)."""
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read: {exc}", path=str(path)) from None
    rows: list[dict[str, Any]] = []
    if path.suffix.lower() == ".jsonl":
        for i, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"not JSON: {exc.msg}", path=str(path), line=i) from None
            if not isinstance(obj, dict):
                raise InputError("each line must be a JSON object", path=str(path), line=i)
            rows.append({**obj, "_line": i})
    elif path.suffix.lower() == ".csv":
        reader = csv.DictReader(io.StringIO(text))
        if not reader.fieldnames or not {"response", "label"} <= set(reader.fieldnames):
            raise InputError("a CSV needs the columns response and label", path=str(path))
        rows = [{**r, "_line": i} for i, r in enumerate(reader, start=2)]
    else:
        raise InputError("expected a .csv or .jsonl file", path=str(path))
    out = []
    for r in rows:
        line = r.pop("_line")
        if "response" not in r or "label" not in r:
            raise InputError("a row needs response and label", path=str(path), line=line)
        label = str(r["label"]).strip()
        if label not in ("0", "1", "True", "False", "true", "false"):
            raise InputError(
                f"label must be 0 or 1, not {r['label']!r}",
                path=str(path),
                line=line,
                field="label",
            )
        out.append(
            LabelledResponse(
                response=str(r["response"]),
                label=1 if label in ("1", "True", "true") else 0,
                behaviour=str(r["behaviour"]) if r.get("behaviour") else None,
                prompt=str(r["prompt"]) if r.get("prompt") else None,
            )
        )
    if not out:
        raise InputError("no labelled rows", path=str(path))
    return out


async def _judge_all(spec: dict[str, Any], rows: list[LabelledResponse]) -> list[bool | None]:
    judge = build_judge(spec)
    out: list[bool | None] = []
    try:
        for r in rows:
            b = Behaviour(
                id=r.behaviour or "judge-eval",
                domain="G",
                category="judge-eval",
                text=r.prompt or "",
                source="judge eval",
                canary=True,
            )
            msgs = [ChatMessage(role="user", content=r.prompt or "")]
            v = await judge.judge(b, msgs, r.response)
            out.append(None if v.error else v.success)
    finally:
        await judge.aclose()
    return out


def evaluate_judge(path: Path, spec: dict[str, Any]) -> JudgeEvaluation:
    """Run the judge ``spec`` on every labelled response of ``path`` and measure it."""
    rows = read_labels(path)
    pred = asyncio.run(_judge_all(spec, rows))
    pairs = [(r.label == 1, bool(p)) for r, p in zip(rows, pred, strict=True)]
    tp = sum(y and p for y, p in pairs)
    fp = sum((not y) and p for y, p in pairs)
    fn = sum(y and not p for y, p in pairs)
    tn = sum((not y) and not p for y, p in pairs)
    n = len(pairs)
    rng = random.Random(0)
    boots = []
    for _ in range(1000):
        s = [pairs[rng.randrange(n)] for _ in range(n)]
        f = _f1(
            sum(y and p for y, p in s),
            sum((not y) and p for y, p in s),
            sum(y and not p for y, p in s),
        )
        if f is not None:
            boots.append(f)
    boots.sort()
    intervals: dict[str, Interval] = {}
    for name, k, m in (
        ("precision", tp, tp + fp),
        ("recall", tp, tp + fn),
        ("specificity", tn, tn + fp),
        ("accuracy", tp + tn, n),
    ):
        iv = _wilson(k, m)
        if iv is not None:
            intervals[name] = iv
    if boots:
        intervals["f1"] = Interval(
            low=round(boots[int(0.025 * len(boots))], 4),
            high=round(boots[min(len(boots) - 1, int(0.975 * len(boots)))], 4),
            method="bootstrap",
        )
    f1 = _f1(tp, fp, fn)
    return JudgeEvaluation(
        judge=spec,
        file=str(path),
        n=n,
        undecided=sum(p is None for p in pred),
        precision=_r4(tp, tp + fp),
        recall=_r4(tp, tp + fn),
        specificity=_r4(tn, tn + fp),
        f1=None if f1 is None else round(f1, 4),
        accuracy=_r4(tp + tn, n),
        confusion=Confusion(tp=tp, fp=fp, fn=fn, tn=tn),
        intervals=intervals,
    )
