"""Grading: compiled lookups over the JBG tables.

Every possible criterion part (including ``X`` values) is precomputed once per
table set, so grading a canonical vector string is three dict lookups and one
index into the score table. Explanations and tipping points are computed only
when asked for: they are for people, the hot path is for machines.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import product
from typing import Any

from jbgrade._errors import VectorError
from jbgrade.rubric._explain import decisive, explanation, nomenclature, tipping_points
from jbgrade.rubric._tables import (
    CRITERIA,
    LATEST_VERSION,
    VERSIONS,
    Tables,
    tables_for,
    tables_from_data,
)
from jbgrade.rubric._vector import NOT_ASSESSED, Vector, parse_vector

__all__ = [
    "Grade",
    "Grader",
    "default_grader",
    "grade",
    "grade_many",
    "grader_for",
    "latest_grader",
]


@dataclass(frozen=True, slots=True)
class _Part:
    """One criterion's share of a vector, precomputed."""

    key: str  # e.g. "LY:F/UN:U/RL:H/TR:M"
    letters: tuple[str, ...]  # as given (may contain X)
    resolved: tuple[str, ...]  # X replaced by the worst value
    level: int
    points: int | None
    has_x: bool
    sys_mask: int  # bit i set: this part satisfies systemic conjunct i's conditions
    offset: int  # this part's share of the flat score-table index


