"""HTML rendering: one self-contained page per report (inline CSS and SVG, no requests)."""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from jbgrade.assess import AssessmentReport, Reconciliation
from jbgrade.policy import Condition, Decision, FiredRule, NearMiss, Obligation, due_status
from jbgrade.reports._charts import (
    Chart,
    criterion_levels_chart,
    dispute_actions_chart,
    success_by_domain_chart,
    transfer_chart,
)

if TYPE_CHECKING:
    from jbgrade.interop import Comparison

__all__ = [
    "action_label",
    "assessment_charts",
    "render_assessment_html",
    "render_comparison_html",
    "render_dispute_html",
]


def action_label(action: str) -> str:
    """How an action is written for people: its id (``block_deployment``), the one
    spelling the CLI, the web UI, the reports, profiles and ``--fail-on`` all use."""
    return action


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


def _condition(c: Condition) -> str:
    s = f"{c.on} {c.test}".strip()
    s += f" (actual {_text(c.actual)}" + (f", given {c.given}" if c.given else "") + ")"
    if c.assumed:
        s += " [assumed]"
    return s


def _rule(f: FiredRule) -> dict[str, Any]:
    return {
        "id": f.id,
        "conditions": [_condition(c) for c in f.conditions],
        "citation": f.citation.label(),
        "action": f.action,
        "action_label": action_label(f.action) if f.action else "",
        "summary": f.title,
    }


def _near(n: NearMiss) -> dict[str, Any]:
    alts = [f"{c.on} {_text(c.from_)} -> {_text(c.to)}" for c in n.changes]
    text = f"{n.title} ({action_label(n.action)})"
    if alts:
        text += "; fires if " + " or ".join(alts)
    return {"id": n.id, "text": text}


def _no_decision(profile: str, title: str, error: str | None) -> dict[str, Any]:
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


def _decision_view(
    profile: str, title: str, d: Decision | None, error: str | None, on: _dt.date
) -> dict[str, Any]:
    if d is None:
        return _no_decision(profile, title, error)
    obs = sorted(
        (
            {
                "party": o.party,
                "what": o.what,
                "due": o.due.isoformat(),
                "clock": _clock(o),
                "status": due_status(o.due, on),
            }
            for o in d.obligations
        ),
        key=lambda o: (o["due"], o["party"], o["what"]),
    )
    fired = [_rule(f) for f in d.fired_rules if f.kind == "rule"]
    top = next((f for f in fired if f["action"] == d.action), fired[-1] if fired else None)
    assumed: list[str] = []
    fields: list[str] = []
    for f in d.fired_rules:
        for c in f.conditions:
            if c.assumed:
                name = c.on.removeprefix("context.")
                fields.append(name)
                assumed.append(f"{name} = {_text(c.actual)}: {c.reason or 'default'}")
    return {
        "profile": profile,
        "title": title,
        "error": None,
        "top": top,
        "assumed": assumed,
        "assumed_fields": sorted(set(fields)),
        "action": d.action,
        "action_label": action_label(d.action),
        "provisional": d.provisional,
        "obligations": obs,
        "fired": fired,
        "gates": [_rule(f) for f in d.fired_rules if f.kind == "gate"],
        "near": [_near(n) for n in d.near_misses],
        "version": d.profile_version,
        "bundle": d.bundle_sha256,
    }


def _clock(o: Obligation) -> str:
    unit = "business days" if o.calendar == "business" else "days"
    start = o.clock + (" (assumed)" if o.clock_start_assumed else "")
    return f"{o.days} {unit} from {start}"


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
    on = r.generated_at.astimezone(_dt.UTC).date()
    decisions = [_decision_view(d.profile, d.title, d.decision, d.error, on) for d in r.decisions]
    g = r.grade.model_dump(mode="json")
    from jbgrade.interop import atlas_names, report_atlas

    names = atlas_names()
    atlas = [(t, names.get(t, t)) for t in report_atlas(r.model_dump(mode="json"))]
    affected = (
        {row.target: row.affected for row in r.evidence.attack.transfer.rows}
        if r.evidence is not None
        else {}
    )
    return str(
        _env()
        .get_template("report.html.j2")
        .render(
            r=r,
            g=g,
            decisions=decisions,
            charts=charts,
            why=_why(r),
            atlas=atlas,
            affected_by_target=affected,
            as_of=on.isoformat(),
            overdue=sum(o["status"] == "overdue" for d in decisions for o in d["obligations"]),
        )
    )


def render_dispute_html(rec: Reconciliation, charts: Mapping[str, Chart] | None = None) -> str:
    """The reconciliation as one self-contained HTML page."""
    if charts is None:
        a, b = rec.parties
        c = dispute_actions_chart(rec.profiles, a.organisation, b.organisation)
        charts = {c.id: c} if c else {}
    return str(_env().get_template("dispute.html.j2").render(rec=rec, charts=charts))


def render_comparison_html(c: Comparison) -> str:
    """``jbgrade compare --html``: the verdict, each domain's test and power, metrics."""
    from jbgrade import __version__

    return str(_env().get_template("compare.html.j2").render(c=c, version=__version__))
