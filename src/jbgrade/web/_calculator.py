"""The calculator's view model: metric rows, the grade and its reasons."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jbgrade._errors import VectorError
from jbgrade.policy import decide, list_profiles, load_profile
from jbgrade.rubric import CRITERIA, NOT_ASSESSED, Grade, default_tables, grade

__all__ = ["MetricOption", "MetricRow", "all_x_vector", "calculator_model", "vector_from_letters"]


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


def metric_rows() -> dict[str, tuple[str, tuple[MetricRow, ...]]]:
    """Criterion key -> (criterion name, its metric rows, X last)."""
    t = default_tables()
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
            rows.append(MetricRow(m.key, m.name, tuple(opts)))
        out[c] = (t.criteria[c].name, tuple(rows))
    return out


def all_x_vector() -> str:
    t = default_tables()
    return t.prefix + "/".join(f"{m.key}:{NOT_ASSESSED}" for m in t.metrics)


def vector_from_letters(params: Mapping[str, str]) -> str | None:
    """Build a vector from per-metric form fields (missing ones are X); None if none given."""
    t = default_tables()
    if not any(m.key in params for m in t.metrics):
        return None
    return t.prefix + "/".join(f"{m.key}:{params.get(m.key, NOT_ASSESSED)}" for m in t.metrics)


def _salvage(text: str) -> str:
    """The metric values a malformed vector spells correctly; X for the rest."""
    t = default_tables()
    allowed = {m.key: set(m.letters) | {NOT_ASSESSED} for m in t.metrics}
    got: dict[str, str] = {}
    for part in text.strip().split("/"):
        k, _, v = part.strip().partition(":")
        if k in allowed and v in allowed[k] and k not in got:
            got[k] = v
    return t.prefix + "/".join(f"{m.key}:{got.get(m.key, NOT_ASSESSED)}" for m in t.metrics)


def calculator_model(vector: str | None) -> dict[str, Any]:
    """Everything the calculator page shows for ``vector`` (None: nothing assessed yet)."""
    error: str | None = None
    g: Grade
    try:
        g = grade(vector or all_x_vector())
    except VectorError as exc:
        error = str(exc)
        # Keep every selection the text does spell correctly: one typo must not wipe
        # the others (the page shows the error instead of a grade).
        g = grade(_salvage(vector or ""))
    t = default_tables()
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
        "criteria_rows": metric_rows(),
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
