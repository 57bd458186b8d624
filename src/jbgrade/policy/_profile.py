"""The loaded policy profile and its bundle hash.

Parsing and validation are in ``_parse.py``, the registry and loaders in ``_load.py``.

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
from collections.abc import Mapping
from typing import Any

from jbgrade._yaml import LocatedDoc, Path_
from jbgrade.policy._compile import Compiled, Outcome
from jbgrade.policy._spec import (
    Atom,
    ContextField,
    ObligationSpec,
    RuleSpec,
)
from jbgrade.records import canonical_sha256
from jbgrade.rubric import (
    Grade,
    Tables,
)

__all__ = [
    "ENGINE_VERSION",
    "Domain",
    "Profile",
    "canonical_json",
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
