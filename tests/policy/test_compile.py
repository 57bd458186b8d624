"""The compiled bitmasks agree with evaluating every atom directly (an independent oracle)."""

from __future__ import annotations

import random
from typing import Any

import pytest

from jbgrade import grade
from jbgrade.policy import ACTIONS, Profile
from jbgrade.rubric import NOT_ASSESSED, default_tables
from tests.policy.conftest import SHIPPED, p10

T = default_tables()


def oracle(prof: Profile, vector: str, ctx: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    g = grade(vector)
    letters = {k: (T.metric(k).worst if v == NOT_ASSESSED else v) for k, v in g.letters.items()}
    levels = {c: v["level"] for c, v in g.criteria.items()}
    values = {n: ctx.get(n, f.default) for n, f in prof.context.items()}
    if prof.gates and not any(all(a.holds(values[a.on[8:]]) for a in gate) for gate in prof.gates):
        return "none", ()
    fired = []
    for r in prof.rules:
        ok = True
        for a in r.atoms:
            if a.kind == "metric":
                v: Any = letters[a.on]
            elif a.kind == "criterion":
                v = levels[a.on]
            elif a.kind == "severity":
                v = g.severity
            elif a.kind == "score":
                v = g.score
            elif a.kind == "flag":
                v = g.systemic if a.on == "systemic" else g.provisional
            else:
                v = values[a.on[8:]]
            ok = ok and a.holds(v)
        if ok:
            fired.append(r)
    action = ACTIONS[max(r.rank for r in fired)]
    obs = {o for r in fired for o in r.obligations}
    return action, tuple(o for o in prof.obligations if o in obs)


def _random_vector(rng: random.Random) -> str:
    parts = []
    for m in T.metrics:
        v = rng.choice([*m.letters, NOT_ASSESSED]) if rng.random() < 0.15 else rng.choice(m.letters)
        parts.append(f"{m.key}:{v}")
    return T.prefix + "/".join(parts)


def _random_context(prof: Profile, rng: random.Random) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, f in prof.context.items():
        if rng.random() < 0.3:
            continue  # missing: the default applies
        out[name] = (
            rng.choice(f.values)
            if f.type == "enum"
            else rng.choice([0, 1e24, 1e25, 3e25, 1e26, 5e26])
        )
    return out


@pytest.mark.parametrize("name", SHIPPED)
def test_compiled_matches_direct_evaluation(name: str) -> None:
    prof = p10(name)
    rng = random.Random(name)
    for _ in range(1500):
        v = _random_vector(rng)
        ctx = _random_context(prof, rng)
        out = prof.evaluate(v, ctx)
        assert (out.action, out.obligations) == oracle(prof, v, ctx), (v, ctx)
