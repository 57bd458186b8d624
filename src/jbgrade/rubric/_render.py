"""Render the tables as Markdown: the spec's normative tables come from here."""

from __future__ import annotations

from jbgrade.rubric._tables import CRITERIA, Tables

__all__ = ["tables_markdown"]


def tables_markdown(t: Tables) -> str:
    """The metric, criterion, score and severity tables as Markdown (deterministic)."""
    out: list[str] = [
        f"<!-- generated from {t.standard} {t.version} tables, revision "
        f"{t.table_revision}: `jbgrade rubric show --format markdown` -->",
        "",
    ]
    out += [
        "#### Metrics",
        "",
        "| Criterion | Metric | Name | Values (lowest to highest) |",
        "|---|---|---|---|",
    ]
    for m in t.metrics:
        vals = "; ".join(
            f"**{ltr}** {mean}" for ltr, mean in zip(m.letters, m.meanings, strict=True)
        )
        out.append(f"| {m.criterion} | {m.key} | {m.name} | {vals} |")
    out.append("")
    for c in CRITERIA:
        crit = t.criteria[c]
        out += [f"#### {c}: {crit.name} ({crit.method})", ""]
        if crit.method == "points":
            out += ["| Metric | " + " | ".join(["Points per value"]) + " |", "|---|---|"]
            for k in crit.metrics:
                pts = ", ".join(f"{ltr}={p}" for ltr, p in crit.points[k].items())
                out.append(f"| {k} | {pts} |")
            out += ["", "| Points | Level |", "|---|---|"]
            for lo, hi, lvl in crit.bands:
                rng = f"{lo}" if lo == hi else f"{lo}-{hi}"
                out.append(f"| {rng} | {lvl} ({t.levels[lvl]}) |")
        else:
            keys = crit.metrics
            out += ["| " + " | ".join(keys) + " | Level |", "|" + "---|" * (len(keys) + 1)]
            for row, lvl in crit.table.items():
                out.append("| " + " | ".join(row.split("/")) + f" | {lvl} ({t.levels[lvl]}) |")
        out.append("")
    n = len(t.levels)
    out += [
        "#### Score table",
        "",
        "Rows: BP level; columns: RI level; one table per EC level.",
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
    out += ["#### Severity bands", "", "| Label | Score |", "|---|---|"]
    for label, slo, shi in t.severity_bands:
        out.append(f"| {label} | {slo:.1f}" + ("" if slo == shi else f"-{shi:.1f}") + " |")
    out += [
        "",
        "#### Systemic rule",
        "",
        "A grade is systemic when any clause holds (values after X is scored as worst):",
        "",
    ]
    for i, conj in enumerate(t.systemic_any_of):
        cond = " and ".join(f"{k} in {{{', '.join(sorted(v))}}}" for k, v in conj.items())
        out.append(f"{i}. {cond}")
    out += ["", "#### Anchor rules", "", "| Id | Rule | Bound |", "|---|---|---|"]
    for a in t.anchors:
        bound = (f"at most {a.max_severity}" if a.max_severity else "") + (
            f"at least {a.min_severity}" if a.min_severity else ""
        )
        out.append(f"| {a.id} | {a.statement} | {bound} |")
    out.append("")
    return "\n".join(out)
