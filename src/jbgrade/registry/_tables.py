"""The registry's rules as data: the case lifecycle and the permission table.

Both live in ``data/*.json`` (shipped with the package) and load into frozen
objects. The service layer enforces them; the web layer's authorization matrix
test reads the same table, so a rule cannot differ between the two.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any, Literal

from jbgrade._errors import RegistryError

__all__ = [
    "RELATIONS",
    "ROLES",
    "STATES",
    "Lifecycle",
    "PermissionRule",
    "PermissionTable",
    "Relation",
    "Role",
    "Transition",
    "lifecycle",
    "permissions",
]

Role = Literal["reporter", "assessor", "regulator", "admin", "superadmin"]
Relation = Literal[
    "any", "self", "same_org", "reporting", "owning", "granted", "granted_payload", "other"
]

ROLES: tuple[Role, ...] = ("reporter", "assessor", "regulator", "admin", "superadmin")
RELATIONS: tuple[Relation, ...] = (
    "any",
    "self",
    "same_org",
    "reporting",
    "owning",
    "granted",
    "granted_payload",
    "other",
)
STATES: tuple[str, ...] = (
    "reported",
    "triaged",
    "assessed",
    "decided",
    "mitigating",
    "retested",
    "closed",
)


def _load(name: str) -> dict[str, Any]:
    text = resources.files("jbgrade.registry").joinpath(f"data/{name}").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@dataclass(frozen=True, slots=True)
class Transition:
    """One allowed lifecycle move."""

    source: str
    target: str
    kind: str  # forward | back | close
    requires: tuple[str, ...]
    why: str


@dataclass(frozen=True, slots=True)
class Lifecycle:
    """The case state machine: states and the allowed transitions between them."""

    format_version: str
    initial: str
    states: tuple[str, ...]
    transitions: tuple[Transition, ...]

    def find(self, source: str, target: str) -> Transition | None:
        """The transition from ``source`` to ``target``, or None when forbidden."""
        for t in self.transitions:
            if t.source == source and t.target == target:
                return t
        return None

    def targets(self, source: str) -> tuple[str, ...]:
        """States reachable from ``source`` in one move, in table order."""
        return tuple(t.target for t in self.transitions if t.source == source)


@cache
def lifecycle() -> Lifecycle:
    """The shipped lifecycle table (``data/lifecycle.json``), validated."""
    raw = _load("lifecycle.json")
    states = tuple(s["id"] for s in raw["states"])
    if states != STATES:
        raise RegistryError(f"lifecycle.json states {states} differ from {STATES}")
    trans = tuple(
        Transition(t["from"], t["to"], t["kind"], tuple(t["requires"]), t["why"])
        for t in raw["transitions"]
    )
    seen: set[tuple[str, str]] = set()
    for t in trans:
        if t.source not in states or t.target not in states or t.source == t.target:
            raise RegistryError(f"lifecycle.json: bad transition {t.source} -> {t.target}")
        if (t.source, t.target) in seen:
            raise RegistryError(f"lifecycle.json: duplicate transition {t.source} -> {t.target}")
        seen.add((t.source, t.target))
    return Lifecycle(raw["format_version"], raw["initial"], states, trans)


@dataclass(frozen=True, slots=True)
class PermissionRule:
    """Roles that may act when they hold one of the relations (and the embargo allows)."""

    roles: frozenset[str]
    relations: frozenset[str]
    unless_embargoed: bool


@dataclass(frozen=True, slots=True)
class PermissionTable:
    """Action -> rules. ``allowed`` is the one decision function everyone uses."""

    format_version: str
    scopes: Mapping[str, str]
    descriptions: Mapping[str, str]
    rules: Mapping[str, tuple[PermissionRule, ...]]

    @property
    def actions(self) -> tuple[str, ...]:
        return tuple(self.rules)

    def allowed(
        self,
        action: str,
        role: str,
        relations: Iterable[str],
        *,
        embargoed: bool = False,
    ) -> bool:
        """Whether ``role`` holding ``relations`` may perform ``action``.

        ``relations`` is the set of the actor's relations to the object (see
        ``RELATIONS``); global actions use ``{"any"}``.
        """
        if action not in self.rules:
            raise RegistryError(f"unknown action {action!r}")
        rels = set(relations) | {"any"}
        for rule in self.rules[action]:
            if role not in rule.roles or not (rule.relations & rels):
                continue
            if rule.unless_embargoed and embargoed:
                continue
            return True
        return False

    def outcome(
        self, action: str, role: str, relations: Iterable[str], *, embargoed: bool = False
    ) -> Literal["ok", "not_found", "denied"]:
        """What the service does: ``ok``; ``not_found`` when the actor may not even see
        the case (case-scoped actions); ``denied`` otherwise."""
        rels = set(relations)
        if self.scopes[action] == "case" and not self.allowed(
            "case.read", role, rels, embargoed=embargoed
        ):
            return "not_found"
        return "ok" if self.allowed(action, role, rels, embargoed=embargoed) else "denied"

    def to_dict(self) -> dict[str, Any]:
        """The table as loaded from ``data/permissions.json``."""
        return _load("permissions.json")


@cache
def permissions() -> PermissionTable:
    """The shipped permission table (``data/permissions.json``), validated."""
    raw = _load("permissions.json")
    if tuple(raw["roles"]) != ROLES or tuple(raw["relations"]) != RELATIONS:
        raise RegistryError("permissions.json roles/relations differ from the code's")
    rules: dict[str, tuple[PermissionRule, ...]] = {}
    scopes: dict[str, str] = {}
    descs: dict[str, str] = {}
    for action, spec in raw["actions"].items():
        parsed = []
        for r in spec["allow"]:
            bad = (set(r["roles"]) - set(ROLES)) | (set(r["relations"]) - set(RELATIONS))
            if bad:
                raise RegistryError(f"permissions.json: {action}: unknown {sorted(bad)}")
            parsed.append(
                PermissionRule(
                    frozenset(r["roles"]),
                    frozenset(r["relations"]),
                    bool(r.get("unless_embargoed", False)),
                )
            )
        rules[action] = tuple(parsed)
        scopes[action] = spec["scope"]
        descs[action] = spec["description"]
    return PermissionTable(
        raw["format_version"],
        MappingProxyType(scopes),
        MappingProxyType(descs),
        MappingProxyType(rules),
    )
