"""Compiling a profile to bitmask predicates over the fixed JBG grade space.

A vector is three *parts* (its BP, EC and RI metrics). Every atom on a metric
or a criterion level depends on one part only, every severity or score atom on
the cell ``[EC][BP][RI]`` of levels, ``systemic`` on the three parts' systemic
masks. So each part (X variants included, with X resolved to the worst
letter), each cell and each flag gets an integer whose bit ``i`` says "rule i
is not ruled out by this input"; a grade's mask is the AND of five lookups.
Context is compiled the same way per declared field (cached per distinct
context). ``fired = grade_mask & context_mask`` and the outcome (max action,
union of obligations) is memoised per fired mask.

The grade space is finite and fixed (139,968 concrete vectors for JBG 1.0),
so the checker can enumerate it through the same compiled parts.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import product
from typing import Any, NamedTuple

from jbgrade._errors import PolicyError
from jbgrade.policy._spec import ACTIONS, Atom, ContextField, ProfileSpec
from jbgrade.rubric import CRITERIA, NOT_ASSESSED, SEVERITIES, Grade, Tables

__all__ = ["Compiled", "CtxEval", "Outcome", "PartInfo", "Space", "space_for"]


class PartInfo(NamedTuple):
    """One criterion's share of a vector (letters as given and resolved)."""

    crit: str
    key: str  # "LY:F/UN:U/RL:H/TR:M"
    letters: tuple[str, ...]
    resolved: tuple[str, ...]
    level: int
    sys: int  # systemic clause bits satisfied by this part
    has_x: bool
    any_worst: bool  # some letter is its metric's worst (so an X could stand there)


