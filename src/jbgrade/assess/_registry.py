"""Dispute sides from the registry: two parties' current assessments of one case.

The registry needs the ``server`` extra, so it is imported only when used.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from jbgrade._base import error_field, error_message
from jbgrade._errors import InputError
from jbgrade.assess._case_model import HandMetric, Precedence
from jbgrade.assess._dispute_records import DisputeSide, Reconciliation
from jbgrade.assess._merge import merge_metrics
from jbgrade.rubric import default_tables, parse_vector

if TYPE_CHECKING:
    from pathlib import Path

    from jbgrade.assess._records import AssessmentReport
    from jbgrade.registry import (
        Actor,
        AssessmentView,
        DecisionView,
        ReconciliationView,
        Registry,
    )

__all__ = ["import_report", "sides_from_registry", "store_reconciliation"]


def _side(
    a: AssessmentView, case_id: str, context: Mapping[str, Any], aware_on: date, role: str
) -> DisputeSide:
    tables = default_tables()
    vec = parse_vector(a.vector)
    entries = {
        k: HandMetric(value=vec[k], rationale=r, evidence=list(a.evidence_refs))
        for k, r in a.rationales.items()
    }
    prec = {m.key: Precedence.assessor_over_measured for m in tables.metrics}
    vector, merged = merge_metrics(vec, entries, {}, prec)
    digest = hashlib.sha256(f"{a.id}:{a.version}:{a.vector}".encode()).hexdigest()
    return DisputeSide(
        assessor=a.assessor_name,
        organisation=a.org_name,
        role=role,
        case_id=case_id,
        source=f"registry assessment {a.id} (version {a.version})",
        sha256=digest,
        vector=vector,
        aware_on=aware_on,
        context=dict(context),
        profiles=[],
        metrics={m.metric: m for m in merged},
    )


def sides_from_registry(
    reg: Registry,
    actor: Actor,
    case_id: str,
    *,
    parties: Sequence[str] = (),
    context: Mapping[str, Any] | None = None,
    aware_on: date | None = None,
) -> tuple[DisputeSide, DisputeSide]:
    """The current assessments of two parties (organisation names or ids) of a case.

    Without ``parties`` the case must have exactly two assessing organisations.
    Clocks start at ``aware_on`` (default: the day the case was reported).
    """
    case = reg.get_case(actor, case_id)
    current = reg.list_assessments(actor, case_id)  # the current version of each party
    if parties:
        if len(parties) != 2:
            raise InputError("give two parties (--party ORG twice)", field="party")
        picked = []
        for p in parties:
            hit = [a for a in current if p in (a.org_id, a.org_name)]
            if not hit:
                known = ", ".join(a.org_name for a in current) or "none"
                raise InputError(
                    f"no current assessment by {p!r} on case {case_id} (assessed by: {known})",
                    field="party",
                )
            picked.append(hit[0])
    else:
        if len(current) != 2:
            known = ", ".join(a.org_name for a in current) or "none"
            raise InputError(
                f"case {case_id} has {len(current)} current assessments ({known}): name two "
                "with --party",
                field="party",
            )
        picked = current
    aware = aware_on or case.created_at.date()
    roles = {}
    for a in picked:
        org = reg.get_org(actor, a.org_id)
        roles[a.id] = "regulator" if org.kind == "government" else org.kind
    ctx = dict(context or {})
    first, second = (_side(x, case_id, ctx, aware, roles[x.id]) for x in picked)
    return first, second


def store_reconciliation(
    reg: Registry, actor: Actor, case_id: str, record: Reconciliation | Mapping[str, Any]
) -> ReconciliationView:
    """Validate a reconciliation record against its model and store it on the case
    (:meth:`Registry.add_reconciliation`, which checks permission and audits it)."""
    if not isinstance(record, Reconciliation):
        try:
            record = Reconciliation.model_validate(record)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = error_field(err) or "reconciliation"
            raise InputError(
                f"not a valid reconciliation record: {where}: {error_message(err)}",
                field="reconciliation",
            ) from None
    return reg.add_reconciliation(actor, case_id, record.model_dump(mode="json"))


def import_report(
    reg: Registry,
    actor: Actor,
    case_id: str,
    report: AssessmentReport | bytes | Path,
) -> tuple[AssessmentView, list[DecisionView]]:
    """Import a ``report.json`` into a registry case: its vector as the actor's
    organisation's assessment (with each metric's rationale) and its decisions.

    The report is read strictly first (:func:`~jbgrade.assess.verify_report`): a
    report whose grade or decisions do not follow from its inputs, or whose hash
    or signature fails, raises :class:`~jbgrade.ReportIntegrityError` naming the
    field, and nothing is stored.
    """
    from jbgrade.assess._records import AssessmentReport
    from jbgrade.assess._verify import read_report, verify_report

    rep = report if isinstance(report, AssessmentReport) else read_report(report)
    verify_report(rep)
    rationales = {m.metric: m.reason for m in rep.metrics if m.reason}
    view = reg.add_assessment(
        actor,
        case_id,
        rep.vector,
        rationales=rationales,
        note=f"imported from report.json of case {rep.case.id} ({rep.case.sha256[:12]})",
    )
    decisions = [
        reg.record_decision(actor, case_id, pd.decision.to_dict(), assessment_id=view.id)
        for pd in rep.decisions
        if pd.decision is not None
    ]
    return view, decisions
