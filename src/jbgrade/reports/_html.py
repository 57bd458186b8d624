"""HTML rendering: one self-contained page per report (inline CSS and SVG, no requests)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from jbgrade.assess import AssessmentReport, Reconciliation
from jbgrade.reports._charts import (
    Chart,
    criterion_levels_chart,
    dispute_actions_chart,
    success_by_domain_chart,
    transfer_chart,
)

__all__ = ["action_label", "assessment_charts", "render_assessment_html", "render_dispute_html"]

_ACTION_LABELS = {
    "none": "no action",
    "monitor": "monitor",
    "mitigate": "mitigate",
    "restrict_export": "restrict export",
    "block_deployment": "block deployment",
}


def action_label(action: str) -> str:
    return _ACTION_LABELS.get(action, action.replace("_", " "))


def _env() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("jbgrade.reports", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"], default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["action_label"] = action_label
    return env


def _text(v: Any) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, Mapping):
        parts = [str(v[k]) for k in ("source", "title", "section", "text", "url") if v.get(k)]
        if v.get("mapping") == "illustrative" or v.get("illustrative") is True:
            parts.append("illustrative")
        if v.get("unconfirmed"):
            parts.append("unconfirmed")
        if parts:
            return ", ".join(dict.fromkeys(parts))
    if isinstance(v, list):
        return ", ".join(_text(x) for x in v)
    return json.dumps(v, ensure_ascii=False, default=str)


def _condition(c: Any) -> str:
    if not isinstance(c, Mapping):
        return _text(c)
    on = c.get("on") or c.get("field") or c.get("key") or c.get("metric") or c.get("name") or "?"
    op = c.get("test") or c.get("op") or c.get("operator") or ""
    want = c.get("value", c.get("expected", c.get("values", "")))
    actual = c.get("actual", c.get("actual_value"))
    s = f"{on} {op} {_text(want)}".strip()
    if actual is not None:
        s += f" (actual {_text(actual)})"
    if c.get("assumed"):
        s += " [assumed]"
    return s


def _rule(f: Any) -> dict[str, Any]:
    if not isinstance(f, Mapping):
        return {"id": _text(f), "conditions": [], "citation": "", "action": None, "summary": ""}
    rid = f.get("id") or f.get("rule") or f.get("rule_id") or "?"
    conds = f.get("conditions") or f.get("matched") or []
    if isinstance(conds, Mapping):
        conds = [
            {"on": k, **(v if isinstance(v, Mapping) else {"value": v})} for k, v in conds.items()
        ]
    action = f.get("action")
    return {
        "id": rid,
        "conditions": [_condition(c) for c in conds],
        "citation": _text(f.get("citation", "")) if f.get("citation") else "",
        "action": action,
        "action_label": action_label(action) if action else "",
        "summary": f.get("title") or f.get("summary") or f.get("description") or "",
    }


def _near(n: Any) -> dict[str, Any]:
    if not isinstance(n, Mapping):
        return {"id": "?", "text": _text(n)}
    rid = n.get("id") or n.get("rule") or n.get("rule_id") or "?"
    changes = n.get("changes") or []
    alts = []
    for c in changes if isinstance(changes, list) else []:
        if isinstance(c, Mapping):
            alts.append(f"{c.get('on')} {_text(c.get('from'))} -> {_text(c.get('to'))}")
    head = str(n.get("title") or "")
    act = n.get("action")
    text = head + (f" ({action_label(str(act))})" if act else "")
    if alts:
        text += "; fires if " + " or ".join(alts)
    if not text:
        text = _text({k: v for k, v in n.items() if k not in ("id", "rule", "rule_id")})
    return {"id": rid, "text": text}


def _decision_view(
    profile: str, title: str, d: Mapping[str, Any] | None, error: str | None
) -> dict[str, Any]:
    if d is None:
        return {
            "profile": profile,
            "title": title,
            "error": error or "no decision",
            "version": None,
            "bundle": "",
            "obligations": [],
            "fired": [],
            "gates": [],
            "near": [],
            "top": None,
            "assumed": [],
            "assumed_fields": [],
        }
    obs = sorted(
        (
            {
                "party": o.get("party", ""),
                "what": o.get("what", ""),
                "due": o.get("due"),
                "clock": _clock(o),
            }
            for o in d.get("obligations", [])
        ),
        key=lambda o: (o["due"] or "9999", o["party"], o["what"]),
    )
    fired = [_rule(f) for f in d.get("fired_rules", []) if f.get("kind", "rule") == "rule"]
    act = d.get("action")
    top = next((f for f in fired if f["action"] == act), fired[-1] if fired else None)
    assumed: list[str] = []
    fields: list[str] = []
    for f in d.get("fired_rules", []):
        for c in f.get("conditions", []) if isinstance(f, Mapping) else []:
            if isinstance(c, Mapping) and c.get("assumed"):
                name = str(c.get("on", "?")).removeprefix("context.")
                fields.append(name)
                assumed.append(f"{name} = {_text(c.get('actual'))}: {c.get('reason') or 'default'}")
    return {
        "profile": profile,
        "title": title,
        "error": None,
        "top": top,
        "assumed": assumed,
        "assumed_fields": sorted(set(fields)),
        "action": d.get("action", "unknown"),
        "action_label": action_label(str(d.get("action", "unknown"))),
        "provisional": bool(d.get("provisional")),
        "obligations": obs,
        "fired": fired,
        "gates": [_rule(f) for f in d.get("fired_rules", []) if f.get("kind") == "gate"],
        "near": [_near(n) for n in d.get("near_misses", [])],
        "version": d.get("profile_version"),
        "bundle": d.get("bundle_sha256", ""),
    }


def _clock(o: Mapping[str, Any]) -> str:
    within = o.get("within") or o.get("within_days") or o.get("days")
    unit = (
        o.get("unit")
        or o.get("days_kind")
        or ("business days" if o.get("business_days") else "days")
    )
    start = o.get("clock") or o.get("from") or o.get("clock_start")
    parts = []
    if within is not None:
        parts.append(f"{within} {unit}")
    if start:
        parts.append(f"from {start}")
    return " ".join(parts)


def _why(r: AssessmentReport) -> dict[str, Any]:
    g = r.grade.model_dump(mode="json")
    ex = g["explanation"]
    crit = ex["criteria"]
    names = {"BP": "Bypassed protections", "EC": "Exposed capabilities", "RI": "Real-world impact"}
    criteria = (
        " · ".join(
            f"{names[k]} {crit[k]['level_name']} ({crit[k]['level']}/4)" for k in ("BP", "EC", "RI")
        )
        + f" → score table gives {g['score']:.1f}, {g['severity']}."
    )
    meanings = {m.metric: m.meaning for m in r.metrics}
    drivers = sorted(
        (e for e in ex["metric_effects"] if e["effect"] > 0), key=lambda e: -e["effect"]
    )[:3]
    drivers = [{**e, "meaning": meanings.get(e["metric"], "").lower()} for e in drivers]
    tps = g["tipping_points"]
    down = max((t for t in tps if t["direction"] == "down"), key=lambda t: t["score"], default=None)
    up = min((t for t in tps if t["direction"] == "up"), key=lambda t: t["score"], default=None)
    return {"criteria": criteria, "drivers": drivers, "down": down, "up": up}


def assessment_charts(r: AssessmentReport) -> dict[str, Chart]:
    charts: dict[str, Chart] = {"criteria": criterion_levels_chart(r.grade.model_dump(mode="json"))}
    if r.evidence is not None:
        for c in (success_by_domain_chart(r.evidence), transfer_chart(r.evidence)):
            if c is not None:
                charts[c.id] = c
    return charts


def render_assessment_html(r: AssessmentReport, charts: Mapping[str, Chart] | None = None) -> str:
    """The report as one self-contained HTML page: answer first, then reasons, then details."""
    if charts is None:
        charts = assessment_charts(r)
    decisions = [
        _decision_view(d.profile, d.title, d.decision.to_dict() if d.decision else None, d.error)
        for d in r.decisions
    ]
    g = r.grade.model_dump(mode="json")
    return str(
        _env()
        .get_template("report.html.j2")
        .render(r=r, g=g, decisions=decisions, charts=charts, why=_why(r))
    )


def render_dispute_html(rec: Reconciliation, charts: Mapping[str, Chart] | None = None) -> str:
    """The reconciliation as one self-contained HTML page."""
    if charts is None:
        a, b = rec.parties
        c = dispute_actions_chart(rec.profiles, a.organisation, b.organisation)
        charts = {c.id: c} if c else {}
    return str(_env().get_template("dispute.html.j2").render(rec=rec, charts=charts))
