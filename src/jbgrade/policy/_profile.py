"""Loading policy profiles: schema, semantic validation, bundle hash, registry.

A profile is YAML validated against ``data/policy-profile.schema.json`` and
then against the JBG tables (metric keys and letters, criterion levels,
severities) and itself (declared context fields, obligation and rule
references). Every error names ``file:line``.

Bundle hash
-----------
``bundle_sha256`` is :func:`jbgrade.records.canonical_sha256` - the SHA-256 of
the RFC 8785 canonical JSON, like every other hash jbgrade stores - of::

    {"bundle": "jbgrade-policy-bundle/2", "engine": ENGINE_VERSION,
     "profile": <the profile document as parsed>,
     "rubric": {"prefix": "JBG:1.0/", "table_revision": 1,
                "tables_sha256": <canonical_sha256 of the rubric tables>}}

Dates are ISO strings. Comments, key order and layout of the YAML do not
change it; any change of a value, of the scoring tables or of the engine's
semantics does. The same grade, context, dates and bundle hash always give the
same decision.

Bundle format 1 (before this change) hashed the same object with
``"bundle": "jbgrade-policy-bundle/1"`` serialised by :func:`canonical_json`
(Python's ``json.dumps`` with sorted keys, compact separators, no ASCII
escaping), tables hash likewise. A profile still knows that hash
(``legacy_bundle_sha256``, :meth:`Profile.has_bundle`), so decisions recorded
under format 1 replay and verify; recomputed decisions carry the format 2 hash.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
import os
from collections.abc import Callable, Mapping
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

import jsonschema
from pydantic import BaseModel, ConfigDict, Field

from jbgrade._errors import PolicyError, UnknownProfileError
from jbgrade._plugins import PluginRegistry
from jbgrade._yaml import MAX_YAML_BYTES, LocatedDoc, Path_, dotted, load_located, read_text_limited
from jbgrade.policy._compile import Compiled, Outcome
from jbgrade.policy._spec import (
    Atom,
    Citation,
    ContextField,
    ObligationSpec,
    RuleSpec,
)
from jbgrade.records import canonical_sha256
from jbgrade.rubric import (
    CRITERIA,
    SEVERITIES,
    VERSIONS,
    Grade,
    Tables,
    default_tables,
    tables_for,
)

__all__ = [
    "ENGINE_VERSION",
    "ENTRY_POINT_GROUP",
    "PROFILES",
    "Domain",
    "Profile",
    "ProfileFactory",
    "ProfileOptions",
    "canonical_json",
    "list_profiles",
    "load_all_profiles",
    "load_profile",
    "parse_profile",
    "profile_edition",
    "profile_schema",
]

#: Version of the evaluation semantics; part of every bundle hash.
ENGINE_VERSION = 1


def canonical_json(obj: Any) -> str:
    """Bundle format 1's serialisation (sorted keys, compact; not RFC 8785).

    Kept to recompute format 1 bundle hashes and for stored column values; new
    hashes use :func:`jbgrade.records.canonical_sha256`.
    """
    return json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def _sha(obj: Any) -> str:
    return hashlib.sha256(canonical_json(obj).encode("utf-8")).hexdigest()


@cache
def profile_schema() -> dict[str, Any]:
    """The published JSON Schema of policy profiles."""
    text = resources.files("jbgrade.policy").joinpath("data/policy-profile.schema.json")
    data: dict[str, Any] = json.loads(text.read_text("utf-8"))
    return data


@cache
def _validator() -> Any:
    schema = profile_schema()
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


_TABLES_SHA: dict[int, tuple[Tables, str]] = {}


def _tables_sha(tables: Tables) -> str:
    # Tables hold dicts (unhashable): memoise by identity, keeping the object alive.
    hit = _TABLES_SHA.get(id(tables))
    if hit is None or hit[0] is not tables:
        hit = _TABLES_SHA[id(tables)] = (tables, canonical_sha256(tables.raw))
    return hit[1]


_TABLES_SHA_V1: dict[int, tuple[Tables, str]] = {}


def _tables_sha_v1(tables: Tables) -> str:
    hit = _TABLES_SHA_V1.get(id(tables))
    if hit is None or hit[0] is not tables:
        hit = _TABLES_SHA_V1[id(tables)] = (tables, _sha(tables.raw))
    return hit[1]


class Domain:
    """A hazard domain (an HD letter) and the rules of its tiers."""

    __slots__ = ("letter", "line", "name", "tiers", "unacceptable")

    def __init__(
        self, letter: str, name: str, unacceptable: str, tiers: dict[str, str], line: int | None
    ):
        self.letter = letter
        self.name = name
        self.unacceptable = unacceptable
        self.tiers = tiers
        self.line = line


class Profile:
    """A loaded, validated policy profile (immutable; compiled on first use)."""

    def __init__(
        self,
        *,
        located: LocatedDoc,
        tables: Tables,
        context: dict[str, ContextField],
        gates: tuple[tuple[Atom, ...], ...],
        obligations: dict[str, ObligationSpec],
        rules: tuple[RuleSpec, ...],
        domains: dict[str, Domain],
        sources: dict[str, dict[str, Any]],
        holidays: frozenset[_dt.date],
    ):
        doc = located.data
        self.document: dict[str, Any] = doc
        self.located = located
        self.source = located.path
        self.tables = tables
        self.id: str = doc["id"]
        self.title: str = doc["title"]
        self.version: str = doc["version"]
        self.status: str = doc["status"]
        self.illustrative: bool = bool(doc.get("illustrative", False))
        self.summary: str = doc.get("summary", "")
        self.effective_from = _dt.date.fromisoformat(doc["effective_from"])
        eto, resc = doc.get("effective_to"), doc.get("rescinded_on")
        self.effective_to = _dt.date.fromisoformat(eto) if eto else None
        self.rescinded_on = _dt.date.fromisoformat(resc) if resc else None
        self.context = context
        self.gates = gates
        self.obligations = obligations
        self.rules = rules
        self.domains = domains
        self.sources = sources
        self.holidays = holidays

        def bundle(fmt: int, tables_sha: str) -> dict[str, Any]:
            return {
                "bundle": f"jbgrade-policy-bundle/{fmt}",
                "engine": ENGINE_VERSION,
                "profile": doc,
                "rubric": {
                    "prefix": tables.prefix,
                    "table_revision": tables.table_revision,
                    "tables_sha256": tables_sha,
                },
            }

        #: RFC 8785 canonical SHA-256 of the bundle (bundle format 2).
        self.bundle_sha256 = canonical_sha256(bundle(2, _tables_sha(tables)))
        #: The bundle format 1 hash of the same profile, for decisions recorded before.
        self.legacy_bundle_sha256 = _sha(bundle(1, _tables_sha_v1(tables)))
        self._compiled: Compiled | None = None

    # -- identity ---------------------------------------------------------------
    def __repr__(self) -> str:
        return f"Profile({self.id!r}, version={self.version!r}, sha256={self.bundle_sha256[:12]})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Profile):
            return self.bundle_sha256 == other.bundle_sha256
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.bundle_sha256)

    def has_bundle(self, sha256: object) -> bool:
        """``sha256`` is this profile's bundle hash, in bundle format 2 or format 1."""
        return sha256 in (self.bundle_sha256, self.legacy_bundle_sha256)

    # -- helpers ----------------------------------------------------------------
    def line_of(self, path: Path_) -> int | None:
        """Line of a document path (or its nearest ancestor)."""
        return self.located.line_of(path)

    def rule(self, rule_id: str) -> RuleSpec:
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(rule_id)

    def in_force(self, on: _dt.date) -> bool:
        """Whether the profile is in force on ``on`` (effective and not rescinded)."""
        if on < self.effective_from:
            return False
        if self.effective_to is not None and on > self.effective_to:
            return False
        return not (self.rescinded_on is not None and on >= self.rescinded_on)

    def evaluate(self, grade: Grade | str, context: Mapping[str, object] | None = None) -> Outcome:
        """The compiled decision core: action, obligation ids and rule ids, no trace.

        For bulk work (hundreds of thousands of decisions a second); ``grade``
        is a :class:`~jbgrade.Grade` or a canonical vector string known to be
        valid. :func:`jbgrade.decide` gives the full, explained Decision.
        """
        return self.compiled.evaluate(grade, context)

    @property
    def compiled(self) -> Compiled:
        if self._compiled is None:
            self._compiled = Compiled(self)
        return self._compiled

    def summary_dict(self) -> dict[str, Any]:
        """Identity, status and shape (for listings and the API)."""
        return {
            "id": self.id,
            "title": self.title,
            "version": self.version,
            "status": self.status,
            "illustrative": self.illustrative,
            "effective_from": self.effective_from.isoformat(),
            "effective_to": self.effective_to.isoformat() if self.effective_to else None,
            "rescinded_on": self.rescinded_on.isoformat() if self.rescinded_on else None,
            "summary": self.summary,
            "rules": len(self.rules),
            "obligations": len(self.obligations),
            "context": sorted(self.context),
            "domains": {d.letter: d.name for d in self.domains.values()},
            "source": self.source,
            "bundle_sha256": self.bundle_sha256,
        }