class Grader:
    """Grades vectors against one set of tables."""

    _identity: str | None

    @property
    def identity(self) -> str:
        """SHA-256 of the tables' data (sorted-key JSON): which tables graded a vector."""
        if self._identity is None:
            import hashlib
            import json

            text = json.dumps(self.tables.raw, sort_keys=True, separators=(",", ":"))
            ident = hashlib.sha256(text.encode("utf-8")).hexdigest()
            self._identity = ident
            return ident
        return self._identity

    def __init__(self, tables: Tables):
        self.tables = t = tables
        self._identity = None
        self._crit_metrics: dict[str, tuple[str, ...]] = {
            c: tuple(m.key for m in t.metrics if m.criterion == c) for c in CRITERIA
        }
        self._parts: dict[str, dict[str, _Part]] = {}
        for c in CRITERIA:
            self._parts[c] = self._compile_part(c)
        n = len(t.levels)
        # Flat score table: index (EC*n + BP)*n + RI -> the tail of a Grade tuple.
        self._result: list[tuple[float, str, Grader]] = [(0.0, "None", self)] * (n * n * n)
        for e, b, r in product(range(n), repeat=3):
            s = t.score[e][b][r]
            self._result[(e * n + b) * n + r] = (s, t.severity_of(s), self)
        # Fast path: a canonical string is prefix + BP part + "/" + EC part (the head,
        # fixed length) then "/" + RI part (the tail). Both halves are looked up whole,
        # so a string that matches both is by construction a valid canonical vector.
        order = [m.criterion for m in t.metrics]
        self._split: int | None = None
        self._head: dict[str, int] = {}
        self._tail: dict[str, int] = {}
        if order == sorted(order, key=CRITERIA.index) and all(
            len(m.key) == 2 and all(len(x) == 1 for x in m.letters) for m in t.metrics
        ):
            lens = [len(self._crit_metrics[c]) * 5 - 1 for c in CRITERIA]
            self._split = len(t.prefix) + lens[0] + 1 + lens[1]
            self._head = {
                f"{t.prefix}{bk}/{ek}": bp.offset + ec.offset
                for bk, bp in self._parts["BP"].items()
                for ek, ec in self._parts["EC"].items()
            }
            self._tail = {f"/{rk}": ri.offset for rk, ri in self._parts["RI"].items()}

    def _compile_part(self, crit: str) -> dict[str, _Part]:
        t = self.tables
        keys = self._crit_metrics[crit]
        metrics = [t.metric(k) for k in keys]
        out: dict[str, _Part] = {}
        for letters in product(*[(*m.letters, NOT_ASSESSED) for m in metrics]):
            resolved = tuple(
                m.worst if v == NOT_ASSESSED else v for m, v in zip(metrics, letters, strict=True)
            )
            level, pts = t.criterion_level(crit, dict(zip(keys, resolved, strict=True)))
            mask = 0
            for i, conj in enumerate(t.systemic_any_of):
                ok = all(
                    resolved[keys.index(mk)] in vals for mk, vals in conj.items() if mk in keys
                )
                if ok:
                    mask |= 1 << i
            key = "/".join(f"{k}:{v}" for k, v in zip(keys, letters, strict=True))
            n = len(t.levels)
            offset = level * {"EC": n * n, "BP": n, "RI": 1}[crit]
            out[key] = _Part(
                key, tuple(letters), resolved, level, pts, NOT_ASSESSED in letters, mask, offset
            )
        return out

    # -- hot path ---------------------------------------------------------------
    def grade(self, v: str | Vector) -> Grade:
        """Grade one vector (a string is parsed strictly)."""
        if type(v) is not str:
            if isinstance(v, Vector):
                if v.tables is not self.tables and v.tables.prefix != self.tables.prefix:
                    raise VectorError(
                        f"vector is {v.tables.prefix!r}, grader is {self.tables.prefix!r}"
                    )
                v = v.canonical()
            elif isinstance(v, str):
                v = str(v)
        cut = self._split
        if cut is not None and type(v) is str:
            head = self._head.get(v[:cut])
            tail = self._tail.get(v[cut:])
            if head is not None and tail is not None:
                return _new_grade(Grade, (v, *self._result[head + tail]))
        # Not a canonical valid string: parse strictly (raises a precise error).
        s = parse_vector(v, self.tables).canonical()
        bp, ec, ri = self.parts_of(s)
        return _new_grade(Grade, (s, *self._result[bp.offset + ec.offset + ri.offset]))

    def grade_many(self, vectors: Iterable[str | Vector]) -> list[Grade]:
        """Grade many vectors; the first invalid one raises.

        The cyclic garbage collector is paused for the loop (and restored, if it
        was on): the loop allocates many tracked tuples but never a cycle, and
        collections triggered by those allocations would cost up to 40%.
        """
        cut = self._split
        if cut is None:
            return [self.grade(v) for v in vectors]
        # The fast path inlined: this loop is what the 1M vectors/s target measures.
        head_get = self._head.get
        tail_get = self._tail.get
        res = self._result
        new = _new_grade
        slow = self.grade
        out: list[Grade] = []
        append = out.append
        gc_was_on = gc.isenabled()
        gc.disable()
        try:
            for v in vectors:
                if type(v) is str:
                    head = head_get(v[:cut])
                    tail = tail_get(v[cut:])
                    if head is not None and tail is not None:
                        append(new(Grade, (v,) + res[head + tail]))
                        continue
                append(slow(v))
        finally:
            if gc_was_on:
                gc.enable()
        return out

    def parts_of(self, canonical: str) -> tuple[_Part, _Part, _Part]:
        """The three precomputed criterion parts of a canonical vector string."""
        body = canonical[len(self.tables.prefix) :].split("/")
        out = []
        i = 0
        for c in CRITERIA:
            n = len(self._crit_metrics[c])
            out.append(self._parts[c]["/".join(body[i : i + n])])
            i += n
        return out[0], out[1], out[2]

    # -- for people -------------------------------------------------------------
    def letters_of(self, grade: Grade) -> dict[str, str]:
        out: dict[str, str] = {}
        for c, part in zip(CRITERIA, grade._parts, strict=True):
            out.update(zip(self._crit_metrics[c], part.letters, strict=True))
        return out

    def criteria_of(self, grade: Grade) -> dict[str, dict[str, Any]]:
        t = self.tables
        return {
            c: {"level": p.level, "level_name": t.levels[p.level], "name": t.criteria[c].name}
            for c, p in zip(CRITERIA, grade._parts, strict=True)
        }

    def _rescore(self, letters: dict[str, str]) -> tuple[float, str]:
        t = self.tables
        s = "/".join(f"{m.key}:{letters[m.key]}" for m in t.metrics)
        g = self.grade(t.prefix + s)
        return g.score, g.severity

    def tipping_points(self, grade: Grade) -> list[dict[str, Any]]:
        """Single-metric changes that move the grade to another severity."""
        return tipping_points(self, grade)

    def nomenclature(self, grade: Grade) -> str | None:
        """``JBG-B``/``-BT``/``-BE``/``-BTE``: which groups were assessed (tables with groups)."""
        return nomenclature(self, grade)

    def decisive(self, grade: Grade) -> list[str]:
        """Metrics given as X whose assessment (any concrete value) could change the label."""
        return decisive(self, grade)

    def explanation(self, grade: Grade) -> dict[str, Any]:
        """How the grade follows from the vector, criterion by criterion."""
        return explanation(self, grade)


