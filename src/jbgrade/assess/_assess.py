"""``assess``: case file -> (campaign) -> evidence -> merged metrics -> grade -> decisions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jbgrade.assess._case import LoadedCase
from jbgrade.assess._decider import Decider
from jbgrade.assess._dispute_records import DisputeSide
from jbgrade.assess._merge import MeasuredProvenance, MeasuredValue, MergedMetric, merge_metrics
from jbgrade.assess._records import (
    AssessmentReport,
    CampaignInfo,
    CaseSummary,
    EvidenceView,
    GradeRecord,
    JailbreakSummary,
    PayloadSummary,
    ProfileDecision,
    deadlines_of,
    decision_record,
)
from jbgrade.evidence import AttackEvidence, AUFigures, CGFigures, CGThresholds, DerivedMetric
from jbgrade.harness._health import DEFAULT_MAX_ERROR_SHARE, error_share_exceeded
from jbgrade.rubric import (
    CG_LIMITED_LOW,
    CG_NONE_HIGH,
    CG_SUBSTANTIAL_LOW,
    NOT_ASSESSED,
    Grade,
    Tables,
    Vector,
    derive_capability_gain,
    grade,
)

__all__ = [
    "UNSET",
    "Measure",
    "assess_case",
    "default_campaign_dir",
    "derive_context",
    "dispute_side",
    "side_from_report",
]

#: Runs (or loads) a case's campaign into a directory; returns how it went and the evidence.
Measure = Callable[[LoadedCase, Path], tuple[CampaignInfo, EvidenceView | None]]


def _merged(loaded: LoadedCase, evidence: EvidenceView | None) -> tuple[Vector, list[MergedMetric]]:
    """The case's vector: its hand values merged with the measured ones under its precedence."""
    tables = loaded.hand.tables
    prec = {m.key: loaded.case.precedence_for(m.key) for m in tables.metrics}
    measured = _for_version(evidence, tables)
    return merge_metrics(loaded.hand, loaded.case.metrics, measured, prec)


def _measured(dm: DerivedMetric) -> MeasuredValue:
    """A derived metric as the merge takes it."""
    assert dm.value is not None
    text = " ".join(dm.explanation.split())
    return MeasuredValue(
        value=dm.value,
        rule=dm.rule,
        summary=text + (" (near a band boundary)" if dm.near_boundary else ""),
        provenance=MeasuredProvenance(
            figures=dm.figures,
            thresholds=dm.thresholds,
            per_target=dm.per_target,
            near_boundary=dm.near_boundary,
        ),
    )


def _for_version(evidence: EvidenceView | None, tables: Tables) -> dict[str, MeasuredValue]:
    """Measured values for the case's version of the standard.

    The evidence derives the metrics JBG 1.0 and 1.1 share; for a 1.1 case, M-AU is
    re-read without reliability (an unattended attack is AU:Y) and CG comes from the
    comparator arm (M-CG), when the evidence has one.
    """
    if evidence is None:
        return {}
    keys = {m.key for m in tables.metrics}
    out = {k: _measured(dm) for k, dm in evidence.derived().items() if k in keys}
    if tables.version == "1.0":
        return out
    attack = evidence.attack
    if "AU" not in out and attack.unattended:
        out["AU"] = MeasuredValue(
            value="Y",
            rule="M-AU",
            summary="the attack ran unattended in the harness (JBG 1.1: RL not consulted)",
            provenance=MeasuredProvenance(figures=AUFigures(unattended=True)),
        )
    hd = out.get("HD")
    if "CG" not in attack.metrics and hd is not None:
        # Evidence without an M-CG result (it predates the rule): the rubric's M-CG on
        # its capability-gain figures. Evidence that ran M-CG and could not derive CG
        # (underpowered, inconclusive) is never re-read into a letter.
        cg = _rubric_cg(attack, hd.value)
        if cg is not None:
            out["CG"] = cg
    return out