# -- parsing ---------------------------------------------------------------------


class _Parser:
    def __init__(self, loc: LocatedDoc, tables: Tables):
        self.loc = loc
        self.t = tables
        self.metric_keys = {m.key: m for m in tables.metrics}
        self.level_names = tables.levels

    def err(self, path: Path_, msg: str, field: str | None = None) -> PolicyError:
        return PolicyError(
            msg,
            path=self.loc.path,
            line=self.loc.line_of(path),
            field=field if field is not None else (dotted(path) or None),
        )

    # conditions -------------------------------------------------------------
    def _ordered_set(
        self, path: Path_, on: str, kind: str, ops: dict[str, Any], order: tuple[Any, ...]
    ) -> Atom:
        """Atom over a finite ordered domain (letters, levels, severities, enum)."""
        allowed = set(order)
        parts: list[str] = []

        def pos(v: Any, op: str) -> int:
            if v not in order:
                raise self.err(
                    (*path, op),
                    f"{v!r} is not a value of {on} (values: {', '.join(map(str, order))})",
                )
            return order.index(v)

        for op, val in ops.items():
            if op == "in":
                for v in val:
                    pos(v, op)
                allowed &= set(val)
                parts.append(f"in [{', '.join(map(str, val))}]")
            elif op == "at_least":
                allowed &= set(order[pos(val, op) :])
                parts.append(f"at_least {val}")
            elif op == "at_most":
                allowed &= set(order[: pos(val, op) + 1])
                parts.append(f"at_most {val}")
            else:
                raise self.err((*path, op), f"operator {op!r} does not apply to {on}")
        if not allowed:
            raise self.err(path, f"condition on {on} can never hold ({' and '.join(parts)})")
        return Atom(
            on=on,
            kind=kind,
            test=" and ".join(parts),
            line=self.loc.line_of(path),
            allowed=frozenset(allowed),
        )

    def _number(self, path: Path_, on: str, kind: str, ops: dict[str, Any]) -> Atom:
        lo, lo_incl, hi, hi_incl = -math.inf, True, math.inf, True
        parts: list[str] = []
        for op, val in ops.items():
            if isinstance(val, bool) or not isinstance(val, int | float):
                raise self.err((*path, op), f"{on} {op} needs a number, got {val!r}")
            v = float(val)
            if not math.isfinite(v):
                raise self.err((*path, op), f"{on} {op} must be finite")
            if op == "at_least":
                if v > lo or (v == lo and lo_incl):
                    lo, lo_incl = v, True
                parts.append(f">= {_num(v)}")
            elif op == "above":
                if v >= lo:
                    lo, lo_incl = v, False
                parts.append(f"> {_num(v)}")
            elif op == "at_most":
                if v < hi or (v == hi and hi_incl):
                    hi, hi_incl = v, True
                parts.append(f"<= {_num(v)}")
            elif op == "below":
                if v <= hi:
                    hi, hi_incl = v, False
                parts.append(f"< {_num(v)}")
            else:
                raise self.err((*path, op), f"operator {op!r} does not apply to {on}")
        if lo > hi or (lo == hi and not (lo_incl and hi_incl)):
            raise self.err(path, f"condition on {on} can never hold ({' and '.join(parts)})")
        return Atom(
            on=on,
            kind=kind,
            test=" and ".join(parts),
            line=self.loc.line_of(path),
            lo=lo,
            lo_incl=lo_incl,
            hi=hi,
            hi_incl=hi_incl,
        )

    def context_atoms(
        self, path: Path_, conds: dict[str, Any], fields: dict[str, ContextField]
    ) -> list[Atom]:
        out: list[Atom] = []
        for name, ops in conds.items():
            p = (*path, name)
            f = fields.get(name)
            if f is None:
                known = ", ".join(sorted(fields)) or "none declared"
                raise self.err(p, f"context field {name!r} is not declared (declared: {known})")
            if f.type == "number":
                out.append(self._number(p, f"context.{name}", "number", ops))
            else:
                if not f.ordered and ({"at_least", "at_most"} & set(ops)):
                    raise self.err(p, f"context field {name!r} is not ordered: use 'in'")
                out.append(self._ordered_set(p, f"context.{name}", "enum", ops, f.values))
        return out

    def grade_atoms(
        self, path: Path_, when: dict[str, Any], fields: dict[str, ContextField]
    ) -> list[Atom]:
        out: list[Atom] = []
        for key, val in when.items():
            p = (*path, key)
            if key == "context":
                out.extend(self.context_atoms(p, val, fields))
            elif key in ("systemic", "provisional"):
                out.append(
                    Atom(
                        on=key,
                        kind="flag",
                        test=f"is {str(val).lower()}",
                        line=self.loc.line_of(p),
                        allowed=frozenset({val}),
                    )
                )
            elif key == "severity":
                out.append(self._ordered_set(p, "severity", "severity", val, SEVERITIES))
            elif key == "score":
                if "in" in val:
                    raise self.err((*p, "in"), "score takes at_least/at_most/above/below")
                out.append(self._number(p, "score", "score", val))
            elif key in CRITERIA:
                # Levels may be given as numbers 0-4 or names (minimal..severe).
                norm: dict[str, Any] = {}
                for op, v in val.items():
                    vs = v if op == "in" else [v]
                    conv = [self.level_names.index(x) if x in self.level_names else x for x in vs]
                    norm[op] = conv if op == "in" else conv[0]
                out.append(
                    self._ordered_set(
                        p, key, "criterion", norm, tuple(range(len(self.level_names)))
                    )
                )
            elif key in self.metric_keys:
                m = self.metric_keys[key]
                out.append(self._ordered_set(p, key, "metric", val, m.letters))
            else:
                known = ", ".join([*CRITERIA, *self.metric_keys])
                raise self.err(
                    p,
                    f"unknown condition {key!r} (severity, score, systemic, provisional, "
                    f"context, or one of {known})",
                )
        return out

    def citation(self, path: Path_, raw: Any, sources: dict[str, dict[str, Any]]) -> Citation:
        if raw == "illustrative":
            return Citation(illustrative=True)
        src = raw["source"]
        if src not in sources:
            raise self.err(
                (*path, "source"),
                f"citation source {src!r} is not declared in 'sources' "
                f"(declared: {', '.join(sorted(sources)) or 'none'})",
            )
        return Citation(
            illustrative=False,
            source=src,
            source_title=sources[src].get("title"),
            section=raw.get("section"),
            unconfirmed=bool(raw.get("unconfirmed", False)),
            mapping=raw.get("mapping", "official"),
            note=raw.get("note"),
        )

    # whole document ---------------------------------------------------------
    def parse(self) -> Profile:
        doc = self.loc.data
        if not isinstance(doc, dict):
            raise self.err((), "a profile must be a mapping")
        errors = sorted(
            _validator().iter_errors(doc), key=lambda e: (len(e.absolute_path), str(e.message))
        )
        if errors:
            best = min(errors, key=lambda e: -len(e.absolute_path))
            best = jsonschema.exceptions.best_match(errors) or best
            path = tuple(best.absolute_path)
            raise self.err(path, f"schema: {_short(best.message)}")
        sources: dict[str, dict[str, Any]] = doc.get("sources", {})
        status = doc["status"]
        if status == "rescinded" and not doc.get("rescinded_on"):
            raise self.err(("status",), "a rescinded profile needs 'rescinded_on'")
        if doc.get("rescinded_on") and status != "rescinded":
            raise self.err(("rescinded_on",), "'rescinded_on' needs status: rescinded")
        if doc.get("effective_to") and doc["effective_to"] < doc["effective_from"]:
            raise self.err(("effective_to",), "effective_to is before effective_from")
        fields: dict[str, ContextField] = {}
        for name, f in doc.get("context", {}).items():
            p: Path_ = ("context", name)
            if f["type"] == "enum":
                if "values" not in f:
                    raise self.err(p, "an enum context field needs 'values'")
                if f["default"] not in f["values"]:
                    raise self.err(
                        (*p, "default"), f"default {f['default']!r} is not one of its values"
                    )
                values = tuple(f["values"])
            else:
                if "values" in f:
                    raise self.err((*p, "values"), "a number field takes no 'values'")
                d = f["default"]
                if isinstance(d, bool) or not isinstance(d, int | float):
                    raise self.err((*p, "default"), "default must be a number")
                if "minimum" in f and d < f["minimum"]:
                    raise self.err((*p, "default"), "default is below 'minimum'")
                values = ()
            fields[name] = ContextField(
                name=name,
                type=f["type"],
                description=f["description"],
                values=values,
                ordered=bool(f.get("ordered", f["type"] == "number")),
                minimum=float(f["minimum"]) if "minimum" in f else None,
                unit=f.get("unit"),
                default=float(f["default"]) if f["type"] == "number" else f["default"],
                default_reason=f["default_reason"],
                line=self.loc.line_of(p),
            )
        gates = tuple(
            tuple(self.context_atoms(("applies_when", i), g, fields))
            for i, g in enumerate(doc.get("applies_when", []))
        )
        obligations: dict[str, ObligationSpec] = {}
        for oid, o in doc.get("obligations", {}).items():
            p = ("obligations", oid)
            w = o["within"]
            if w["clock"] == "awareness" and w.get("repeat_every_days") and w["days"] == 0:
                raise self.err((*p, "within"), "a recurring obligation needs days > 0")
            obligations[oid] = ObligationSpec(
                id=oid,
                party=o["party"],
                what=o["what"],
                kind=o["kind"],
                days=int(w["days"]),
                calendar=w["calendar"],
                clock=w["clock"],
                repeat_every_days=w.get("repeat_every_days"),
                citation=self.citation((*p, "citation"), o["citation"], sources),
                line=self.loc.line_of(p),
            )
        rules: list[RuleSpec] = []
        seen: dict[str, int] = {}
        for i, r in enumerate(doc["rules"]):
            p = ("rules", i)
            rid = r["id"]
            if rid in seen:
                raise self.err(
                    (*p, "id"), f"duplicate rule id {rid!r} (first at rules[{seen[rid]}])"
                )
            seen[rid] = i
            for j, oid in enumerate(r.get("obligations", [])):
                if oid not in obligations:
                    raise self.err(
                        (*p, "obligations", j),
                        f"rule {rid}: unknown obligation {oid!r} "
                        f"(catalogue: {', '.join(sorted(obligations)) or 'empty'})",
                    )
            atoms = self.grade_atoms((*p, "when"), r["when"], fields)
            rules.append(
                RuleSpec(
                    id=rid,
                    index=i,
                    title=r["title"],
                    citation=self.citation((*p, "citation"), r["citation"], sources),
                    rationale=r.get("rationale"),
                    atoms=tuple(atoms),
                    action=r["action"],
                    obligations=tuple(r.get("obligations", [])),
                    line=self.loc.line_of(p),
                )
            )
        hd = self.metric_keys.get("HD")
        domains: dict[str, Domain] = {}
        for letter, d in doc.get("domains", {}).items():
            p = ("domains", letter)
            if hd is None or letter not in hd.letters:
                raise self.err(p, f"{letter!r} is not a hazard-domain (HD) letter")
            for tier, rid in [("unacceptable", d["unacceptable"]), *d.get("tiers", {}).items()]:
                if rid not in seen:
                    raise self.err(
                        (*p, "unacceptable" if tier == "unacceptable" else "tiers"),
                        f"domain {letter} tier {tier!r}: unknown rule {rid!r}",
                    )
            domains[letter] = Domain(
                letter, d["name"], d["unacceptable"], dict(d.get("tiers", {})), self.loc.line_of(p)
            )
        holidays = frozenset(_dt.date.fromisoformat(h) for h in doc.get("holidays", []))
        return Profile(
            located=self.loc,
            tables=self.t,
            context=fields,
            gates=gates,
            obligations=obligations,
            rules=tuple(rules),
            domains=domains,
            sources=sources,
            holidays=holidays,
        )


