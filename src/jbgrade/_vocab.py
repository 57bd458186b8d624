"""The one definition of jbgrade's vocabularies, read from the rubric and policy data.

- :data:`DOMAINS`: the JBG hazard domains, lowest to highest: the letters of the
  rubric's HD metric, in the tables' order (``rubric/data/jbg-*.json``).
- :data:`ACTIONS`: the policy actions, mildest to most severe: the action enum of
  the published decision schema (``policy/data/decision.schema.json``).
- :data:`SEVERITIES`: the severity labels, mildest first: the labels of the rubric
  tables' severity bands.
- :data:`METRIC_LETTERS`: each JBG metric's value letters, lowest first, as the
  latest rubric tables list them (older tables may differ: AG gained a letter).
- :data:`LAYER_ORDER`: the protection layers a target can declare, in the order a
  request meets them.

The ``Literal`` types (:data:`Domain`, :data:`Severity`, :data:`Action`,
:data:`Layer`) exist for the type checker and the generated JSON schemas;
``tests/test_vocab.py`` proves each equals its data, so a table or schema edit
cannot leave a stale spelling behind. Everything else imports from here
(``jbgrade.records``, ``jbgrade.rubric`` and ``jbgrade.policy`` re-export the
public names).

Lowest layer: reads the packages' data files by path, imports no jbgrade package.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "ACTIONS",
    "DOMAINS",
    "DOMAIN_MEANINGS",
    "LAYER_ORDER",
    "METRIC_LETTERS",
    "SEVERITIES",
    "Action",
    "Domain",
    "Layer",
    "Severity",
]

_HERE = Path(__file__).parent
_TABLES = ("jbg-1.0.json", "jbg-1.1.json")


def _read(*parts: str) -> Any:
    return json.loads(_HERE.joinpath(*parts).read_text("utf-8"))


def _hazard_domains() -> tuple[tuple[str, ...], dict[str, str]]:
    """The HD metric's letters (lowest first) and meanings; every table must agree."""
    found: list[tuple[tuple[str, ...], dict[str, str]]] = []
    for name in _TABLES:
        (hd,) = [m for m in _read("rubric", "data", name)["metrics"] if m["key"] == "HD"]
        found.append(
            (
                tuple(v["letter"] for v in hd["values"]),
                {v["letter"]: v["meaning"] for v in hd["values"]},
            )
        )
    letters = {f[0] for f in found}
    if len(letters) != 1:  # pragma: no cover - guarded by tests/test_vocab.py
        raise RuntimeError(f"rubric tables disagree on the hazard domains: {sorted(letters)}")
    return found[-1]


def _severities() -> tuple[str, ...]:
    """The severity bands' labels (mildest first); every table must agree."""
    found = {
        tuple(b["label"] for b in _read("rubric", "data", name)["severity_bands"])
        for name in _TABLES
    }
    if len(found) != 1:  # pragma: no cover - guarded by tests/test_vocab.py
        raise RuntimeError(f"rubric tables disagree on the severity labels: {sorted(found)}")
    return found.pop()


def _metric_letters() -> dict[str, tuple[str, ...]]:
    """Every metric's letters (lowest first) in the latest tables."""
    return {
        m["key"]: tuple(v["letter"] for v in m["values"])
        for m in _read("rubric", "data", _TABLES[-1])["metrics"]
    }


def _actions() -> tuple[str, ...]:
    return tuple(_read("policy", "data", "decision.schema.json")["$defs"]["action"]["enum"])


#: JBG hazard domains, lowest to highest (the HD metric's letters).
DOMAINS: tuple[str, ...]
#: What each hazard-domain letter means (the rubric's wording).
DOMAIN_MEANINGS: dict[str, str]
DOMAINS, DOMAIN_MEANINGS = _hazard_domains()

#: Each metric's value letters, lowest first (``METRIC_LETTERS["RL"] == ("L", "M", "H")``).
METRIC_LETTERS: dict[str, tuple[str, ...]] = _metric_letters()

#: Severity labels, mildest first (the rubric's severity bands).
SEVERITIES: tuple[str, ...] = _severities()

#: Policy actions, mildest first (the decision schema's enum, in its order).
ACTIONS: tuple[str, ...] = _actions()

#: Protection layers a target can declare, in the order a request meets them.
#: LY is derived from how far successful attempts got: refusal_training -> M,
#: system_prompt -> S, input/output classifiers -> C, monitoring (undetected) -> F.
LAYER_ORDER: tuple[str, ...] = (
    "system_prompt",
    "input_classifier",
    "refusal_training",
    "output_classifier",
    "monitoring",
)

# For the type checker and the JSON schemas; tests/test_vocab.py checks each against
# the tuple above it.
Domain = Literal["G", "S", "W", "C"]
Severity = Literal["None", "Low", "Medium", "High", "Critical"]
Action = Literal["none", "monitor", "mitigate", "restrict_export", "block_deployment"]
Layer = Literal[
    "system_prompt", "input_classifier", "refusal_training", "output_classifier", "monitoring"
]
