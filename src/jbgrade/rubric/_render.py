"""Render the tables as Markdown: the spec's normative tables come from here.

``docs/spec/jbg-1.0.md`` embeds this output verbatim between generated-section
markers (``scripts/update_spec_tables.py`` rewrites it; a test compares).
"""

from __future__ import annotations

from itertools import product

from jbgrade._errors import RubricTableError
from jbgrade.rubric._check import anchor_score_ranges
from jbgrade.rubric._tables import CRITERIA, Anchor, Tables

__all__ = ["tables_markdown"]


def _cond(key: str, values: tuple[str | bool, ...] | frozenset[str], t: Tables) -> str:
    if key == "systemic":
        return "systemic" if True in values else "not systemic"
    letters = [v for v in t.metric(key).letters if v in values]
    return f"{key}:{letters[0]}" if len(letters) == 1 else f"{key} in {{{', '.join(letters)}}}"


def _anchor_bound(a: Anchor) -> str:
    parts = []
    if a.min_severity:
        parts.append(f"at least {a.min_severity}")
    if a.max_severity:
        parts.append(f"at most {a.max_severity}")
    return ", ".join(parts)


def tables_markdown(t: Tables) -> str:
    """The metric, criterion, score and severity tables as Markdown (deterministic)."""
    out = _metrics_section(t)
    for c in CRITERIA:
        out += _criterion_section(c, t)
        out.append("")
    out += _score_section(t)
    out += _rules_section(t)
    out.append("")
    return "\n".join(out)


def _metrics_section(t: Tables) -> list[str]:
    """The header, the metrics and the criterion levels."""
    out: list[str] = [
        f"<!-- generated from the {t.standard} {t.version} tables, revision "
        f"{t.table_revision}, by `jbgrade rubric show --format markdown`; do not edit -->",
        "",
        f"Standard {t.standard} {t.version}, table revision {t.table_revision}. "
        f"Vector prefix `{t.prefix}`; `X` (not assessed) is accepted for every metric "
        "and scored as the metric's worst (last) value.",
        "",
        "### Metrics",
        "",
        "| Criterion | Metric | Name | Values, lowest to highest |",
        "|---|---|---|---|",
    ]
    for m in t.metrics:
        vals = "; ".join(
            f"**{ltr}** {mean}" for ltr, mean in zip(m.letters, m.meanings, strict=True)
        )
        out.append(f"| {m.criterion} | {m.key} | {m.name} | {vals} |")
    out += [
        "",
        "### Criterion levels",
        "",
        "| Level | Name |",
        "|---|---|",
        *[f"| {i} | {name} |" for i, name in enumerate(t.levels)],
        "",
    ]
    return out


def _criterion_section(c: str, t: Tables) -> list[str]:
    """One criterion: its points and bands, or its lookup table."""
    out: list[str] = []
    crit = t.criteria[c]
    if crit.method == "points":
        out += [
            f"### {c}: {crit.name} (points)",
            "",
            f"{c} points = the sum of the points of its metrics' values; the band gives the level.",
            "",
            "| Metric | " + " | ".join(f"Value {i + 1}" for i in range(_width(crit, t))) + " |",
            "|---|" + "---|" * _width(crit, t),
        ]
        for k in crit.metrics:
            cells = [f"{ltr} = {p}" for ltr, p in _ordered_points(crit.points[k], t, k)]
            cells += [""] * (_width(crit, t) - len(cells))
            out.append(f"| {k} | " + " | ".join(cells) + " |")
        out += ["", "| Points | Level |", "|---|---|"]
        for lo, hi, lvl in crit.bands:
            rng = f"{lo}" if lo == hi else f"{lo}-{hi}"
            out.append(f"| {rng} | {lvl} ({t.levels[lvl]}) |")
    else:
        *rows_keys, col_key = crit.metrics
        col_letters = t.metric(col_key).letters
        out += [
            f"### {c}: {crit.name} (lookup)",
            "",
            f"The level is read from the row of {' x '.join(rows_keys)} and the "
            f"column of {col_key}.",
            "",
            "| "
            + " | ".join(rows_keys)
            + " | "
            + " | ".join(f"{col_key}:{x}" for x in col_letters)
            + " |",
            "|" + "---|" * (len(rows_keys) + len(col_letters)),
        ]
        for row in product(*[t.metric(k).letters for k in rows_keys]):
            lv = [crit.table["/".join((*row, x))] for x in col_letters]
            out.append("| " + " | ".join(row) + " | " + " | ".join(str(v) for v in lv) + " |")
    return out


def _score_section(t: Tables) -> list[str]:
    """The score table, one block per EC level."""
    n = len(t.levels)
    out = [
        "### Score table",
        "",
        "score = table[EC level][BP level][RI level]. One table per EC level; "
        "rows: BP level; columns: RI level.",
        "",
    ]
    for e in range(n):
        out += [
            f"EC {e} ({t.levels[e]}):",
            "",
            "| BP \\ RI | " + " | ".join(str(r) for r in range(n)) + " |",
            "|---|" + "---|" * n,
        ]
        for b in range(n):
            out.append(f"| {b} | " + " | ".join(f"{x:.1f}" for x in t.score[e][b]) + " |")
        out.append("")
    return out


def _rules_section(t: Tables) -> list[str]:
    """Severity bands, the systemic rule and the anchor rules."""
    out = ["### Severity bands", "", "| Label | Score |", "|---|---|"]
    for label, slo, shi in t.severity_bands:
        out.append(f"| {label} | {slo:.1f}" + ("" if slo == shi else f"-{shi:.1f}") + " |")
    out += [
        "",
        "### Systemic rule",
        "",
        "A grade is systemic when at least one clause holds in full (values after X "
        "is scored as its worst value):",
        "",
    ]
    for i, conj in enumerate(t.systemic_any_of):
        cond = " and ".join(_cond(k, v, t) for k, v in conj.items())
        out.append(f"- clause {i}: {cond}")
    try:
        ranges = anchor_score_ranges(t)
    except RubricTableError:  # a broken copy: show the tables anyway
        ranges = {}
    out += [
        "",
        "### Anchor rules",
        "",
        "Checked over every concrete combination by `jbgrade rubric check`; the last "
        "column is the range of scores the tables give under the condition.",
        "",
        "| Id | When | Severity | Statement | Scores |",
        "|---|---|---|---|---|",
    ]
    for a in t.anchors:
        when = " and ".join(_cond(k, v, t) for k, v in a.when.items())
        span = ranges.get(a.id)
        shown = (
            ""
            if span is None
            else f"{span[0]:.1f}" + ("" if span[0] == span[1] else f"-{span[1]:.1f}")
        )
        out.append(f"| {a.id} | {when} | {_anchor_bound(a)} | {a.statement} | {shown} |")
    return out


def _width(crit: object, t: Tables) -> int:
    keys: tuple[str, ...] = getattr(crit, "metrics", ())
    return max(len(t.metric(k).letters) for k in keys)


def _ordered_points(points: dict[str, int], t: Tables, key: str) -> list[tuple[str, int]]:
    return [(ltr, points[ltr]) for ltr in t.metric(key).letters]