def _num(v: float) -> str:
    return f"{v:g}"


def _short(msg: str) -> str:
    return msg if len(msg) <= 200 else msg[:197] + "..."


def parse_profile(text: str, source: str = "<profile>", tables: Tables | None = None) -> Profile:
    """Parse and validate a profile from YAML text (errors name ``source:line``)."""
    loc = load_located(text, source, cls=PolicyError)
    if tables is None:
        ver = loc.data.get("jbg", "1.0") if isinstance(loc.data, dict) else "1.0"
        if ver not in VERSIONS:
            raise PolicyError(
                f"jbg: {ver!r} is not a JBG version this implementation has "
                f"({', '.join(VERSIONS)})",
                path=source,
                line=loc.line_of(("jbg",)),
            )
        tables = tables_for(ver)
    return _Parser(loc, tables).parse()


# -- registry --------------------------------------------------------------------


#: Entry-point group through which other packages ship profiles. An entry point
#: resolves to a path (or a callable returning one) of a profile file or of a
#: directory of ``*.yaml`` profiles; the file stem is the profile name.
ENTRY_POINT_GROUP = "jbgrade.policy_profiles"


@cache
def _shipped() -> Mapping[str, str]:
    """Shipped profile name -> resource file name (package data: listed once, read-only)."""
    root = resources.files("jbgrade.policy").joinpath("data/profiles")
    out = {}
    for entry in root.iterdir():
        if entry.name.endswith(".yaml"):
            out[entry.name[: -len(".yaml")]] = entry.name
    return MappingProxyType(dict(sorted(out.items())))


