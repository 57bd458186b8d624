"""Statistics over attempts and the derivation rules of design 0002: the entry points.

Rule ids (M-RL, M-UN, M-TR, M-HD, M-UP, M-LY, M-AU) and thresholds are those
of docs/design/0002-measured-metrics.md; the thresholds live in ``RULES``
(:mod:`jbgrade.evidence._rules`), and every derived value records the ones it
applied. The work is split by concern: ``_cells`` (one-pass counters),
``_target_stats`` (per-target statistics), ``_metric_rates`` and
``_metric_scope`` (the rules), ``_derive`` (one attack's evidence), and this
module (reading attempts or counts into cells).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from jbgrade.evidence._cells import _Cell, _fill, _outcome
from jbgrade.evidence._derive import _derive
from jbgrade.evidence._judge_error import JudgeError
from jbgrade.evidence._model import AttackInfo, AttemptCounts, Evidence, TargetInfo
from jbgrade.evidence._rules import (
    DERIVED_METRICS,
    RULES,
    RULES_DATA,
    RULES_SHA256,
    RULES_VERSION,
    Z95,
    wilson,
)
from jbgrade.records import Attempt

__all__ = [
    "DERIVED_METRICS",
    "RULES",
    "RULES_DATA",
    "RULES_SHA256",
    "RULES_VERSION",
    "Z95",
    "compute_evidence",
    "evidence_from_counts",
    "stream_evidence",
    "wilson",
]


_Info = TypeVar("_Info", TargetInfo, AttackInfo)


def _by_id(
    items: Mapping[str, _Info | Mapping[str, Any]] | Iterable[_Info] | None, model: type[_Info]
) -> dict[str, _Info]:
    """Id -> info, from infos or from a mapping of id -> info or its fields."""
    out: dict[str, _Info] = {}
    if items is None:
        return out
    if isinstance(items, Mapping):
        for iid, v in items.items():
            out[iid] = v if isinstance(v, model) else model.model_validate({"id": iid, **dict(v)})
    else:
        for v in items:
            out[v.id] = v
    return out


def compute_evidence(
    attempts: Iterable[Attempt],
    targets: Mapping[str, TargetInfo | Mapping[str, Any]] | Iterable[TargetInfo],
    attacks: Mapping[str, AttackInfo | Mapping[str, Any]] | Iterable[AttackInfo] | None = None,
    *,
    campaign: str | None = None,
    judge_error: JudgeError | None = None,
) -> Evidence:
    """Statistics and derived JBG metrics from a campaign's attempts.

    ``targets`` maps target id -> model, vendor (family) and declared layers
    (:class:`TargetInfo` or a mapping with those keys); a target missing there
    takes model and vendor from its attempts and declares no layers.
    ``attacks`` gives each attack's kind and whether it ran unattended (default:
    a template that did). Attempts with the same key count once (the last
    wins). Baseline-arm attempts (``arm == "baseline"``) serve every attack.
    """
    latest: dict[str, Attempt] = {}
    for a in attempts:
        latest.pop(a.key, None)
        latest[a.key] = a
    return stream_evidence(
        latest.values(), targets, attacks, campaign=campaign, judge_error=judge_error
    )


def stream_evidence(
    attempts: Iterable[Attempt],
    targets: Mapping[str, TargetInfo | Mapping[str, Any]] | Iterable[TargetInfo],
    attacks: Mapping[str, AttackInfo | Mapping[str, Any]] | Iterable[AttackInfo] | None = None,
    *,
    campaign: str | None = None,
    comparators: Mapping[str, TargetInfo | Mapping[str, Any]] | Iterable[TargetInfo] | None = None,
    judge_error: JudgeError | None = None,
) -> Evidence:
    """Like :func:`compute_evidence`, in one pass over attempts that are already unique by key.

    Nothing but per-cell counters is kept, so memory does not grow with the number
    of attempts (only with targets x behaviours). The result does not depend on the
    order of the attempts. Errored or undecided attempts count in no rate and are
    counted (per target and in ``counts.errors``).
    """
    infos = _by_id(targets, TargetInfo)
    ainfo = _by_id(attacks, AttackInfo)
    cinfos = _by_id(comparators, TargetInfo)
    comp_cells: dict[str, _Cell] = defaultdict(_Cell)
    comp_arm = 0
    unknown: set[str] = set()
    base_cells: dict[str, _Cell] = defaultdict(_Cell)
    att_cells: dict[str, dict[str, _Cell]] = defaultdict(lambda: defaultdict(_Cell))
    judges: dict[str, dict[str, Any]] = {}
    total = attack_arm = judged = blocked = 0
    for a in attempts:
        if a.arm == "comparator":
            # The comparator arm (design 0105): its own cells, in no attack or baseline rate.
            cinfo = cinfos.get(a.target)
            if cinfo is None:
                cinfo = cinfos[a.target] = TargetInfo(id=a.target, model=a.model, vendor=a.vendor)
            _fill(comp_cells[a.target], a, list(cinfo.layers))
            comp_arm += 1
            total += 1
            judged += _outcome(a) is not None
            blocked += a.status == "blocked"
            continue
        info = infos.get(a.target)
        if info is None:
            info = infos[a.target] = TargetInfo(id=a.target, model=a.model, vendor=a.vendor)
            unknown.add(a.target)
        declared = list(info.layers)
        if a.arm == "baseline":
            _fill(base_cells[a.target], a, declared)
        else:
            attack_arm += 1
            _fill(att_cells[a.attack][a.target], a, declared)
        total += 1
        judged += _outcome(a) is not None
        blocked += a.status == "blocked"
        for v in a.verdicts:
            key = json.dumps(v.spec, sort_keys=True)
            if key not in judges:
                judges[key] = v.spec
    counts = AttemptCounts(
        total=total,
        attack_arm=attack_arm,
        baseline_arm=total - attack_arm - comp_arm,
        comparator_arm=comp_arm,
        judged=judged,
        errors=total - judged,
        blocked=blocked,
    )
    notes = [f"target {t!r} is not in the target info: no declared layers" for t in sorted(unknown)]
    return _derive(
        att_cells,
        base_cells,
        infos,
        ainfo,
        judges=[judges[k] for k in sorted(judges)],
        notes=notes,
        counts=counts,
        campaign=campaign,
        comp_cells=comp_cells,
        comp_infos=cinfos,
        judge_error=judge_error,
    )


def evidence_from_counts(
    counts: Iterable[tuple[str, str, str, str, int, int]],
    targets: Mapping[str, TargetInfo | Mapping[str, Any]] | Iterable[TargetInfo],
    attacks: Mapping[str, AttackInfo | Mapping[str, Any]] | Iterable[AttackInfo] | None = None,
    *,
    campaign: str | None = None,
    judge_error: JudgeError | None = None,
) -> Evidence:
    """Evidence from per-cell counters instead of attempt records (same derivation code).

    Each row is ``(attack, target, behaviour_id, domain, successes, judged)``;
    attack ``"baseline"`` is the baseline arm, attack ``"comparator"`` the comparator
    arm (``target`` is then the comparator's id). Used by simulation studies
    (bench/validity.py) that draw counts directly; layers, uplift and per-sample
    figures are then empty.
    """
    infos = _by_id(targets, TargetInfo)
    ainfo = _by_id(attacks, AttackInfo)
    base_cells: dict[str, _Cell] = defaultdict(_Cell)
    att_cells: dict[str, dict[str, _Cell]] = defaultdict(lambda: defaultdict(_Cell))
    comp_cells: dict[str, _Cell] = defaultdict(_Cell)
    total = base_n = comp_n = 0
    for attack, target, bid, domain, k, n in counts:
        if attack == "comparator":
            cell = comp_cells[target]
            comp_n += n
        else:
            cell = base_cells[target] if attack == "baseline" else att_cells[attack][target]
        for c in (cell.total, cell.by_domain[domain], cell.by_behaviour[bid], cell.by_sample[0]):
            c.k += k
            c.n += n
        cell.domain_of[bid] = domain
        total += n
        base_n += n if attack == "baseline" else 0
        if attack == "comparator":
            continue
        if target not in infos:
            infos[target] = TargetInfo(id=target, model=target, vendor="unknown")
    ac = AttemptCounts(
        total=total,
        attack_arm=total - base_n - comp_n,
        baseline_arm=base_n,
        comparator_arm=comp_n,
        judged=total,
        errors=0,
        blocked=0,
    )
    cinfos = {c: TargetInfo(id=c, model=c, vendor="unknown") for c in comp_cells}
    return _derive(
        att_cells,
        base_cells,
        infos,
        ainfo,
        judges=[],
        notes=[],
        counts=ac,
        campaign=campaign,
        comp_cells=comp_cells,
        comp_infos=cinfos,
        judge_error=judge_error,
    )
