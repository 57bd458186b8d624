"""Parsing a policy profile: schema, then semantic validation against the JBG tables.

A profile is YAML validated against ``data/policy-profile.schema.json`` and
then against the JBG tables (metric keys and letters, criterion levels,
severities) and itself (declared context fields, obligation and rule
references). Every error names ``file:line``.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
from functools import cache
from importlib import resources
from typing import Any

import jsonschema

from jbgrade._errors import PolicyError
from jbgrade._yaml import LocatedDoc, Path_, dotted, load_located
from jbgrade.policy._profile import Domain, Profile
from jbgrade.policy._spec import (
    Atom,
    Citation,
    ContextField,
    ObligationSpec,
    RuleSpec,
)
from jbgrade.rubric import (
    CRITERIA,
    SEVERITIES,
    VERSIONS,
    Tables,
    tables_for,
)

__all__ = ["parse_profile", "profile_schema"]


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
        doc = self._checked_document()
        sources: dict[str, dict[str, Any]] = doc.get("sources", {})
        fields = self._context_fields(doc)
        gates = tuple(
            tuple(self.context_atoms(("applies_when", i), g, fields))
            for i, g in enumerate(doc.get("applies_when", []))
        )
        obligations = self._obligations(doc, sources)
        rules = self._rules(doc, fields, obligations, sources)
        holidays = frozenset(_dt.date.fromisoformat(h) for h in doc.get("holidays", []))
        return Profile(
            located=self.loc,
            tables=self.t,
            context=fields,
            gates=gates,
            obligations=obligations,
            rules=rules,
            domains=self._domains(doc, {r.id for r in rules}),
            sources=sources,
            holidays=holidays,
        )

    def _checked_document(self) -> dict[str, Any]:
        """The document, valid against the schema and with consistent dates and status."""
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
        status = doc["status"]
        if status == "rescinded" and not doc.get("rescinded_on"):
            raise self.err(("status",), "a rescinded profile needs 'rescinded_on'")
        if doc.get("rescinded_on") and status != "rescinded":
            raise self.err(("rescinded_on",), "'rescinded_on' needs status: rescinded")
        if doc.get("effective_to") and doc["effective_to"] < doc["effective_from"]:
            raise self.err(("effective_to",), "effective_to is before effective_from")
        return doc

    def _context_fields(self, doc: dict[str, Any]) -> dict[str, ContextField]:
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
        return fields

    def _obligations(
        self, doc: dict[str, Any], sources: dict[str, dict[str, Any]]
    ) -> dict[str, ObligationSpec]:
        obligations: dict[str, ObligationSpec] = {}
        for oid, o in doc.get("obligations", {}).items():
            p: Path_ = ("obligations", oid)
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
        return obligations

    def _rules(
        self,
        doc: dict[str, Any],
        fields: dict[str, ContextField],
        obligations: dict[str, ObligationSpec],
        sources: dict[str, dict[str, Any]],
    ) -> tuple[RuleSpec, ...]:
        rules: list[RuleSpec] = []
        seen: dict[str, int] = {}
        for i, r in enumerate(doc["rules"]):
            p: Path_ = ("rules", i)
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
        return tuple(rules)

    def _domains(self, doc: dict[str, Any], rule_ids: set[str]) -> dict[str, Domain]:
        hd = self.metric_keys.get("HD")
        domains: dict[str, Domain] = {}
        for letter, d in doc.get("domains", {}).items():
            p: Path_ = ("domains", letter)
            if hd is None or letter not in hd.letters:
                raise self.err(p, f"{letter!r} is not a hazard-domain (HD) letter")
            for tier, rid in [("unacceptable", d["unacceptable"]), *d.get("tiers", {}).items()]:
                if rid not in rule_ids:
                    raise self.err(
                        (*p, "unacceptable" if tier == "unacceptable" else "tiers"),
                        f"domain {letter} tier {tier!r}: unknown rule {rid!r}",
                    )
            domains[letter] = Domain(
                letter, d["name"], d["unacceptable"], dict(d.get("tiers", {})), self.loc.line_of(p)
            )
        return domains


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