class ProfileOptions(BaseModel):
    """Options of a policy-profile plug-in: the tables its conditions are read against."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    tables: Tables | None = Field(
        default=None, description="Rubric tables (None: the profile's own JBG version's)."
    )


#: A policy-profile plug-in: ``factory(ProfileOptions) -> Profile``.
ProfileFactory = Callable[[ProfileOptions], "Profile"]


def _shipped_factory(name: str) -> ProfileFactory:
    def make(opts: ProfileOptions) -> Profile:
        if opts.tables is not None and opts.tables is not default_tables():
            res = resources.files("jbgrade.policy").joinpath(f"data/profiles/{_shipped()[name]}")
            return parse_profile(res.read_text("utf-8"), f"{name}.yaml", opts.tables)
        return _load_shipped(name)

    return make


def _file_factory(name: str, path: Path) -> ProfileFactory:
    def make(opts: ProfileOptions) -> Profile:
        prof = load_profile(path, opts.tables)
        if prof.id != name:
            raise PolicyError(
                f"profile file declares id {prof.id!r}, not {name!r}", path=prof.source
            )
        return prof

    return make


def _expand_entry_point(ep_name: str, obj: Any) -> list[tuple[str, ProfileFactory]]:
    """An entry point resolves to a profile file or a directory of them (or a callable
    returning one); each file's stem is a profile name."""
    target = Path(str(obj() if callable(obj) else obj))
    files = (
        sorted(f for f in target.iterdir() if f.suffix in (".yaml", ".yml"))
        if target.is_dir()
        else [target]
    )
    return [(f.stem, _file_factory(f.stem, f)) for f in files]