class Grade(tuple[str, float, str, Grader]):
    """The grade of one JBG vector.

    ``score`` (0.0-10.0) and ``severity`` (None/Low/Medium/High/Critical) come
    straight from the tables; ``provisional`` is true when any metric was ``X``
    (scored as its worst value); ``systemic`` follows the standard's rule.
    ``criteria``, ``explanation`` and ``tipping_points`` are computed on access.
    A tuple underneath so that grading a million vectors a second stays cheap.
    """

    __slots__ = ()

    @property
    def vector(self) -> str:
        """The canonical vector string."""
        return self[0]

    @property
    def score(self) -> float:
        return self[1]

    @property
    def severity(self) -> str:
        return self[2]

    @property
    def _parts(self) -> tuple[_Part, _Part, _Part]:
        return self[3].parts_of(self[0])

    @property
    def _grader(self) -> Grader:
        return self[3]

    @property
    def provisional(self) -> bool:
        return any(p.has_x for p in self._parts)

    @property
    def systemic(self) -> bool:
        bp, ec, ri = self._parts
        return (bp.sys_mask & ec.sys_mask & ri.sys_mask) != 0

    @property
    def version(self) -> str:
        return self[3].tables.version

    @property
    def parsed(self) -> Vector:
        return parse_vector(self.vector, self._grader.tables)

    @property
    def letters(self) -> dict[str, str]:
        """Metric key -> letter as given (``X`` kept)."""
        return self._grader.letters_of(self)

    @property
    def criteria(self) -> dict[str, dict[str, Any]]:
        return self._grader.criteria_of(self)

    @property
    def explanation(self) -> dict[str, Any]:
        return self._grader.explanation(self)

    @property
    def tipping_points(self) -> list[dict[str, Any]]:
        return self._grader.tipping_points(self)

    @property
    def nomenclature(self) -> str | None:
        """JBG 1.1+: ``JBG-B``, ``JBG-BT``, ``JBG-BE`` or ``JBG-BTE`` (groups assessed)."""
        return self._grader.nomenclature(self)

    @property
    def decisive(self) -> list[str]:
        """The X metrics whose assessment could change the label."""
        return self._grader.decisive(self)

    def to_dict(self) -> dict[str, Any]:
        """The published JSON form (see ``schemas/grade.schema.json``).

        JBG 1.1 grades add ``nomenclature`` and ``decisive``; 1.0 grades keep exactly
        the 1.0 keys.
        """
        out = {
            "vector": self.vector,
            "version": self.version,
            "score": self.score,
            "severity": self.severity,
            "criteria": self.criteria,
            "provisional": self.provisional,
            "systemic": self.systemic,
            "explanation": self.explanation,
            "tipping_points": self.tipping_points,
        }
        nom = self.nomenclature
        if nom is not None:
            out["nomenclature"] = nom
            out["decisive"] = self.decisive
        return out

    def __repr__(self) -> str:
        return f"Grade({self.vector!r}, score={self.score}, severity={self.severity!r})"

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # Pickle the vector and (unless they are the shipped ones) the tables'
        # data, not the compiled grader with its lookup dicts.
        g = self[3]
        if _SHIPPED.get(g.tables.version) is g:
            return (_regrade, (self[0], None, None))
        return (_regrade, (self[0], g.tables.raw, g.tables.source))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Grade):
            # Equal only under the same tables: a vector graded under draft tables
            # is not the same grade as under the shipped ones.
            return self[0] == other[0] and (
                self[3] is other[3] or self[3].identity == other[3].identity
            )
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    def __hash__(self) -> int:
        return hash((self.vector, self.version))


