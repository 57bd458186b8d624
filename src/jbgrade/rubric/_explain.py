"""Explanations of a grade, for people: tipping points, decisive metrics, the worked grade.

The hot path (:meth:`Grader.grade`) never comes here; these rescore variants of a
vector through it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from jbgrade.rubric._tables import CRITERIA, SEVERITIES
from jbgrade.rubric._vector import NOT_ASSESSED

if TYPE_CHECKING:
    from jbgrade.rubric._grade import Grade, Grader

__all__ = ["decisive", "explanation", "nomenclature", "tipping_points"]


def tipping_points(grader: Grader, grade: Grade) -> list[dict[str, Any]]:
    letters = grader.letters_of(grade)
    cur = SEVERITIES.index(grade.severity)
    out: list[dict[str, Any]] = []
    for m in grader.tables.metrics:
        for alt in m.letters:
            if alt == letters[m.key]:
                continue
            changed = dict(letters)
            changed[m.key] = alt
            score, sev = grader._rescore(changed)
            if sev != grade.severity:
                out.append(
                    {
                        "metric": m.key,
                        "from": letters[m.key],
                        "to": alt,
                        "score": score,
                        "severity": sev,
                        "direction": "up" if SEVERITIES.index(sev) > cur else "down",
                    }
                )
    return out


def nomenclature(grader: Grader, grade: Grade) -> str | None:
    """``JBG-B``/``-BT``/``-BE``/``-BTE``: which groups were assessed (tables with groups)."""
    groups = grader.tables.raw.get("groups")
    if not isinstance(groups, dict):
        return None
    letters = grader.letters_of(grade)
    done = {g for g, keys in groups.items() if all(letters[k] != NOT_ASSESSED for k in keys)}
    return "JBG-B" + "".join(g for g in ("T", "E") if g in done)


def decisive(grader: Grader, grade: Grade) -> list[str]:
    """Metrics given as X whose assessment (any concrete value) could change the label."""
    letters = grader.letters_of(grade)
    out = []
    for m in grader.tables.metrics:
        if letters[m.key] != NOT_ASSESSED:
            continue
        for alt in m.letters:
            changed = dict(letters)
            changed[m.key] = alt
            if grader._rescore(changed)[1] != grade.severity:
                out.append(m.key)
                break
    return out


def explanation(grader: Grader, grade: Grade) -> dict[str, Any]:
    t = grader.tables
    letters = grader.letters_of(grade)
    crit_out: dict[str, Any] = {}
    effects: list[dict[str, Any]] = []
    for c, part in zip(CRITERIA, grade._parts, strict=True):
        crit = t.criteria[c]
        keys = grader._crit_metrics[c]
        rows = []
        for k, given, used in zip(keys, part.letters, part.resolved, strict=True):
            row: dict[str, Any] = {"metric": k, "value": given, "scored_as": used}
            if crit.method == "points":
                row["points"] = crit.points[k][used]
            rows.append(row)
        entry: dict[str, Any] = {
            "name": crit.name,
            "method": crit.method,
            "metrics": rows,
            "level": part.level,
            "level_name": t.levels[part.level],
        }
        if crit.method == "points":
            band = next(b for b in crit.bands if b[0] <= (part.points or 0) <= b[1])
            entry["points"] = part.points
            entry["band"] = {"min": band[0], "max": band[1], "level": band[2]}
        else:
            entry["row"] = "/".join(part.resolved)
        crit_out[c] = entry
    for m in t.metrics:
        lowest = m.letters[0]
        changed = dict(letters)
        changed[m.key] = lowest
        s_low, _ = grader._rescore(changed)
        effects.append(
            {
                "metric": m.key,
                "value": letters[m.key],
                "lowest": lowest,
                "score_if_lowest": s_low,
                "effect": round(grade.score - s_low, 1),
            }
        )
    e, b, r = (p.level for p in (grade._parts[1], grade._parts[0], grade._parts[2]))
    sev_band = next(x for x in t.severity_bands if x[0] == grade.severity)
    not_assessed = [
        {"metric": k, "scored_as": t.metric(k).worst}
        for k, v in letters.items()
        if v == NOT_ASSESSED
    ]
    matched = [
        i
        for i in range(len(t.systemic_any_of))
        if grade._parts[0].sys_mask & grade._parts[1].sys_mask & grade._parts[2].sys_mask & (1 << i)
    ]
    summary = (
        f"{grade.severity} {grade.score:.1f}: "
        + ", ".join(f"{c} {crit_out[c]['level_name']} ({crit_out[c]['level']})" for c in CRITERIA)
        + f" -> score table [EC {e}][BP {b}][RI {r}] = {grade.score:.1f}"
        + (" (provisional: X scored as worst)" if grade.provisional else "")
        + (" [systemic]" if grade.systemic else "")
    )
    return {
        "summary": summary,
        "criteria": crit_out,
        "score_cell": {"EC": e, "BP": b, "RI": r, "score": grade.score},
        "severity_band": {"label": sev_band[0], "min": sev_band[1], "max": sev_band[2]},
        "metric_effects": effects,
        "not_assessed": not_assessed,
        "systemic_rule": {
            "systemic": grade.systemic,
            "matched_clauses": matched,
            "clauses": [{k: sorted(v) for k, v in conj.items()} for conj in t.systemic_any_of],
        },
        "tables": {"version": t.version, "revision": t.table_revision},
    }
