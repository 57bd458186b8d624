"""The calculator's view model: metric rows, the grade and its reasons."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jbgrade._errors import VectorError
from jbgrade.policy import decide, list_profiles, load_profile
from jbgrade.rubric import (
    CRITERIA,
    LATEST_VERSION,
    NOT_ASSESSED,
    VERSIONS,
    Grade,
    Tables,
    default_tables,
    definitions_for,
    grade,
    tables_for,
)

__all__ = [
    "MetricOption",
    "MetricRow",
    "all_x_vector",
    "calculator_model",
    "calculator_version",
    "vector_from_letters",
]


@dataclass(frozen=True, slots=True)
class MetricOption:
    letter: str
    short: str
    meaning: str


@dataclass(frozen=True, slots=True)
class MetricRow:
    key: str
    name: str
    options: tuple[MetricOption, ...]
    definition: str = ""


def _short(meaning: str) -> str:
    """A button-sized label: the words before a colon, or the first few words."""
    head = meaning.split(":", 1)[0].strip()
    if len(head) <= 22:
        return head
    words: list[str] = []
    for w in head.split():
        if len(" ".join([*words, w])) > 20:
            break
        words.append(w)
    return " ".join(words) + "…"


def _tables(version: str | None) -> Tables:
    return default_tables() if version is None else tables_for(version)


def calculator_version(vector: str | None, asked: str | None = None) -> str:
    """The JBG version the calculator shows: the vector's prefix when it names a shipped
    version, else the one asked for (``?jbg=1.0``), else the latest (1.1)."""
    if vector:
        head = vector.strip().split("/", 1)[0]
        for v in VERSIONS:
            if head == f"JBG:{v}":
                return v
    return asked if asked in VERSIONS else LATEST_VERSION


def metric_rows(version: str | None = None) -> dict[str, tuple[str, tuple[MetricRow, ...]]]:
    """Criterion key -> (criterion name, its metric rows, X last); ``version`` None is
    the library default tables (JBG 1.0)."""
    t = _tables(version)
    defs = definitions_for(t.version).metrics
    out: dict[str, tuple[str, tuple[MetricRow, ...]]] = {}
    for c in CRITERIA:
        rows = []
        for m in t.metrics:
            if m.criterion != c:
                continue
            opts = [
                MetricOption(letter, _short(meaning), meaning)
                for letter, meaning in zip(m.letters, m.meanings, strict=True)
            ]
            opts.append(
                MetricOption(
                    NOT_ASSESSED, "Not assessed", "Not assessed: scored as the worst value"
                )
            )
            rows.append(MetricRow(m.key, m.name, tuple(opts), defs.get(m.key, "")))
        out[c] = (t.criteria[c].name, tuple(rows))
    return out


def all_x_vector(version: str | None = None) -> str:
    t = _tables(version)
    return t.prefix + "/".join(f"{m.key}:{NOT_ASSESSED}" for m in t.metrics)


def vector_from_letters(params: Mapping[str, str]) -> str | None:
    """Build a vector from per-metric form fields (missing ones are X) of the version in
    the ``jbg`` field (default: the latest); None if no metric is given."""
    t = tables_for(calculator_version(None, params.get("jbg")))
    if not any(m.key in params for m in t.metrics):
        return None
    return t.prefix + "/".join(f"{m.key}:{params.get(m.key, NOT_ASSESSED)}" for m in t.metrics)


def _salvage(text: str, version: str) -> str:
    """The metric values a malformed vector spells correctly; X for the rest."""
    t = tables_for(version)
    allowed = {m.key: set(m.letters) | {NOT_ASSESSED} for m in t.metrics}
    got: dict[str, str] = {}
    for part in text.strip().split("/"):
        k, _, v = part.strip().partition(":")
        if k in allowed and v in allowed[k] and k not in got:
            got[k] = v
    return t.prefix + "/".join(f"{m.key}:{got.get(m.key, NOT_ASSESSED)}" for m in t.metrics)


def calculator_model(vector: str | None, version: str | None = None) -> dict[str, Any]:
    """Everything the calculator page shows for ``vector`` (None: nothing assessed yet)
    in JBG ``version`` (default: the vector's, else the latest)."""
    ver = calculator_version(vector, version)
    error: str | None = None
    g: Grade
    try:
        g = grade(vector or all_x_vector(ver))
    except VectorError as exc:
        error = str(exc)
        # Keep every selection the text does spell correctly: one typo must not wipe
        # the others (the page shows the error instead of a grade).
        g = grade(_salvage(vector or "", ver))
    t = tables_for(ver)
    defs = definitions_for(ver)
    expl = g.explanation
    names = {m.key: m.name for m in t.metrics}
    meanings = {m.key: dict(zip(m.letters, m.meanings, strict=True)) for m in t.metrics}
    letters = g.letters
    tips = []
    for tp in g.tipping_points:
        changed = dict(letters)
        changed[tp["metric"]] = tp["to"]
        vec = t.prefix + "/".join(f"{m.key}:{changed[m.key]}" for m in t.metrics)
        tips.append({**tp, "vector": vec})
    # Raising changes first, then the nearest lowering ones.
    tips.sort(key=lambda tp: (tp["direction"] != "up", abs(tp["score"] - g.score)))
    return {
        "grade": g,
        "error": error,
        "entered": vector or "",
        "letters": letters,
        "criteria_rows": metric_rows(ver),
        "version": ver,
        "versions": VERSIONS,
        "latest": LATEST_VERSION,
        "definitions": defs,
        "criterion_keys": CRITERIA,
        "explanation": expl,
        "tipping_points": tips,
        "metric_names": names,
        "meanings": meanings,
        "nothing_assessed": all(v == NOT_ASSESSED for v in letters.values()),
        "decisions": _decisions(g),
    }


def _decisions(g: Grade) -> list[dict[str, Any]]:
    """The decision under each shipped profile (no context: precautionary defaults)."""
    today = dt.datetime.now(dt.UTC).date()
    out = []
    for name in list_profiles():
        d = decide(g, {}, load_profile(name), aware_on=today)
        out.append(
            {
                "profile": d.profile,
                "version": d.profile_version,
                "action": d.action,
                "provisional": d.provisional,
                "obligations": d.obligations,
                "rules": d.rule_ids,
            }
        )
    return out
