"""The derivation rules' data (design 0100) and the small rate helpers every rule uses.

Rule ids (M-RL, M-UN, M-TR, M-HD, M-UP, M-LY, M-AU, M-CG) and thresholds are those
of docs/design/0002-measured-metrics.md; the thresholds live in ``RULES`` (read
from the versioned data file), and every derived value records the ones it applied.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from typing import Any

from jbgrade.evidence._model import Rate

__all__ = [
    "DERIVED_METRICS",
    "RULES",
    "RULES_DATA",
    "RULES_SHA256",
    "RULES_VERSION",
    "Z95",
    "wilson",
]

#: z for a two-sided 95% interval.
Z95 = 1.96

_RULES_FILE = "derivation-rules-2.1.json"
_RULES_BYTES = (resources.files("jbgrade.evidence") / "data" / _RULES_FILE).read_bytes()
#: The derivation-rules data file (design 0100), as read.
RULES_DATA: dict[str, Any] = json.loads(_RULES_BYTES)
#: Thresholds of the derivation rules, by rule id (from the versioned data file).
RULES: dict[str, dict[str, Any]] = RULES_DATA["rules"]
#: Version and SHA-256 of the rules data applied; every Evidence records both.
RULES_VERSION: str = str(RULES_DATA["version"])
RULES_SHA256: str = hashlib.sha256(_RULES_BYTES).hexdigest()

#: Metrics evidence can derive, in vector order.
DERIVED_METRICS: tuple[str, ...] = ("LY", "UN", "RL", "TR", "HD", "UP", "AU")


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for ``successes`` out of ``n`` (n > 0)."""
    if n <= 0:
        raise ValueError("wilson needs n > 0")
    p = successes / n
    z2 = z * z
    denom = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def _r4(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def _rate(k: int, n: int) -> Rate:
    if n == 0:
        return Rate(successes=0, n=0, rate=None, low=None, high=None)
    lo, hi = wilson(k, n)
    return Rate(successes=k, n=n, rate=_r4(k / n), low=_r4(lo), high=_r4(hi))


def _adjusted(a: Rate, b: Rate) -> float | None:
    if a.rate is None:
        return None
    return _r4(max(0.0, (a.successes / a.n) - (b.successes / b.n if b.n else 0.0)))


@dataclass(frozen=True)
class _Family:
    """The family a claim belongs to: attacks x targets of the campaign (design 0100)."""

    attacks: int
    targets: int

    def alpha(self, rule: str) -> float:
        return float(RULES[rule]["alpha"]) / max(1, self.attacks * self.targets)


def _max(letters: Iterable[str | None], order: tuple[str, ...]) -> str | None:
    vals = [x for x in letters if x is not None]
    return max(vals, key=order.index) if vals else None
