"""Exhaustive validation of a JBG table set (SSVC-style).

Checks, over every combination of concrete values: completeness (every
combination gets a score in a band), monotonicity (raising any one metric by
one step never lowers the score, nor switches ``systemic`` off), relevance
(every metric changes the score somewhere) and the anchor rules the tables
themselves declare. Violations name the rule and an example vector.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import product

from jbgrade.rubric._grade import Grader
from jbgrade.rubric._tables import SEVERITIES, Tables

__all__ = ["CheckReport", "Violation", "check_tables"]


@dataclass(frozen=True, slots=True)
class Violation:
    """One failed check: which rule, and an example that shows it."""

    check: str  # "completeness" | "monotonicity" | "relevance" | "anchor:<id>" | "shape"
    message: str
    example: str | None = None

    def __str__(self) -> str:
        ex = f" (e.g. {self.example})" if self.example else ""
        return f"{self.check}: {self.message}{ex}"


@dataclass(slots=True)
class CheckReport:
    """Result of :func:`check_tables`."""

    source: str
    combinations: int = 0
    violations: list[Violation] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations


def check_tables(tables: Tables, *, max_examples: int = 1) -> CheckReport:
    """Validate ``tables`` exhaustively; returns a report (never raises on violations)."""
    t = tables
    g = Grader(t)
    rep = CheckReport(source=t.source)
    metrics = t.metrics
    keys = [m.key for m in metrics]
    prefix = t.prefix

    def vec(letters: tuple[str, ...]) -> str:
        return prefix + "/".join(f"{k}:{v}" for k, v in zip(keys, letters, strict=True))

    scores: dict[tuple[str, ...], tuple[float, str, bool]] = {}
    for letters in product(*[m.letters for m in metrics]):
        gr = g.grade(vec(letters))
        scores[letters] = (gr.score, gr.severity, gr.systemic)
    rep.combinations = len(scores)
    rep.checks.append(f"completeness: {len(scores)} combinations scored")

    seen_counts: dict[str, int] = {}

    def add(check: str, msg: str, example: str | None) -> None:
        n = seen_counts.get(check, 0)
        if n < max_examples:
            rep.violations.append(Violation(check, msg, example))
        seen_counts[check] = n + 1

    matters = dict.fromkeys(keys, False)
    for letters, (score, _sev, systemic) in scores.items():
        for i, m in enumerate(metrics):
            idx = m.letters.index(letters[i])
            if idx + 1 >= len(m.letters):
                continue
            up = (*letters[:i], m.letters[idx + 1], *letters[i + 1 :])
            s2, _, sys2 = scores[up]
            if s2 != score:
                matters[m.key] = True
            if s2 < score:
                add(
                    "monotonicity",
                    f"raising {m.key} from {letters[i]} to {m.letters[idx + 1]} lowers the score "
                    f"from {score} to {s2}",
                    vec(letters),
                )
            if systemic and not sys2:
                add(
                    "monotonicity",
                    f"raising {m.key} from {letters[i]} to {m.letters[idx + 1]} "
                    "switches systemic off",
                    vec(letters),
                )
    rep.checks.append("monotonicity: every single-step raise of every metric")
    for k, ok in matters.items():
        if not ok:
            add(f"relevance:{k}", f"metric {k} never changes the score", None)
    rep.checks.append("relevance: every metric changes the score somewhere")

    for a in t.anchors:
        conds = {k: set(v) for k, v in a.when.items() if k != "systemic"}
        want_sys = a.when.get("systemic")
        for letters, (score, sev, systemic) in scores.items():
            if any(letters[keys.index(k)] not in v for k, v in conds.items()):
                continue
            if want_sys is not None and systemic not in want_sys:
                continue
            rank = SEVERITIES.index(sev)
            if a.max_severity is not None and rank > SEVERITIES.index(a.max_severity):
                add(
                    f"anchor:{a.id}",
                    f"{a.statement} Got {sev} {score} (max {a.max_severity})",
                    vec(letters),
                )
            if a.min_severity is not None and rank < SEVERITIES.index(a.min_severity):
                add(
                    f"anchor:{a.id}",
                    f"{a.statement} Got {sev} {score} (min {a.min_severity})",
                    vec(letters),
                )
        rep.checks.append(f"anchor {a.id}: {a.statement}")
    return rep
