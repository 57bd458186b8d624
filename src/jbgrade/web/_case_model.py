"""Everything the case page shows, gathered from the registry in one thread-pool call."""

from __future__ import annotations

import datetime as dt
from typing import Any

from jbgrade.assess import Reconciliation
from jbgrade.evidence import Evidence as EvidenceRecord
from jbgrade.policy import DUE_SOON_DAYS, list_profiles, load_profile
from jbgrade.registry import (
    ROLES,
    Actor,
    EvidenceView,
    ReconciliationView,
    Registry,
    lifecycle,
    permissions,
)
from jbgrade.rubric import default_tables
from jbgrade.web._calculator import metric_rows
from jbgrade.web._charts import domain_bars, domain_chart_svg
from jbgrade.web._compare import compare

__all__ = ["case_model"]

# The registry actions whose buttons and forms the page shows or hides.
_PAGE_ACTIONS = (
    "assessment.add",
    "decision.record",
    "evidence.attach",
    "case.grant",
    "case.transition",
    "case.read_payload",
    "reconciliation.read",
)


def _reconciliation_row(v: ReconciliationView) -> dict[str, Any]:
    """A stored reconciliation in brief: what still divides the parties, what does not."""
    rec = Reconciliation.model_validate(v.record)
    decisive = [
        {"item": d.item, "name": d.name, "a": d.a.value, "b": d.b.value}
        for d in rec.differences
        if any(e.changes_action for e in d.effects)
    ]
    return {
        "view": v,
        "parties": [f"{p.organisation} ({p.label})" for p in rec.parties],
        "decisive": decisive,
        "stop_arguing": list(rec.unchanged),
    }


def _evidence_charts(evidence: list[EvidenceView]) -> list[dict[str, Any]]:
    """A per-domain success-rate chart for each evidence record that has domain rows."""
    charts = []
    for i, ev in enumerate(evidence):
        # The registry validated the body as an Evidence record when it was attached.
        record = EvidenceRecord.model_validate(ev.body)
        bars = domain_bars(record)
        if bars:
            charts.append(
                {
                    "evidence": ev,
                    "confidence": record.confidence,
                    "bars": bars,
                    "svg": domain_chart_svg(
                        bars,
                        title=f"Success rate per domain with intervals: {ev.label or ev.id}",
                        chart_id=f"ev{i}",
                    ),
                }
            )
    return charts


def case_model(reg: Registry, actor: Actor, case_id: str, reveal: bool) -> dict[str, Any]:
    """Everything the case page shows (runs in the thread pool)."""
    case = reg.get_case(actor, case_id, include_payload=reveal)
    # Every version once; the current ones are those marked current (same order).
    history = reg.list_assessments(actor, case_id, history=True)
    assessments = [a for a in history if a.current]
    decisions = reg.list_decisions(actor, case_id)
    evidence = reg.list_evidence(actor, case_id)
    trail = reg.audit_trail(actor, case_id)
    orgs = reg.list_orgs(actor)
    profiles = [load_profile(n) for n in list_profiles()]
    # Clocks run from the day the case was reported unless a decision names another day
    # (Registry.decide's default), so the comparison and the decision form use it too.
    reported_on = case.created_at.date()
    comparison = (
        compare([a.vector for a in assessments], profiles, aware_on=reported_on)
        if len(assessments) > 1
        else None
    )
    perms = permissions()
    rels = set(case.relations)
    may = {a: perms.allowed(a, actor.role, rels, embargoed=case.embargoed) for a in _PAGE_ACTIONS}
    lc = lifecycle()
    today = dt.datetime.now(dt.UTC).date()
    return {
        # Obligations due before today are overdue, within a week due soon (ISO strings).
        "today": today.isoformat(),
        "due_soon": (today + dt.timedelta(days=DUE_SOON_DAYS)).isoformat(),
        "case": case,
        "assessments": assessments,
        "superseded": [a for a in history if not a.current],
        "decisions": [d for d in decisions if d.current],
        "old_decisions": [d for d in decisions if not d.current],
        "evidence": evidence,
        "charts": _evidence_charts(evidence),
        "trail": trail,
        "comparison": comparison,
        "profiles": profiles,
        "orgs": [o for o in orgs if o.id not in (case.reporting_org_id, case.owning_org_id)],
        "org_names": {o.id: o.name for o in orgs},
        "states": lc.states,
        "transitions": [lc.find(case.state, t) for t in case.allowed_transitions],
        "criteria_rows": metric_rows(),
        "metric_keys": [m.key for m in default_tables().metrics],
        "may": may,
        "payload": case.payload.get_secret_value() if reveal and case.payload else None,
        "reconciliations": (
            [_reconciliation_row(x) for x in reg.list_reconciliations(actor, case_id)]
            if may["reconciliation.read"]
            else []
        ),
        "reported_on": reported_on.isoformat(),
        "roles": ROLES,
    }