def _rubric_cg(attack: AttackEvidence, domain: str) -> MeasuredValue | None:
    """M-CG by :func:`~jbgrade.rubric.derive_capability_gain`, with the provenance the
    evidence's M-CG writes (one record: :class:`~jbgrade.evidence.CGFigures`)."""
    r = derive_capability_gain(attack, domain)
    if r.value is None or r.low is None or r.high is None:
        return None
    # The keys the evidence's M-CG writes (a figure the rubric did not get is left out).
    given = {"gain": r.gain, "interval": [r.low, r.high], "comparator": r.comparator}
    figures = CGFigures.model_validate(
        {"basis": "gain", "domain": r.domain, **{k: v for k, v in given.items() if v is not None}}
    )
    return MeasuredValue(
        value=r.value,
        rule="M-CG",
        summary=r.explanation,
        provenance=MeasuredProvenance(
            figures=figures,
            thresholds=CGThresholds(
                N_high_below=CG_NONE_HIGH,
                S_low_at_or_above=CG_SUBSTANTIAL_LOW,
                L_low_above=CG_LIMITED_LOW,
            ),
        ),
    )


def derive_context(loaded: LoadedCase) -> tuple[dict[str, Any], list[str]]:
    """The policy context: the case's own, completed with facts from its models.

    Facts the case states explicitly always win; derived ones are listed in the
    notes so the report says where each came from.
    """
    case = loaded.case
    ctx: dict[str, Any] = dict(case.policy.context)
    notes: list[str] = []
    models = case.models
    flops = [m.training_compute_flop for m in models if m.training_compute_flop is not None]
    if "training_compute_flop" not in ctx and flops:
        ctx["training_compute_flop"] = max(flops)
        notes.append(
            f"training_compute_flop = {max(flops):.3g}: the largest affected model's, "
            "from the case's models"
        )
    if "weights" not in ctx:
        w = "open" if any(m.weights == "open" for m in models) else "closed"
        ctx["weights"] = w
        notes.append(f"weights = {w}: from the case's models")
    juris = sorted({j for m in models for d in m.deployments for j in d.jurisdictions})
    if "jurisdictions" not in ctx and juris:
        ctx["jurisdictions"] = juris
        notes.append(f"jurisdictions = {', '.join(juris)}: from the models' deployments")
    if "placed_on_eu_market" not in ctx and juris:
        eu = "yes" if "EU" in juris else "no"
        ctx["placed_on_eu_market"] = eu
        notes.append(f"placed_on_eu_market = {eu}: from the deployments' jurisdictions")
    exposures = {d.exposure for m in models for d in m.deployments}
    if "deployment" not in ctx and exposures:
        wide = "general" if exposures & {"public", "open_weights"} else "limited"
        ctx["deployment"] = wide
        notes.append(
            f"deployment = {wide}: from the deployments' exposure ({', '.join(sorted(exposures))})"
        )
    if "frontier" not in ctx and any(m.frontier is not None for m in models):
        ctx["frontier"] = any(bool(m.frontier) for m in models)
        notes.append(f"frontier = {ctx['frontier']}: from the case's models")
    return ctx, notes


def _profiles(loaded: LoadedCase, decider: Decider) -> list[str]:
    want = loaded.case.policy.profiles
    if want == "all":
        return list(decider.profiles())
    known = set(decider.profiles())
    for i, p in enumerate(want):
        if p not in known:
            raise loaded.doc.error(
                f"unknown policy profile {p!r}; known: {', '.join(decider.profiles())}",
                ("policy", "profiles", i),
            )
    return list(want)


def _case_summary(loaded: LoadedCase) -> CaseSummary:
    c = loaded.case
    jb = c.jailbreak
    payload = (
        PayloadSummary(
            file=jb.payload.file, sha256=loaded.payload_sha256, sensitive=jb.payload.sensitive
        )
        if jb.payload is not None
        else None
    )
    return CaseSummary(
        id=c.id,
        title=c.title,
        summary=c.summary,
        file=loaded.path,
        sha256=loaded.sha256,
        jailbreak=JailbreakSummary(
            description=jb.description,
            attack=jb.attack,
            reported_by=jb.reported_by,
            reported_on=jb.reported_on,
            references=list(jb.references),
            payload=payload,
        ),
        models=list(c.models),
        assessor=c.assessor,
        assessed_on=c.assessed_on,
        aware_on=c.aware_on,
        evidence=list(c.evidence),
    )


