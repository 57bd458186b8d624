"""Exhaustive validation of a JBG table set (SSVC-style).

Checks, over every combination of concrete values: completeness (every
combination gets a score in a band), monotonicity (raising any one metric by
one step never lowers the score, nor switches ``systemic`` off; the score
table itself never decreases along an axis), relevance (every metric changes
the score somewhere) and the anchor rules. Violations name the rule and an
example vector.

A table file that claims the standard and version of the tables this package
ships (e.g. a candidate ``JBG 1.0`` revision) must also *conform* to them: the
same metrics and value letters, the same severity bands, every normative
anchor unchanged, and the same score and systemic flag for every combination
(a change of outcomes needs a new version of the standard; see the spec,
"Versioning"). Without that, deleting or weakening an anchor in a copy would
make the copy pass.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import compress, product
from operator import gt, ne

from jbgrade._errors import RubricTableError
from jbgrade.rubric._tables import CRITERIA, SEVERITIES, VERSIONS, Anchor, Tables, tables_for

#: Records one violation: (check, message, example vector or None).
_Add = Callable[[str, str, str | None], None]

__all__ = ["CheckReport", "Violation", "check_tables"]


@dataclass(frozen=True, slots=True)
class Violation:
    """One failed check: which rule, and an example that shows it."""

    check: (
        str  # "completeness" | "monotonicity" | "relevance:<key>" | "anchor:<id>" | "conformance"
    )
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


def _anchor_sig(a: Anchor) -> tuple[object, ...]:
    when = tuple(sorted((k, tuple(sorted(map(str, v)))) for k, v in a.when.items()))
    return (when, a.max_severity, a.min_severity)


def _conformance(t: Tables, ref: Tables) -> tuple[list[str], list[Anchor]]:
    """Differences from the normative tables of the same version; the anchors to check."""
    problems: list[str] = []
    mine = [(m.key, m.criterion, m.letters) for m in t.metrics]
    theirs = [(m.key, m.criterion, m.letters) for m in ref.metrics]
    if mine != theirs:
        first = next(
            (f"{a[0]} vs {b[0]}" for a, b in zip(mine, theirs, strict=False) if a != b),
            f"{len(mine)} metrics vs {len(theirs)}",
        )
        problems.append(
            f"metrics, criteria or value letters differ from {ref.standard} {ref.version} ({first})"
        )
    if t.severity_bands != ref.severity_bands:
        problems.append(f"severity bands differ from {ref.standard} {ref.version}")
    by_id = {a.id: a for a in t.anchors}
    anchors = list(ref.anchors)
    for a in ref.anchors:
        got = by_id.get(a.id)
        if got is None:
            problems.append(f"normative anchor {a.id} is missing ({a.statement})")
        elif _anchor_sig(got) != _anchor_sig(a):
            problems.append(f"normative anchor {a.id} is altered ({a.statement})")
    ref_ids = {a.id for a in ref.anchors}
    anchors += [a for a in t.anchors if a.id not in ref_ids]
    return problems, anchors


class _Flat:
    """Every concrete combination's outcome, in product() order (last metric fastest).

    Computed straight from the tables' data, independently of the compiled grader.
    """

    def __init__(self, t: Tables):
        metrics = t.metrics
        keys = [m.key for m in metrics]
        self.prefix = t.prefix
        self.metrics = metrics
        self.sizes = sizes = [len(m.letters) for m in metrics]
        self.strides = strides = [1] * len(metrics)
        for i in range(len(metrics) - 2, -1, -1):
            strides[i] = strides[i + 1] * sizes[i + 1]
        self.total = strides[0] * sizes[0]
        cells = [
            [[(sc, SEVERITIES.index(t.severity_of(sc))) for sc in row] for row in plane]
            for plane in t.score
        ]
        # Per criterion: (level, systemic-clause mask) of each combination of its letters.
        infos: list[list[tuple[int, int]]] = []
        seqs: list[list[int]] = []
        for c in CRITERIA:
            pos = [i for i, m in enumerate(metrics) if m.criterion == c]
            info: list[tuple[int, int]] = []
            for combo in product(*[metrics[i].letters for i in pos]):
                letters = dict(zip((keys[i] for i in pos), combo, strict=True))
                level, _ = t.criterion_level(c, letters)
                mask = 0
                for j, conj in enumerate(t.systemic_any_of):
                    if all(letters[k] in v for k, v in conj.items() if k in letters):
                        mask |= 1 << j
                info.append((level, mask))
            infos.append(info)
            local = [(i, sizes[i]) for i in pos]
            seq = []
            for digits in product(*[range(n) for n in sizes]):
                k = 0
                for i, n in local:
                    k = k * n + digits[i]
                seq.append(k)
            seqs.append(seq)
        self.score: list[float] = []
        self.rank: list[int] = []
        self.systemic: list[bool] = []
        bp_p, ec_p, ri_p = infos
        for x, y, z in zip(*seqs, strict=True):
            (b_lvl, b_m), (e_lvl, e_m), (r_lvl, r_m) = bp_p[x], ec_p[y], ri_p[z]
            sc, rk = cells[e_lvl][b_lvl][r_lvl]
            self.score.append(sc)
            self.rank.append(rk)
            self.systemic.append((b_m & e_m & r_m) != 0)

    def vector(self, idx: int) -> str:
        return self.prefix + "/".join(
            f"{m.key}:{m.letters[(idx // st) % n]}"
            for m, st, n in zip(self.metrics, self.strides, self.sizes, strict=True)
        )

    def matching(self, when: dict[str, tuple[str | bool, ...]]) -> list[int]:
        """Flat indexes of the combinations an anchor condition selects."""
        allowed = [
            [d * st for d, ltr in enumerate(m.letters) if m.key not in when or ltr in when[m.key]]
            for m, st in zip(self.metrics, self.strides, strict=True)
        ]
        want_sys = when.get("systemic")
        idxs = list(map(sum, product(*allowed)))
        if want_sys is None:
            return idxs
        return [i for i in idxs if self.systemic[i] in want_sys]


def anchor_score_ranges(t: Tables) -> dict[str, tuple[float, float]]:
    """Anchor id -> (lowest, highest) score over the combinations its condition selects."""
    flat = _Flat(t)
    out: dict[str, tuple[float, float]] = {}
    for a in t.anchors:
        scores = [flat.score[i] for i in flat.matching(a.when)]
        if scores:
            out[a.id] = (min(scores), max(scores))
    return out


def check_tables(tables: Tables, *, max_examples: int = 1) -> CheckReport:
    """Validate ``tables`` exhaustively; returns a report (never raises on violations).

    ``max_examples`` bounds how many violations of the same check are listed.
    """
    t = tables
    rep = CheckReport(source=t.source)
    seen_counts: dict[str, int] = {}

    def add(check: str, msg: str, example: str | None) -> None:
        n = seen_counts.get(check, 0)
        if n < max_examples:
            rep.violations.append(Violation(check, msg, example))
        seen_counts[check] = n + 1

    anchors: list[Anchor] = list(t.anchors)
    conform_to: Tables | None = None
    ref = tables_for(t.version) if t.standard == "JBG" and t.version in VERSIONS else None
    if ref is not None and t is not ref and (t.standard, t.version) == (ref.standard, ref.version):
        conform_to = ref
        problems, anchors = _conformance(t, ref)
        for p in problems:
            add("conformance", p, None)
        rep.checks.append(
            f"conformance: metrics, severity bands and anchors of {ref.standard} {ref.version}"
        )
        if problems and any(p.startswith("metrics") for p in problems):
            return rep  # the normative anchors cannot even be evaluated

    try:
        flat = _Flat(t)
    except RubricTableError as exc:
        add("completeness", str(exc), None)
        return rep
    _check_score_table(t, add)
    rep.checks.append("monotonicity: the score table never decreases along EC, BP or RI")
    rep.combinations = flat.total
    rep.checks.append(f"completeness: {flat.total} combinations scored, each in one band")
    if conform_to is not None:
        _check_same_grades(flat, conform_to, add)
        rep.checks.append(
            f"conformance: every grade equals {conform_to.standard} {conform_to.version}'s"
        )
    _check_single_steps(t, flat, add)
    rep.checks.append("monotonicity: every single-step raise of every metric")
    rep.checks.append("relevance: every metric changes the score somewhere")
    for a in anchors:
        _check_anchor(a, flat, add)
        rep.checks.append(f"anchor {a.id}: {a.statement}")
    return rep


def _check_score_table(t: Tables, add: _Add) -> None:
    """The score table never decreases along EC, BP or RI."""
    n_levels = len(t.levels)
    for e, b, r in product(range(n_levels), repeat=3):
        cell = t.score[e][b][r]
        for axis, nxt in (("EC", (e + 1, b, r)), ("BP", (e, b + 1, r)), ("RI", (e, b, r + 1))):
            if max(nxt) < n_levels and t.score[nxt[0]][nxt[1]][nxt[2]] < cell:
                add(
                    "monotonicity",
                    f"score table cell [EC {e}][BP {b}][RI {r}] = {cell} is above the next "
                    f"{axis} level's {t.score[nxt[0]][nxt[1]][nxt[2]]}",
                    None,
                )


def _check_same_grades(flat: _Flat, conform_to: Tables, add: _Add) -> None:
    """Same standard and version: every grade must be what the normative tables give."""
    total, score, systemic = flat.total, flat.score, flat.systemic
    ref_flat = _Flat(conform_to)
    diff = sorted(
        {
            *compress(range(total), map(ne, score, ref_flat.score)),
            *compress(range(total), map(ne, systemic, ref_flat.systemic)),
        }
    )
    if diff:
        i = diff[0]
        add(
            "conformance",
            f"{len(diff)} of {total} grades differ from {conform_to.standard} "
            f"{conform_to.version} (score {score[i]} vs {ref_flat.score[i]}, systemic "
            f"{systemic[i]} vs {ref_flat.systemic[i]}); changing outcomes needs a new "
            "version of the standard, not a table revision",
            flat.vector(i),
        )


def _check_single_steps(t: Tables, flat: _Flat, add: _Add) -> None:
    """Monotonicity and relevance of every metric.

    Each combination is compared with the one a single step up in one metric (flat
    index + stride), skipping pairs that wrap across a block.
    """
    strides, sizes, total = flat.strides, flat.sizes, flat.total
    score, systemic, vec = flat.score, flat.systemic, flat.vector
    for i, m in enumerate(t.metrics):
        st, n = strides[i], sizes[i]
        span = total - st
        matters = False
        for idx in compress(range(span), map(ne, score[:span], score[st:])):
            if (idx // st) % n == n - 1:
                continue
            matters = True
            if score[idx] > score[idx + st]:
                d = (idx // st) % n
                add(
                    "monotonicity",
                    f"raising {m.key} from {m.letters[d]} to {m.letters[d + 1]} lowers the "
                    f"score from {score[idx]} to {score[idx + st]}",
                    vec(idx),
                )
        for idx in compress(range(span), map(gt, systemic[:span], systemic[st:])):
            if (idx // st) % n == n - 1:
                continue
            d = (idx // st) % n
            add(
                "monotonicity",
                f"raising {m.key} from {m.letters[d]} to {m.letters[d + 1]} switches systemic off",
                vec(idx),
            )
        if not matters:
            add(f"relevance:{m.key}", f"metric {m.key} never changes the score", None)


def _check_anchor(a: Anchor, flat: _Flat, add: _Add) -> None:
    """Every combination matching the anchor's condition is within its severity bounds."""
    score, rank, vec = flat.score, flat.rank, flat.vector
    hi = SEVERITIES.index(a.max_severity) if a.max_severity is not None else None
    lo = SEVERITIES.index(a.min_severity) if a.min_severity is not None else None
    for idx in flat.matching(a.when):
        rk = rank[idx]
        bound = None
        if hi is not None and rk > hi:
            bound = f"max {a.max_severity}"
        elif lo is not None and rk < lo:
            bound = f"min {a.min_severity}"
        if bound is not None:
            add(
                f"anchor:{a.id}",
                f"{a.statement} Got {SEVERITIES[rk]} {score[idx]} ({bound})",
                vec(idx),
            )