_new_grade = tuple.__new__

_SHIPPED: dict[str, Grader] = {}


def _regrade(vector: str, raw: dict[str, Any] | None, source: str | None) -> Grade:
    """Unpickle a :class:`Grade` by grading its vector again."""
    if raw is None:
        return grade(vector)
    return Grader(tables_from_data(raw, source or "<pickled tables>")).grade(vector)


def grader_for(version: str) -> Grader:
    """The grader for the shipped tables of one version (compiled once)."""
    g = _SHIPPED.get(version)
    if g is None:
        g = _SHIPPED[version] = Grader(tables_for(version))
    return g


def default_grader() -> Grader:
    """The grader for the shipped JBG 1.0 tables (compiled once)."""
    return grader_for("1.0")


def latest_grader() -> Grader:
    """The grader for the newest shipped version (JBG 1.1)."""
    return grader_for(LATEST_VERSION)


def _grader_of(v: object) -> Grader:
    if isinstance(v, Vector):
        t = v.tables
        if t.version in VERSIONS and t is tables_for(t.version):
            return grader_for(t.version)
        return Grader(t)
    if type(v) is str and v[:4] == "JBG:":
        ver = v[4:].partition("/")[0]
        if ver in VERSIONS:
            return grader_for(ver)
    return default_grader()


def grade(vector: str | Vector) -> Grade:
    """Grade one JBG vector (string or :class:`Vector`) with the shipped tables of
    the version its prefix names (``JBG:1.0/`` or ``JBG:1.1/``)."""
    return _grader_of(vector).grade(vector)


def grade_many(vectors: Iterable[str | Vector]) -> list[Grade]:
    """Grade many vectors, each with the shipped tables of the version it names.

    The fast path is inlined: the prefix's minor digit picks that version's compiled
    head and tail dictionaries (a head includes the whole prefix, so a string that
    matches both is a valid canonical vector of that version); anything that misses
    them is graded (or rejected, with the precise error) one by one.
    """
    fast = {}
    for ver in VERSIONS:
        g = grader_for(ver)
        if g._split is not None and len(g.tables.prefix) == 8:
            fast[g.tables.prefix] = (g._split, g._head.get, g._tail.get, g._result)
    # One character tells the shipped versions apart (JBG:1.0/ vs JBG:1.1/): index 6.
    by_char = {p[6]: f for p, f in fast.items() if p[:6] == "JBG:1."}
    base = fast["JBG:1.0/"]
    pick = by_char.get
    new = _new_grade
    slow = grade
    out: list[Grade] = []
    append = out.append
    gc_was_on = gc.isenabled()
    gc.disable()
    try:
        for v in vectors:
            if type(v) is str:
                cut, head_get, tail_get, res = pick(v[6:7], base)
                head = head_get(v[:cut])
                tail = tail_get(v[cut:])
                if head is not None and tail is not None:
                    append(new(Grade, (v,) + res[head + tail]))
                    continue
            append(slow(v))
    finally:
        if gc_was_on:
            gc.enable()
    return out
