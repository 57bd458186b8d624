"""The JBG scoring tables: loaded from versioned JSON data, checked for shape.

The tables are the standard. Code never hard-codes a weight, band or score:
it compiles whatever table file it is given, which is how ``rubric check``
can validate a deliberately broken copy with the same machinery.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from itertools import product
from pathlib import Path
from typing import Any

from jbgrade._errors import InputError, RubricTableError
from jbgrade._vocab import SEVERITIES

__all__ = [
    "CRITERIA",
    "LATEST_VERSION",
    "SEVERITIES",
    "VERSIONS",
    "Anchor",
    "Criterion",
    "Metric",
    "Tables",
    "default_tables",
    "latest_tables",
    "load_tables",
    "tables_for",
    "tables_from_data",
]

CRITERIA = ("BP", "EC", "RI")
#: The versions of the standard whose tables this package ships, oldest first.
VERSIONS = ("1.0", "1.1")
#: The version for new work (vectors, case files, calculators).
LATEST_VERSION = "1.1"


@dataclass(frozen=True, slots=True)
class Metric:
    """One metric: key, owning criterion, name, value letters lowest first."""

    key: str
    criterion: str
    name: str
    letters: tuple[str, ...]
    meanings: tuple[str, ...]

    @property
    def worst(self) -> str:
        return self.letters[-1]


@dataclass(frozen=True, slots=True)
class Criterion:
    """How one criterion's metrics map to a level (0..len(levels)-1)."""

    key: str
    name: str
    method: str  # "points" or "lookup"
    metrics: tuple[str, ...]
    points: dict[str, dict[str, int]]  # method == "points"
    bands: tuple[tuple[int, int, int], ...]  # (min, max, level), method == "points"
    table: dict[str, int]  # method == "lookup": "V1/V2/V3" -> level


@dataclass(frozen=True, slots=True)
class Anchor:
    """A policy statement the tables must satisfy, checked exhaustively."""

    id: str
    when: dict[str, tuple[str | bool, ...]]
    max_severity: str | None
    min_severity: str | None
    statement: str


@dataclass(frozen=True, slots=True)
class Tables:
    """A complete, shape-checked set of JBG tables."""

    standard: str
    version: str
    table_revision: int
    prefix: str
    metrics: tuple[Metric, ...]
    criteria: dict[str, Criterion]
    levels: tuple[str, ...]
    score: tuple[tuple[tuple[float, ...], ...], ...]  # [EC][BP][RI]
    severity_bands: tuple[tuple[str, float, float], ...]
    systemic_any_of: tuple[dict[str, frozenset[str]], ...]
    anchors: tuple[Anchor, ...]
    source: str
    raw: dict[str, Any]
    #: Per canonical position, each valid part ("LY:F", "LY:X") -> its letter;
    #: lets the parser accept a canonical vector with one dict lookup per part.
    part_letters: tuple[dict[str, str], ...] = field(default=(), repr=False, compare=False)

    def metric(self, key: str) -> Metric:
        for m in self.metrics:
            if m.key == key:
                return m
        raise KeyError(key)

    def severity_of(self, score: float) -> str:
        for label, lo, hi in self.severity_bands:
            if lo <= score <= hi:
                return label
        raise RubricTableError(f"{self.source}: score {score} falls in no severity band")

    def criterion_level(self, crit: str, letters: dict[str, str]) -> tuple[int, int | None]:
        """Level (and points, for points-based criteria) for concrete letters."""
        c = self.criteria[crit]
        if c.method == "lookup":
            return c.table["/".join(letters[k] for k in c.metrics)], None
        pts = sum(c.points[k][letters[k]] for k in c.metrics)
        for lo, hi, level in c.bands:
            if lo <= pts <= hi:
                return level, pts
        raise RubricTableError(f"{self.source}: {crit} points {pts} fall in no band")


def _fail(source: str, where: str, msg: str) -> RubricTableError:
    return RubricTableError(f"{source}: {where}: {msg}")