#: Policy profiles by name: the plug-in kernel's registry. Shipped profiles are
#: built-ins; the ``jbgrade.policy_profiles`` entry-point group adds others (a name
#: taken twice is a :class:`~jbgrade.PluginError`).
PROFILES: PluginRegistry[ProfileFactory] = PluginRegistry(
    "policy-profile",
    ENTRY_POINT_GROUP,
    error=UnknownProfileError,
    expand=_expand_entry_point,
    options=ProfileOptions,
)
for _name in _shipped():
    PROFILES.add(_name, _shipped_factory(_name))


@cache
def _editions() -> Mapping[tuple[str, str], str]:
    """(profile name, JBG version) -> resource path of a shipped older edition."""
    out: dict[tuple[str, str], str] = {}
    base = resources.files("jbgrade.policy").joinpath("data/profiles")
    for ver in VERSIONS:
        d = base.joinpath(f"jbg-{ver}")
        if not d.is_dir():
            continue
        for entry in d.iterdir():
            if entry.name.endswith(".yaml"):
                out[entry.name[: -len(".yaml")], ver] = f"data/profiles/jbg-{ver}/{entry.name}"
    return MappingProxyType(dict(sorted(out.items())))


@cache
def profile_edition(name: str, version: str) -> Profile | None:
    """The edition of shipped profile ``name`` that reads JBG ``version`` grades, if any.

    The current edition (``data/profiles/NAME.yaml``) when it is for ``version``;
    else a frozen older edition (``data/profiles/jbg-VERSION/NAME.yaml``), kept so
    that grades of that version can still be decided and earlier decisions replayed
    (same bundle hash).
    """
    if name in _shipped():
        cur = _load_shipped(name)
        if cur.tables.version == version:
            return cur
    rel = _editions().get((name, version))
    if rel is None:
        return None
    res = resources.files("jbgrade.policy").joinpath(rel)
    prof = parse_profile(res.read_text("utf-8"), f"jbgrade/policy/{rel}")
    if prof.id != name:
        raise PolicyError(f"shipped profile edition {rel} declares id {prof.id!r}")
    return prof


