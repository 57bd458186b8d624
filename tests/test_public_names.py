"""Per-package ``__all__`` snapshots, and public names that mean one thing.

A change to any package's public API shows up here as a diff of
``tests/data/public_all.json`` (regenerate it on purpose with
``python tests/test_public_names.py``). A name exported by two packages must be
the same object; the clashes that predate this check are listed and may only
shrink (each is a follow-up: renaming a public name is a contract change).
"""

from __future__ import annotations

import importlib
import json
import pkgutil
from pathlib import Path

import jbgrade

SNAPSHOT = Path(__file__).parent / "data" / "public_all.json"

#: Names that two packages export as different objects (known; may only shrink).
KNOWN_CLASHES = {
    "Attack",
    "CaseSummary",
    "CheckReport",
    "Citation",
    "Difference",
    "ENTRY_POINT_GROUP",
    "EvidenceView",
    "Outcome",
    "RULES",
    "TargetInfo",
    "Transition",
    "canonical_json",
    "create_app",
}


def _packages() -> list[str]:
    return ["jbgrade"] + [
        f"jbgrade.{m.name}"
        for m in pkgutil.iter_modules(jbgrade.__path__)
        if m.ispkg and not m.name.startswith("_")
    ]


def _snapshot() -> dict[str, list[str]]:
    return {p: sorted(importlib.import_module(p).__all__) for p in _packages()}


def test_every_package_all_matches_its_snapshot() -> None:
    want = json.loads(SNAPSHOT.read_text("utf-8"))
    got = _snapshot()
    assert sorted(got) == sorted(want), "a public package appeared or went away"
    for pkg, names in got.items():
        added, removed = set(names) - set(want[pkg]), set(want[pkg]) - set(names)
        assert not added and not removed, f"{pkg}: added {sorted(added)}, removed {sorted(removed)}"


def test_a_public_name_means_one_thing_across_packages() -> None:
    seen: dict[str, dict[int, str]] = {}
    for pkg in _packages():
        mod = importlib.import_module(pkg)
        for name in mod.__all__:
            seen.setdefault(name, {})[id(getattr(mod, name))] = pkg
    clashes = {n for n, objs in seen.items() if len(objs) > 1}
    assert clashes <= KNOWN_CLASHES, f"new clashes: {sorted(clashes - KNOWN_CLASHES)}"
    # Names removed from the known list stay removed.
    assert clashes >= KNOWN_CLASHES, f"resolved, drop from the list: {KNOWN_CLASHES - clashes}"


if __name__ == "__main__":
    SNAPSHOT.write_text(json.dumps(_snapshot(), indent=1, sort_keys=True) + "\n", "utf-8")