def _build(raw: dict[str, Any], source: str) -> Tables:
    try:
        metrics = tuple(
            Metric(
                key=m["key"],
                criterion=m["criterion"],
                name=m["name"],
                letters=tuple(v["letter"] for v in m["values"]),
                meanings=tuple(v["meaning"] for v in m["values"]),
            )
            for m in raw["metrics"]
        )
        levels = tuple(raw["levels"])
        criteria: dict[str, Criterion] = {}
        for key in CRITERIA:
            c = raw["criteria"][key]
            owned = tuple(m.key for m in metrics if m.criterion == key)
            if c["method"] == "points":
                points = {k: {str(a): int(b) for a, b in v.items()} for k, v in c["points"].items()}
                bands = tuple((int(b["min"]), int(b["max"]), int(b["level"])) for b in c["bands"])
                criteria[key] = Criterion(key, c["name"], "points", owned, points, bands, {})
            elif c["method"] == "lookup":
                if tuple(c["keys"]) != owned:
                    raise _fail(source, f"criteria.{key}.keys", f"must be {list(owned)}")
                table = {str(k): int(v) for k, v in c["table"].items()}
                criteria[key] = Criterion(key, c["name"], "lookup", owned, {}, (), table)
            else:
                raise _fail(source, f"criteria.{key}.method", f"unknown method {c['method']!r}")
        score = tuple(
            tuple(tuple(float(x) for x in row) for row in plane) for plane in raw["score"]["table"]
        )
        bands_sev = tuple(
            (str(b["label"]), float(b["min"]), float(b["max"])) for b in raw["severity_bands"]
        )
        systemic = tuple(
            {k: frozenset(v) for k, v in conj.items()} for conj in raw["systemic"]["any_of"]
        )
        anchors = tuple(
            Anchor(
                id=a["id"],
                when={k: tuple(v) for k, v in a["when"].items()},
                max_severity=a.get("max_severity"),
                min_severity=a.get("min_severity"),
                statement=a["statement"],
            )
            for a in raw.get("anchors", [])
        )
        t = Tables(
            standard=raw["standard"],
            version=raw["version"],
            table_revision=int(raw["table_revision"]),
            prefix=raw["prefix"],
            metrics=metrics,
            criteria=criteria,
            levels=levels,
            score=score,
            severity_bands=bands_sev,
            systemic_any_of=systemic,
            anchors=anchors,
            source=source,
            raw=raw,
            part_letters=tuple({f"{m.key}:{x}": x for x in (*m.letters, "X")} for m in metrics),
        )
    except RubricTableError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise _fail(source, "structure", f"missing or malformed entry ({exc!r})") from exc
    _check_shape(t)
    return t


def _check_shape(t: Tables) -> None:
    """Shape checks that must hold before anything can be computed."""
    src = t.source
    if t.prefix != f"{t.standard}:{t.version}/":
        raise _fail(src, "prefix", f"{t.prefix!r} does not match standard and version")
    keys = [m.key for m in t.metrics]
    if len(set(keys)) != len(keys):
        raise _fail(src, "metrics", "duplicate metric key")
    n = len(t.levels)
    if n < 2 or len(set(t.levels)) != n:
        raise _fail(src, "levels", "needs 2+ distinct level names")
    ids = [a.id for a in t.anchors]
    if len(set(ids)) != len(ids):
        raise _fail(src, "anchors", "duplicate anchor id")
    for m in t.metrics:
        if m.criterion not in CRITERIA:
            raise _fail(src, f"metrics.{m.key}", f"unknown criterion {m.criterion!r}")
        if len(m.letters) < 2 or len(set(m.letters)) != len(m.letters) or "X" in m.letters:
            raise _fail(src, f"metrics.{m.key}", "needs 2+ distinct value letters, none 'X'")
    for key, c in t.criteria.items():
        _check_criterion(t, key, c, n)
    if len(t.score) != n or any(len(p) != n or any(len(r) != n for r in p) for p in t.score):
        raise _fail(src, "score.table", f"must be {n}x{n}x{n} (EC, BP, RI)")
    for plane in t.score:
        for cells in plane:
            for sc in cells:
                if not 0.0 <= sc <= 10.0 or round(sc, 1) != sc:
                    raise _fail(src, "score.table", f"score {sc} not in 0.0..10.0 with one decimal")
    if tuple(b[0] for b in t.severity_bands) != SEVERITIES:
        raise _fail(src, "severity_bands", f"labels must be {list(SEVERITIES)}")
    # Bands tile 0.0..10.0 at one-decimal resolution: every score has exactly one label.
    edge: float = 0.0
    for label, s_lo, s_hi in t.severity_bands:
        if round(s_lo - edge, 1) != 0.0 or s_hi < s_lo:
            raise _fail(src, "severity_bands", f"{label} must start at {edge:.1f}")
        edge = round(s_hi + 0.1, 1)
    if edge != 10.1:
        raise _fail(src, "severity_bands", "the last band must end at 10.0")
    for conj in t.systemic_any_of:
        for mk, vals in conj.items():
            if mk not in keys or not vals <= set(t.metric(mk).letters):
                raise _fail(src, "systemic", f"bad condition {mk}: {sorted(vals)}")
    for a in t.anchors:
        for mk, when in a.when.items():
            if mk == "systemic":
                continue
            if mk not in keys or not set(when) <= set(t.metric(mk).letters):
                raise _fail(src, f"anchors.{a.id}", f"bad condition {mk}: {list(when)}")
        for sev in (a.max_severity, a.min_severity):
            if sev is not None and sev not in SEVERITIES:
                raise _fail(src, f"anchors.{a.id}", f"unknown severity {sev!r}")