def list_profiles() -> list[str]:
    """Names ``--profile NAME`` accepts: shipped profiles and entry-point ones."""
    return PROFILES.names()


@cache
def _load_shipped(name: str) -> Profile:
    res = resources.files("jbgrade.policy").joinpath(f"data/profiles/{_shipped()[name]}")
    prof = parse_profile(res.read_text("utf-8"), f"jbgrade/policy/data/profiles/{name}.yaml")
    if prof.id != name:
        raise PolicyError(f"shipped profile file {name}.yaml declares id {prof.id!r}")
    return prof


@lru_cache(maxsize=256)
def _load_file(path: str, mtime_ns: int, size: int) -> Profile:
    # Keyed by modification time and size so an edited file is re-read.
    text = read_text_limited(path, max_bytes=MAX_YAML_BYTES, what="profile", cls=PolicyError)
    return parse_profile(text, path)


def _looks_like_path(ref: str) -> bool:
    return ref.endswith((".yaml", ".yml")) or "/" in ref or "\\" in ref


def load_profile(ref: str | Path | Profile, tables: Tables | None = None) -> Profile:
    """A profile by name (shipped or from the entry-point group), or a profile file by path.

    Unknown names raise :class:`~jbgrade.UnknownProfileError` listing the
    available ones; malformed files raise :class:`~jbgrade.PolicyError` with
    ``file:line``.
    """
    if isinstance(ref, Profile):
        return ref
    custom = tables is not None and tables is not default_tables()
    # A shipped name always means the shipped profile (a stray file of that name in the
    # working directory must not change a decision); anything else may be a file path.
    if (
        isinstance(ref, Path)
        or _looks_like_path(ref)
        or (ref not in _shipped() and os.path.isfile(ref))
    ):
        p = Path(ref)
        try:
            st = p.stat()
        except FileNotFoundError as exc:
            raise PolicyError("no such profile file", path=str(p)) from exc
        except OSError as exc:
            raise PolicyError(f"cannot read profile: {exc}", path=str(p)) from exc
        if p.is_dir():
            raise PolicyError("a profile must be a file, not a directory", path=str(p))
        if custom:
            text = read_text_limited(p, max_bytes=MAX_YAML_BYTES, what="profile", cls=PolicyError)
            return parse_profile(text, str(p), tables)
        return _load_file(str(p), st.st_mtime_ns, st.st_size)
    if ref in PROFILES:
        prof: Profile = PROFILES.create(ref, {"tables": tables if custom else None})
        return prof
    raise UnknownProfileError(
        f"unknown profile {ref!r}; available: {', '.join(list_profiles())} "
        "(or give a path to a profile .yaml file)"
    )


def load_all_profiles() -> dict[str, Profile]:
    """Every available profile (shipped and entry-point), by name (in name order)."""
    return {name: load_profile(name) for name in list_profiles()}