class Space:
    """The JBG grade space of one table set, precomputed."""

    def __init__(self, tables: Tables):
        self.tables = t = tables
        self.n = len(t.levels)
        self.crit_metrics = {c: tuple(m for m in t.metrics if m.criterion == c) for c in CRITERIA}
        self.metric_crit = {
            m.key: (m.criterion, i) for c in CRITERIA for i, m in enumerate(self.crit_metrics[c])
        }
        self.parts: dict[str, dict[str, PartInfo]] = {}
        self.concrete: dict[str, tuple[PartInfo, ...]] = {}
        for c in CRITERIA:
            ms = self.crit_metrics[c]
            keys = [m.key for m in ms]
            table: dict[str, PartInfo] = {}
            conc: list[PartInfo] = []
            for letters in product(*[(*m.letters, NOT_ASSESSED) for m in ms]):
                resolved = tuple(
                    m.worst if v == NOT_ASSESSED else v for m, v in zip(ms, letters, strict=True)
                )
                level, _ = t.criterion_level(c, dict(zip(keys, resolved, strict=True)))
                mask = 0
                for i, conj in enumerate(t.systemic_any_of):
                    if all(
                        resolved[keys.index(k)] in vals for k, vals in conj.items() if k in keys
                    ):
                        mask |= 1 << i
                key = "/".join(f"{k}:{v}" for k, v in zip(keys, letters, strict=True))
                has_x = NOT_ASSESSED in letters
                info = PartInfo(
                    c,
                    key,
                    tuple(letters),
                    resolved,
                    level,
                    mask,
                    has_x,
                    any(v == m.worst for m, v in zip(ms, resolved, strict=True)),
                )
                table[key] = info
                if not has_x:
                    conc.append(info)
            self.parts[c] = table
            self.concrete[c] = tuple(conc)
        n = self.n
        self.score = [t.score[e][b][r] for e in range(n) for b in range(n) for r in range(n)]
        self.sev = [SEVERITIES.index(t.severity_of(s)) for s in self.score]
        self.total = math.prod(len(self.concrete[c]) for c in CRITERIA)
        # Fixed layout of canonical strings ("KK:V/" per metric): slice instead of split.
        self._slices: tuple[tuple[int, int], ...] | None = None
        if all(len(m.key) == 2 and all(len(x) == 1 for x in m.letters) for m in t.metrics):
            p, sl = len(t.prefix), []
            for c in CRITERIA:
                w = len(self.crit_metrics[c]) * 5 - 1
                sl.append((p, p + w))
                p += w + 1
            self._slices = tuple(sl)
        self._neigh: dict[tuple[str, str], tuple[tuple[str, str, str, str, int], ...]] = {}

    def cell(self, bp: PartInfo, ec: PartInfo, ri: PartInfo) -> int:
        """Flat index of the score-table cell ``[EC][BP][RI]``."""
        n = self.n
        return (ec.level * n + bp.level) * n + ri.level

    def parts_of(self, vector: str) -> tuple[PartInfo, PartInfo, PartInfo]:
        """The three parts of a canonical vector string."""
        s = self._slices
        if s is not None:
            try:
                return (
                    self.parts["BP"][vector[s[0][0] : s[0][1]]],
                    self.parts["EC"][vector[s[1][0] : s[1][1]]],
                    self.parts["RI"][vector[s[2][0] : s[2][1]]],
                )
            except KeyError:
                pass
        body = vector[len(self.tables.prefix) :].split("/")
        out = []
        i = 0
        for c in CRITERIA:
            k = len(self.crit_metrics[c])
            out.append(self.parts[c]["/".join(body[i : i + k])])
            i += k
        return out[0], out[1], out[2]

    def vector(self, bp: PartInfo, ec: PartInfo, ri: PartInfo) -> str:
        return f"{self.tables.prefix}{bp.key}/{ec.key}/{ri.key}"

    def systemic(self, bp: PartInfo, ec: PartInfo, ri: PartInfo) -> bool:
        return (bp.sys & ec.sys & ri.sys) != 0

    def neighbours(self, part: PartInfo) -> tuple[tuple[str, str, str, str, int], ...]:
        """Single-metric changes of a part, concrete ``to`` only:
        (metric, from, to, new part key, steps in the metric's order; X counts as worst)."""
        k = (part.crit, part.key)
        got = self._neigh.get(k)
        if got is None:
            out = []
            ms = self.crit_metrics[part.crit]
            for i, m in enumerate(ms):
                for alt in m.letters:
                    if alt == part.letters[i]:
                        continue
                    letters = list(part.letters)
                    letters[i] = alt
                    key = "/".join(f"{mm.key}:{v}" for mm, v in zip(ms, letters, strict=True))
                    dist = abs(m.letters.index(alt) - m.letters.index(part.resolved[i]))
                    out.append((m.key, part.letters[i], alt, key, dist))
            got = self._neigh[k] = tuple(out)
        return got


_SPACES: dict[int, Space] = {}


def space_for(tables: Tables) -> Space:
    """The (memoised, by identity) grade space of a table set."""
    sp = _SPACES.get(id(tables))
    if sp is None or sp.tables is not tables:
        sp = _SPACES[id(tables)] = Space(tables)
    return sp


class Outcome(NamedTuple):
    """What a set of fired rules decides: the compact core of a decision."""

    action: str
    rank: int
    obligations: tuple[str, ...]  # catalogue order
    rules: tuple[str, ...]  # profile order


@dataclass(frozen=True, slots=True)
class CtxEval:
    """A context resolved against a profile."""

    mask: int  # rules not ruled out by context; 0 when the profile does not apply
    applicable: bool
    gate: int | None  # index of the first applicability set that holds
    values: dict[str, Any]  # field -> value used
    assumed: tuple[str, ...]  # fields filled from the precautionary default
    ignored: tuple[str, ...]  # given keys the profile does not declare
    # Explanation parts that depend on this context, memoised by the decide module
    # (lives and dies with this object, so keys need not name the context).
    memo: dict[Any, Any] = dataclasses.field(default_factory=dict, compare=False, repr=False)


