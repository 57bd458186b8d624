"""Settling a dispute: the decisive items and the smallest agreements.

Exhaustive over every subset and assignment of the differing items, with a
dynamic programme over the 3^n patterns (A, B or free per item).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any, Literal

from jbgrade.assess._dispute_records import SettlingAgreement

__all__: list[str] = []


@dataclass
class _Item:
    key: str
    kind: Literal["metric", "context"]
    name: str
    a: Any
    b: Any


def _table(
    decisive: Sequence[int],
    outcome_index: Sequence[int],
    names: Sequence[str],
    items: Sequence[_Item],
) -> list[SettlingAgreement]:
    """The outcome for each combination of the decisive items (the rest do not matter)."""
    rows = []
    for assign in range(1 << len(decisive)):
        mask = 0
        agree: dict[str, str] = {}
        sides: dict[str, Literal["A", "B"]] = {}
        for j, i in enumerate(decisive):
            side_b = (assign >> j) & 1
            mask |= side_b << i
            agree[items[i].key] = _show(items[i].b if side_b else items[i].a)
            sides[items[i].key] = "B" if side_b else "A"
        rows.append(SettlingAgreement(agree=agree, sides=sides, outcome=names[outcome_index[mask]]))
    return rows


def _settle(
    n: int, outcome_index: Sequence[int], names: Sequence[str], items: Sequence[_Item]
) -> tuple[list[str], int, list[SettlingAgreement], list[SettlingAgreement]]:
    """Decisive items, smallest agreement size, the smallest agreements, decision table."""
    points = 1 << n
    decisive_idx = [
        i
        for i in range(n)
        if any(
            outcome_index[m] != outcome_index[m | (1 << i)]
            for m in range(points)
            if not m & (1 << i)
        )
    ]
    decisive = [items[i].key for i in decisive_idx]
    table = _table(decisive_idx, outcome_index, names, items) if 0 < len(decisive_idx) <= 5 else []
    # Patterns in base 3: digit 0 = A's value, 1 = B's value, 2 = free. The set of
    # reachable outcomes of a pattern (as a bitmask) is the union over its first free digit.
    pow3 = [3**i for i in range(n)]
    sets = [0] * (3**n)
    for p in range(3**n):
        q, i, free = p, 0, -1
        bits = 0
        while i < n:
            d = q % 3
            if d == 2:
                free = i
                break
            bits |= d << i
            q //= 3
            i += 1
        if free < 0:
            sets[p] = 1 << outcome_index[bits]
        else:
            sets[p] = sets[p - 2 * pow3[free]] | sets[p - pow3[free]]
    best: list[SettlingAgreement] = []
    smallest = n
    for k in range(n + 1):
        for subset in combinations(range(n), k):
            for assign in range(1 << k):
                p = 2 * sum(pow3)  # everything free
                for j, i in enumerate(subset):
                    p -= (2 - ((assign >> j) & 1)) * pow3[i]
                s = sets[p]
                if s & (s - 1) == 0:  # exactly one outcome reachable
                    out = names[s.bit_length() - 1]
                    agree = {}
                    sides: dict[str, Literal["A", "B"]] = {}
                    for j, i in enumerate(subset):
                        side_b = (assign >> j) & 1
                        it = items[i]
                        agree[it.key] = _show(it.b if side_b else it.a)
                        sides[it.key] = "B" if side_b else "A"
                    if len(best) < 12:
                        best.append(SettlingAgreement(agree=agree, sides=sides, outcome=out))
        if best:
            smallest = k
            break
    return decisive, smallest, best, table


def _show(v: Any) -> str:
    return v if isinstance(v, str) else json.dumps(v)
