"""A registry case as an exportable report (``jbgrade export FORMAT --case ID``).

The case is read through the registry's own checks (the caller's organisation must
see the case; ``case.read``), so an export never reaches further than ``jbgrade``'s
API would. The grade is the current assessment of one party (``party``) or, by
default, the highest-scoring current one (the case list's own rule); decisions are
the current ones recorded on that assessment (all current ones when none names
it). A payload is added only on request, for a caller the registry lets decrypt
it (``case.read_payload``, audited), and never while the case is under embargo.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from jbgrade import __version__
from jbgrade._errors import InputError

if TYPE_CHECKING:
    from jbgrade.registry import Actor, Registry

__all__ = ["case_report"]


def _attack(kind: str | None, atlas: list[str]) -> dict[str, Any] | None:
    """The case's attack as a report's ``case.jailbreak.attack`` (kind and ATLAS ids
    stored on the case; None when the case records neither)."""
    if kind is None and not atlas:
        return None
    return {"kind": kind, "name": None, "atlas": list(atlas)}


def case_report(
    reg: Registry,
    actor: Actor,
    case_id: str,
    *,
    party: str | None = None,
    include_payload: bool = False,
) -> dict[str, Any]:
    """The report dict the exporters read, built from a registry case."""
    view = reg.get_case(actor, case_id)
    current = reg.list_assessments(actor, case_id)
    if party is not None:
        current = [a for a in current if party in (a.org_id, a.org_name)]
        if not current:
            raise InputError(f"no current assessment by {party!r} on case {case_id}", field="party")
    if not current:
        raise InputError(f"case {case_id} has no assessment to export yet")
    a = max(current, key=lambda x: (x.score, x.created_at))
    decisions = [d for d in reg.list_decisions(actor, case_id) if d.current]
    mine = [d for d in decisions if d.assessment_id == a.id]
    models = list(view.affected_models)
    vendors = list(view.affected_vendors)
    pairs: list[tuple[str, str | None]]
    if len(vendors) == len(models):
        pairs = list(zip(models, vendors, strict=True))
    else:
        one = vendors[0] if len(vendors) == 1 else None
        pairs = [(m, one) for m in models]
    report: dict[str, Any] = {
        "kind": "registry-case",
        "jbgrade_version": __version__,
        "generated_at": a.created_at.isoformat(),
        "standard": "JBG " + a.vector.split("/", 1)[0].removeprefix("JBG:"),
        "case": {
            "id": view.id,
            "title": view.title,
            "summary": view.summary,
            "jailbreak": {
                "description": view.attack_description or view.title,
                "attack": _attack(view.attack_kind, view.atlas_techniques),
                "reported_on": view.created_at.date().isoformat(),
                "references": [],
            },
            "models": [{"id": m, "vendor": v} for m, v in pairs],
            "assessor": {"name": a.assessor_name, "organisation": a.org_name},
        },
        "vector": a.vector,
        "grade": {
            "vector": a.vector,
            "score": a.score,
            "severity": a.severity,
            "systemic": a.systemic,
            "provisional": a.provisional,
        },
        "decisions": [{"profile": d.profile_id, "decision": d.result} for d in (mine or decisions)],
        "registry": {
            "assessment": a.id,
            "assessment_version": a.version,
            "state": view.state,
            "embargoed": view.embargoed,
        },
    }
    if include_payload:
        if view.embargoed:
            until = (
                view.embargo_until.date().isoformat() if view.embargo_until else "further notice"
            )
            raise InputError(
                f"case {case_id} is under embargo until {until}: its payload cannot be exported",
                field="include-payload",
            )
        full = reg.get_case(actor, case_id, include_payload=True)  # checks and audits
        if full.payload is None:
            raise InputError(f"case {case_id} has no stored payload", field="include-payload")
        report["export_payload"] = full.payload.get_secret_value()
    return report
