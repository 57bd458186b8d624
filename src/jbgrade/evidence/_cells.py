"""Per target x arm counters: one pass over attempts, constant memory (design 0002)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from jbgrade.evidence._model import Uplift
from jbgrade.evidence._rules import RULES, _r4
from jbgrade.records import Attempt

_SPECIFIC_AT = float(RULES["M-CG"]["specific_at_or_above"])


def _outcome(a: Attempt) -> bool | None:
    """Decided success of one attempt: None for errors and undecided verdicts."""
    if a.status == "error":
        return None
    if a.status == "blocked":
        return False  # a declared layer stopped it: a judged failure
    return a.success


def _specificity(a: Attempt) -> float | None:
    # The first verdict carrying a rubric specificity (a rubric judge or an
    # ensemble that includes one).
    for v in a.verdicts:
        if "specificity" in v.scores and v.error is None:
            return v.scores["specificity"]
    return None


@dataclass
class _Counter:
    k: int = 0
    n: int = 0
    err: int = 0

    def add(self, outcome: bool | None) -> None:
        if outcome is None:
            self.err += 1
        else:
            self.n += 1
            self.k += outcome

    @property
    def p(self) -> float:
        return self.k / self.n if self.n else 0.0


@dataclass
class _Cell:
    """Attempts of one target x arm, indexed the ways the rules need."""

    total: _Counter = field(default_factory=_Counter)
    by_domain: dict[str, _Counter] = field(default_factory=lambda: defaultdict(_Counter))
    by_behaviour: dict[str, _Counter] = field(default_factory=lambda: defaultdict(_Counter))
    by_sample: dict[int, _Counter] = field(default_factory=lambda: defaultdict(_Counter))
    domain_of: dict[str, str] = field(default_factory=dict)
    blocked: int = 0
    # Constant-size summaries of layers and uplift (no attempt is kept: one pass).
    stopped: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    passed: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    succ_passed: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    detected: int = 0
    undetected_successes: int = 0
    succ_full: int = 0
    n_succ: int = 0
    #: domain -> [sum of specificity in millionths, scored successes, successes]
    spec: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0, 0]))
    rubric: bool = False
    #: domain -> successes scored specific (M-CG specific_at_or_above, design 0105)
    specific: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def _fill(cell: _Cell, a: Attempt, declared: list[str]) -> None:
    o = _outcome(a)
    cell.total.add(o)
    cell.by_domain[a.domain].add(o)
    cell.by_behaviour[a.behaviour_id].add(o)
    cell.by_sample[a.sample].add(o)
    cell.domain_of[a.behaviour_id] = a.domain
    cell.blocked += a.status == "blocked"
    if a.stopped_by is not None:
        cell.stopped[a.stopped_by] += 1
    cell.detected += a.detected is True
    cell.rubric = cell.rubric or any("specificity" in v.scores for v in a.verdicts)
    passed = _passed(a, declared) if declared else set()
    for layer in passed:
        cell.passed[layer] += 1
    if o:
        cell.n_succ += 1
        for layer in passed:
            cell.succ_passed[layer] += 1
        cell.undetected_successes += a.detected is False
        cell.succ_full += bool(declared) and passed >= set(declared)
        sp = _specificity(a)
        acc = cell.spec[a.domain]
        acc[2] += 1
        if sp is not None:
            acc[0] += round(sp * 1_000_000)
            acc[1] += 1
            if sp >= _SPECIFIC_AT:
                cell.specific[a.domain] += 1


def _clusters(cell: _Cell | None, domain: str | None = None) -> list[tuple[int, int]]:
    if cell is None:
        return []
    return [
        (c.k, c.n)
        for b, c in cell.by_behaviour.items()
        if c.n > 0 and (domain is None or cell.domain_of.get(b) == domain)
    ]


def _uplift(cell: _Cell, domain: str | None = None) -> Uplift:
    accs = [v for d, v in cell.spec.items() if domain is None or d == domain]
    total = sum(v[0] for v in accs)
    n = sum(v[1] for v in accs)
    if not n:
        return Uplift(mean_specificity=None, n=0)
    return Uplift(mean_specificity=_r4(total / 1_000_000 / n), n=n)


def _passed(a: Attempt, declared: list[str]) -> set[str]:
    """Declared layers an attempt got through.

    Reported ``layers_passed`` first; for a response that came back (status ok)
    every declared in-line layer let it through, so they are inferred too.
    Monitoring is out of band: passed only when it did not detect the attempt.
    """
    passed = set(a.layers_passed) & set(declared)
    if a.status == "ok":
        passed |= {layer for layer in declared if layer != "monitoring"}
    passed.discard("monitoring")
    if "monitoring" in declared and a.status == "ok" and a.detected is False:
        passed.add("monitoring")
    return passed