def _check_criterion(t: Tables, key: str, c: Criterion, n: int) -> None:
    """Shape checks of one criterion: its points and bands, or its lookup table."""
    src = t.source
    if c.method == "points":
        for mk in c.metrics:
            if set(c.points.get(mk, {})) != set(t.metric(mk).letters):
                raise _fail(src, f"criteria.{key}.points.{mk}", "must give every value")
            if min(c.points[mk].values()) < 0:
                raise _fail(src, f"criteria.{key}.points.{mk}", "points must be >= 0")
        if set(c.points) != set(c.metrics):
            raise _fail(src, f"criteria.{key}.points", f"must cover exactly {list(c.metrics)}")
        top = sum(max(c.points[mk].values()) for mk in c.metrics)
        covered = sorted((lo, hi) for lo, hi, _ in c.bands)
        expect = 0
        for lo, hi in covered:
            if lo != expect or hi < lo:
                raise _fail(src, f"criteria.{key}.bands", f"gap or overlap at {expect}")
            expect = hi + 1
        if expect <= top:
            raise _fail(src, f"criteria.{key}.bands", f"points up to {top} not covered")
        for _, _, lvl in c.bands:
            if not 0 <= lvl < n:
                raise _fail(src, f"criteria.{key}.bands", f"level {lvl} out of range")
    else:
        letters = [t.metric(mk).letters for mk in c.metrics]
        want = {"/".join(p) for p in product(*letters)}
        have = set(c.table)
        if want - have:
            raise _fail(src, f"criteria.{key}.table", f"missing row {sorted(want - have)[0]}")
        if have - want:
            raise _fail(src, f"criteria.{key}.table", f"unknown row {sorted(have - want)[0]}")
        for row, lvl in c.table.items():
            if not 0 <= lvl < n:
                raise _fail(src, f"criteria.{key}.table.{row}", f"level {lvl} out of range")


def tables_from_data(raw: dict[str, Any], source: str = "<data>") -> Tables:
    """Build and shape-check tables from already-parsed JSON data."""
    if not isinstance(raw, dict):
        raise RubricTableError(f"{source}: top level must be an object")
    return _build(raw, source)


def load_tables(path: str | Path) -> Tables:
    """Load and shape-check a tables file (JSON).

    Raises :class:`~jbgrade.InputError` when the file does not exist and
    :class:`~jbgrade.RubricTableError` when it is not a well-formed table set.
    """
    p = Path(path)
    try:
        raw = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        # Not a broken table: a wrong path, so bad input (exit 2 in the CLI).
        raise InputError("no such file", path=str(p)) from exc
    except UnicodeDecodeError as exc:
        raise RubricTableError(f"{p}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except json.JSONDecodeError as exc:
        raise RubricTableError(f"{p}:{exc.lineno}: invalid JSON: {exc.msg}") from exc
    if not isinstance(raw, dict):
        raise RubricTableError(f"{p}: top level must be an object")
    return _build(raw, str(p))


_SHIPPED: dict[str, Tables] = {}


def tables_for(version: str) -> Tables:
    """The shipped tables of one version of the standard (``"1.0"``, ``"1.1"``), loaded once.

    Raises :class:`~jbgrade.InputError` for a version this package does not ship.
    """
    hit = _SHIPPED.get(version)
    if hit is None:
        if version not in VERSIONS:
            raise InputError(
                f"unknown JBG version {version!r} (this implementation has {', '.join(VERSIONS)})",
                field="version",
            )
        name = f"data/jbg-{version}.json"
        text = resources.files("jbgrade.rubric").joinpath(name).read_text("utf-8")
        hit = _SHIPPED[version] = _build(json.loads(text), f"jbgrade/rubric/{name}")
    return hit


def default_tables() -> Tables:
    """The tables of JBG 1.0 shipped with the package (loaded once).

    Kept as the library default so that code written against 1.0 keeps its meaning;
    new work uses :func:`latest_tables` (JBG 1.1) or :func:`tables_for`.
    """
    return tables_for("1.0")


def latest_tables() -> Tables:
    """The tables of the newest shipped version (:data:`LATEST_VERSION`)."""
    return tables_for(LATEST_VERSION)