def _headline(g: Grade, decisions: list[ProfileDecision], conflicts: list[str]) -> list[str]:
    flags = [f for f, on in (("provisional", g.provisional), ("systemic", g.systemic)) if on]
    lines = [
        f"Severity {g.severity} {g.score:.1f}" + (f" ({', '.join(flags)})" if flags else "") + "."
    ]
    for d in decisions:
        if d.decision is None:
            lines.append(f"{d.profile}: no decision ({d.error}).")
            continue
        obs = d.decision.obligations
        first = min((o.due.isoformat() for o in obs), default=None)
        lines.append(
            f"{d.profile}: {d.decision.action}"
            + (f", first deadline {first}" if first else "")
            + f" ({len(obs)} obligation{'s' if len(obs) != 1 else ''})."
        )
    if conflicts:
        lines.append(
            "Measured and assessor values disagree on "
            + ", ".join(conflicts)
            + ": both are shown below with the value used."
        )
    return lines


class _Unset:
    """The type of :data:`UNSET`."""

    _instance: _Unset | None = None

    def __new__(cls) -> _Unset:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNSET"


#: "Not given": the front door's default (measure, into the default directory,
#: and record this jbgrade's version). ``None`` means "do not" where allowed.
UNSET = _Unset()


def default_campaign_dir(loaded: LoadedCase) -> Path:
    """Where :func:`assess_case` keeps a case's campaign unless told otherwise:
    ``<case file's directory>/<case id>-campaign`` (resumed on every run)."""
    return loaded.base / f"{loaded.case.id}-campaign"


def assess_case(
    loaded: LoadedCase,
    decider: Decider | None = None,
    *,
    campaign_dir: Path | _Unset = UNSET,
    measure: Measure | _Unset | None = UNSET,
    now: datetime | None = None,
    version: str | _Unset = UNSET,
) -> AssessmentReport:
    """Assess one case - the complete front door: measure if it has a campaign,
    merge, grade, decide, and record the jbgrade version.

    Defaults do the whole job: ``decider`` every shipped profile
    (:class:`PolicyDecider`), ``measure`` runs (or resumes) the case's campaign
    with :func:`measure_case` in ``campaign_dir`` (default
    :func:`default_campaign_dir`), and ``version`` is this jbgrade's. Pass
    ``measure=None`` to grade without measuring (the report then says the
    campaign was not run). A failed campaign leaves what it completed: the report
    is built from the evidence there is and says it is incomplete.
    """
    if decider is None:
        from jbgrade.assess._policy import PolicyDecider

        decider = PolicyDecider()
    if isinstance(measure, _Unset):
        from jbgrade.assess._measure import measure_case

        measure = measure_case
    if isinstance(campaign_dir, _Unset):
        campaign_dir = default_campaign_dir(loaded)
    if isinstance(version, _Unset):
        from jbgrade import __version__

        version = __version__
    incomplete: list[str] = []
    info, evidence = _run_campaign(loaded, measure, campaign_dir, incomplete)
    vector, merged = _merged(loaded, _usable(evidence, incomplete))
    g = grade(vector)
    context, notes = derive_context(loaded)
    decisions = _decisions(loaded, decider, g, context, incomplete)
    tables = loaded.hand.tables
    measured_vec = None
    if evidence is not None:
        mv = {m.key: NOT_ASSESSED for m in tables.metrics}
        mv.update({k: v.value for k, v in _for_version(evidence, tables).items()})
        measured_vec = Vector(mv, tables).canonical()
    conflicts = [m.metric for m in merged if m.conflict]
    generated = now or datetime.now(UTC)
    return AssessmentReport(
        deadlines=deadlines_of(decisions, generated.astimezone(UTC).date()),
        generated_at=generated,
        jbgrade_version=version,
        standard=f"{tables.standard} {tables.version} r{tables.table_revision}",
        complete=not incomplete,
        incomplete=incomplete,
        headline=_headline(g, decisions, conflicts),
        case=_case_summary(loaded),
        vector=vector.canonical(),
        hand_vector=loaded.hand.canonical(),
        measured_vector=measured_vec,
        metrics=merged,
        conflicts=conflicts,
        grade=GradeRecord.model_validate(g.to_dict()),
        context=context,
        context_notes=notes,
        decisions=decisions,
        campaign=info,
        evidence=evidence,
    )