def _field_value(f: ContextField, raw: Any) -> Any:
    if f.type == "number":
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            try:
                v = float(str(raw))
            except ValueError:
                raise PolicyError(
                    f"must be a number, got {raw!r}", field=f"context.{f.name}"
                ) from None
        else:
            v = float(raw)
        if not math.isfinite(v) or (f.minimum is not None and v < f.minimum):
            raise PolicyError(f"{raw!r} is out of range", field=f"context.{f.name}")
        return v
    if raw not in f.values:
        raise PolicyError(f"{raw!r} is not one of {', '.join(f.values)}", field=f"context.{f.name}")
    return raw


class Compiled:
    """A profile compiled to masks. Built once per profile, then read-only
    except for the memo tables (outcomes per fired mask, contexts)."""

    def __init__(self, profile: ProfileSpec):
        self.profile: ProfileSpec = profile
        p = profile
        self.space = sp = space_for(p.tables)
        rules = p.rules
        self.nrules = len(rules)
        self.all = (1 << len(rules)) - 1
        self.rank = [r.rank for r in rules]
        self.bit = {r.id: 1 << r.index for r in rules}
        full = self.all
        # Parts.
        self.part_mask: dict[str, dict[str, int]] = {}
        for c in CRITERIA:
            names = {m.key for m in sp.crit_metrics[c]}
            checks: list[tuple[int, Atom, int | None]] = []  # bit, atom, metric pos | None
            for r in rules:
                for a in r.atoms:
                    if a.kind == "metric" and a.on in names:
                        checks.append((1 << r.index, a, sp.metric_crit[a.on][1]))
                    elif a.kind == "criterion" and a.on == c:
                        checks.append((1 << r.index, a, None))
            pm: dict[str, int] = {}
            for key, info in sp.parts[c].items():
                m = full
                for bit, a, pos in checks:
                    val = info.level if pos is None else info.resolved[pos]
                    if not a.holds(val):
                        m &= ~bit
                pm[key] = m
            self.part_mask[c] = pm
        # Cells (severity, score).
        cell_checks = [
            (1 << r.index, a) for r in rules for a in r.atoms if a.kind in ("severity", "score")
        ]
        self.cell_mask: list[int] = []
        for i, s in enumerate(sp.score):
            m = full
            for bit, a in cell_checks:
                v: Any = SEVERITIES[sp.sev[i]] if a.kind == "severity" else s
                if not a.holds(v):
                    m &= ~bit
            self.cell_mask.append(m)
        # Flags.
        self.sys_keep = {True: full, False: full}
        self.prov_keep = {True: full, False: full}
        for r in rules:
            for a in r.atoms:
                if a.kind == "flag":
                    keep = self.sys_keep if a.on == "systemic" else self.prov_keep
                    for flag in (True, False):
                        if not a.holds(flag):
                            keep[flag] &= ~(1 << r.index)
        # Context.
        self.ctx_atoms: dict[str, list[tuple[int, Atom]]] = {f: [] for f in p.context}
        for r in rules:
            for a in r.atoms:
                f = a.context_field
                if f is not None:
                    self.ctx_atoms[f].append((1 << r.index, a))
        self._ctx_cache: dict[Any, CtxEval] = {}
        self._outcomes: dict[int, Outcome] = {}
        # The decide module's memo (concrete obligations per fired mask and dates, ...).
        self.memo: dict[Any, Any] = {}
        self._ob_order = {oid: i for i, oid in enumerate(p.obligations)}

    # -- grade side -----------------------------------------------------------
    def grade_mask(self, bp: PartInfo, ec: PartInfo, ri: PartInfo, provisional: bool) -> int:
        pm = self.part_mask
        return (
            pm["BP"][bp.key]
            & pm["EC"][ec.key]
            & pm["RI"][ri.key]
            & self.cell_mask[self.space.cell(bp, ec, ri)]
            & self.sys_keep[(bp.sys & ec.sys & ri.sys) != 0]
            & self.prov_keep[provisional]
        )

    # -- context side ---------------------------------------------------------
    def context_value_mask(self, field: str, value: Any) -> int:
        m = self.all
        for bit, a in self.ctx_atoms[field]:
            if not a.holds(value):
                m &= ~bit
        return m

    def ctx_relevant(self, field: str) -> bool:
        """Whether any rule or gate tests ``field``."""
        return bool(self.ctx_atoms[field]) or any(
            a.on == f"context.{field}" for g in self.profile.gates for a in g
        )

    def gate_holds(self, values: Mapping[str, Any]) -> int | None:
        gates = self.profile.gates
        if not gates:
            return -1
        for i, atoms in enumerate(gates):
            if all(a.holds(values[a.on[8:]]) for a in atoms):
                return i
        return None

    def eval_values(self, values: Mapping[str, Any]) -> tuple[int, int | None]:
        """(mask, gate) for complete, resolved context values."""
        gate = self.gate_holds(values)
        if gate is None:
            return 0, None
        m = self.all
        for f in self.ctx_atoms:
            if self.ctx_atoms[f]:
                m &= self.context_value_mask(f, values[f])
        return m, gate

    def context(self, ctx: Mapping[str, object] | None) -> CtxEval:
        """Resolve a context: validate, fill precautionary defaults, mask."""
        try:
            # Items in the caller's order: a dict built the same way hits without sorting.
            key: Any = tuple(ctx.items()) if ctx else ()
            hit = self._ctx_cache.get(key)
        except TypeError:  # unhashable values: evaluate without the cache
            key, hit = None, None
        if hit is not None:
            return hit
        given = dict(ctx or {})
        values: dict[str, Any] = {}
        assumed: list[str] = []
        for name, f in self.profile.context.items():
            raw = given.get(name)
            if raw is None:
                values[name] = f.default
                assumed.append(name)
            else:
                values[name] = _field_value(f, raw)
        mask, gate = self.eval_values(values)
        ev = CtxEval(
            mask=mask,
            applicable=gate is not None,
            gate=None if gate is None or gate < 0 else gate,
            values=values,
            assumed=tuple(assumed),
            ignored=tuple(sorted(k for k in given if k not in self.profile.context)),
        )
        if key is not None and len(self._ctx_cache) < 4096:
            self._ctx_cache[key] = ev
        return ev

    # -- outcome --------------------------------------------------------------
    def outcome(self, fired: int) -> Outcome:
        got = self._outcomes.get(fired)
        if got is None:
            got = self._outcomes[fired] = self._combine(fired)
        return got

    def _combine(self, fired: int) -> Outcome:
        rules = [r for r in self.profile.rules if fired >> r.index & 1]
        rank = max((r.rank for r in rules), default=0)
        obs = {o for r in rules for o in r.obligations}
        return Outcome(
            ACTIONS[rank],
            rank,
            tuple(sorted(obs, key=self._ob_order.__getitem__)),
            tuple(r.id for r in rules),
        )

    def evaluate(self, grade: Grade | str, context: Mapping[str, object] | None = None) -> Outcome:
        """The compiled hot path: action, obligation ids and rule ids only.

        ``grade`` must be a :class:`~jbgrade.Grade` or a canonical vector string
        already known to be valid (use :func:`jbgrade.decide` for untrusted input).
        """
        v = grade.vector if isinstance(grade, Grade) else grade
        bp, ec, ri = self.space.parts_of(v)
        ce = self.context(context)
        fired = ce.mask & self.grade_mask(bp, ec, ri, bp.has_x or ec.has_x or ri.has_x)
        if not ce.applicable:
            return _NOT_APPLICABLE
        if not fired:
            raise PolicyError(
                f"profile {self.profile.id}: no rule covers {v} in this context "
                "(a coverage gap: run 'jbgrade policy check')",
                path=self.profile.source,
            )
        return self.outcome(fired)


_NOT_APPLICABLE = Outcome("none", 0, (), ())