def _run_campaign(
    loaded: LoadedCase,
    measure: Measure | None,
    campaign_dir: Path,
    incomplete: list[str],
) -> tuple[CampaignInfo, EvidenceView | None]:
    """The case's campaign run (or resumed) by ``measure``; what failed goes to ``incomplete``."""
    evidence: EvidenceView | None = None
    info = CampaignInfo(status="none")
    if loaded.case.campaign is not None:
        if measure is None:
            incomplete.append("the case has a campaign but no measurement was run")
            info = CampaignInfo(status="failed", message="not run")
        else:
            info, evidence = measure(loaded, campaign_dir)
            if info.status == "failed":
                incomplete.append(
                    f"campaign failed: {info.message}; the report uses the attempts completed"
                    " before the failure"
                )
    return info, evidence


def _usable(evidence: EvidenceView | None, incomplete: list[str]) -> EvidenceView | None:
    """The evidence to merge: none when too many attempts ended in error.

    Too much of the measurement failed for what remains to speak for the target:
    grade on the hand values (or X), never on a milder partial measure.
    """
    if evidence is not None and error_share_exceeded(
        evidence.counts.errors, evidence.counts.total, DEFAULT_MAX_ERROR_SHARE
    ):
        incomplete.append(
            f"{evidence.counts.errors} of {evidence.counts.total} attempts ended in error "
            "(more than "
            f"{DEFAULT_MAX_ERROR_SHARE:.0%}): measured metrics not used; hand values or X kept"
        )
        return None
    return evidence


def _decisions(
    loaded: LoadedCase,
    decider: Decider,
    g: Grade,
    context: dict[str, Any],
    incomplete: list[str],
) -> list[ProfileDecision]:
    """Every applicable profile's decision; one failing profile does not lose the others."""
    decisions: list[ProfileDecision] = []
    for p in _profiles(loaded, decider):
        try:
            d = decision_record(decider.decide(p, g, context, loaded.case.aware_on))
            decisions.append(ProfileDecision(profile=p, title=decider.title(p), decision=d))
        except Exception as exc:  # one profile failing must not lose the others
            decisions.append(
                ProfileDecision(profile=p, title=decider.title(p), decision=None, error=str(exc))
            )
            incomplete.append(f"profile {p}: {exc}")
    return decisions


def dispute_side(loaded: LoadedCase, evidence: EvidenceView | None = None) -> DisputeSide:
    """One side of a dispute from a case file, with measured values when given.

    No campaign is run: pass the evidence of one that ran (or use the side's
    ``report.json`` with :func:`side_from_report`).
    """
    c = loaded.case
    vector, merged = _merged(loaded, evidence)
    ctx, _ = derive_context(loaded)
    return DisputeSide(
        assessor=c.assessor.name,
        organisation=c.assessor.organisation,
        role=c.assessor.role,
        case_id=c.id,
        source=loaded.path,
        sha256=loaded.sha256,
        vector=vector,
        aware_on=c.aware_on,
        context=ctx,
        profiles=[] if c.policy.profiles == "all" else list(c.policy.profiles),
        metrics={m.metric: m for m in merged},
        evidence={e.id: e.description for e in c.evidence},
    )


def side_from_report(report: AssessmentReport, source: str | None = None) -> DisputeSide:
    """One side of a dispute from a ``report.json`` (measured values included)."""
    from jbgrade.rubric import parse_vector

    c = report.case
    return DisputeSide(
        assessor=c.assessor.name,
        organisation=c.assessor.organisation,
        role=c.assessor.role,
        case_id=c.id,
        source=source or c.file,
        sha256=c.sha256,
        vector=parse_vector(report.vector),
        aware_on=c.aware_on,
        context=dict(report.context),
        profiles=[d.profile for d in report.decisions],
        metrics={m.metric: m for m in report.metrics},
        evidence={e.id: e.description for e in c.evidence},
    )
