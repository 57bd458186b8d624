"""decide() explains lazily and memoises; the result must be exactly the eager engine's.

The oracle is the eager engine as it was before (tests/policy/eager_oracle.py): it
builds every field at once and validates the whole record. On a broad random
sample (vectors with X, contexts with missing, misspelt and threshold values, dates
in and out of force, notification and patch dates) the lazy decision must equal
it as a record, as JSON (same text, so the same key order) and through every
pydantic entry point that reads the fields.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import pickle
import random
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, TypeAdapter

from jbgrade import decide, grade
from jbgrade.policy import Decision, FiredRule, Profile, _explain
from jbgrade.rubric import NOT_ASSESSED, default_tables
from tests.policy import eager_oracle
from tests.policy.conftest import SHIPPED, WORST, p10

T = default_tables()
EXAMPLES = Path(__file__).resolve().parents[2] / "examples/policies"
PROFILES = (
    *SHIPPED,
    *(str(EXAMPLES / f) for f in ("us-ai-diffusion-2025.yaml", "example-lab.yaml")),
)


def _vector(rng: random.Random) -> str:
    x_rate = rng.choice([0.0, 0.1, 0.3])
    parts = []
    for m in T.metrics:
        v = NOT_ASSESSED if rng.random() < x_rate else rng.choice(m.letters)
        parts.append(f"{m.key}:{v}")
    return T.prefix + "/".join(parts)


def _context(prof: Profile, rng: random.Random) -> dict[str, Any] | None:
    if rng.random() < 0.1:
        return None
    out: dict[str, Any] = {}
    for name, f in prof.context.items():
        if rng.random() < 0.3:
            continue  # missing: the precautionary default applies
        if f.type == "enum":
            out[name] = rng.choice(f.values)
        else:
            out[name] = rng.choice([0, 1e24, 10**25, 1e25, 3e25, 1e26, 1e26 + 1, 5e26])
    if rng.random() < 0.1:
        out["capabilty_tier"] = "critical"  # misspelt: ignored and named
    keys = list(out)
    rng.shuffle(keys)  # the context memo is keyed in the caller's order
    return {k: out[k] for k in keys}


def _dates(prof: Profile, rng: random.Random, in_force: bool) -> dict[str, dt.date | str]:
    """Awareness (and sometimes notification, patch) dates, the profile in force or not."""
    start = prof.effective_from
    ends = [start + dt.timedelta(days=700)]
    ends += [d for d in (prof.effective_to, prof.rescinded_on) if d is not None]
    end = min(ends) - dt.timedelta(days=1)
    if in_force:
        aware = start + dt.timedelta(days=rng.randrange(max(1, (end - start).days)))
    else:
        after = [d for d in (prof.rescinded_on,) if d] + [
            d + dt.timedelta(days=1) for d in (prof.effective_to,) if d
        ]
        aware = rng.choice([start - dt.timedelta(days=rng.randrange(1, 60)), *after])
    assert prof.in_force(aware) == in_force
    out: dict[str, dt.date | str] = {"aware_on": aware if rng.random() < 0.5 else aware.isoformat()}
    if rng.random() < 0.3:
        out["notified_on"] = aware + dt.timedelta(days=rng.randrange(20))
    if rng.random() < 0.3:
        out["patched_on"] = aware + dt.timedelta(days=rng.randrange(60))
    return out


def _cases(ref: str, n: int) -> list[tuple[Any, dict[str, Any] | None, dict[str, Any]]]:
    prof = p10(ref)
    rng = random.Random(f"lazy-{ref}")
    # Few dates and contexts, many vectors: memo entries get reused, as in real use.
    dates = [_dates(prof, rng, in_force=i >= 2) for i in range(12)]
    ctxs = [_context(prof, rng) for _ in range(12)]
    out = []
    for i in range(n):
        v = _vector(rng)
        g: Any = grade(v) if i % 2 else v
        out.append((g, rng.choice(ctxs), rng.choice(dates)))
    return out


def _same(lazy: Decision, eager: Decision) -> None:
    assert lazy.to_dict() == eager.to_dict()
    assert json.dumps(lazy.to_dict()) == json.dumps(eager.to_dict())
    assert lazy.model_dump_json() == eager.model_dump_json()
    assert lazy == eager
    assert repr(lazy) == repr(eager)
    assert lazy.model_fields_set == eager.model_fields_set


@pytest.mark.parametrize("ref", PROFILES, ids=lambda r: Path(r).stem)
def test_lazy_decide_equals_the_eager_engine(ref: str) -> None:
    prof = p10(ref)
    for i, (g, ctx, dates) in enumerate(_cases(ref, 1500)):
        eager = eager_oracle.decide(g, ctx, prof, **dates)
        lazy = decide(g, ctx, ref if i % 5 == 0 else prof, **dates)  # by name or path too
        # The eager parts are there before any explanation.
        assert type(lazy) is not Decision
        assert (lazy.action, lazy.obligations, lazy.provisional) == (
            eager.action,
            eager.obligations,
            eager.provisional,
        )
        assert (lazy.vector, lazy.aware_on, lazy.context) == (
            eager.vector,
            eager.aware_on,
            eager.context,
        )
        # Explain in different orders: each field alone, then everything.
        if i % 3 == 0:
            assert lazy.near_misses == eager.near_misses
            assert lazy.fired_rules == eager.fired_rules
        elif i % 3 == 1:
            assert lazy.rule_ids == eager.rule_ids
            assert lazy.compare(eager) == eager.compare(eager)
        assert lazy.to_dict() == eager.to_dict()  # serialising explains what is left
        assert type(lazy) is Decision  # once explained, a plain record
        _same(lazy, eager)


@pytest.mark.parametrize("ref", SHIPPED)
def test_memo_entries_are_shared_but_frozen(ref: str) -> None:
    prof = p10(ref)
    a = decide(WORST, None, prof, aware_on="2026-06-12")
    b = decide(WORST, None, prof, aware_on="2026-06-12")
    assert a.fired_rules[-1] is b.fired_rules[-1]  # memoised per context
    assert a.obligations == b.obligations
    with pytest.raises(ValueError, match="frozen"):
        a.fired_rules[-1].id = "changed"  # type: ignore[misc]
    # Each decision has its own top-level lists and context.
    assert a.fired_rules is not b.fired_rules and a.context is not b.context


def test_memos_emptied_when_full_give_the_same_results(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_explain, "_PROFILE_MEMO_MAX", 3)
    monkeypatch.setattr(_explain, "_CONTEXT_MEMO_MAX", 5)
    prof = p10("lab-frontier")
    for g, ctx, dates in _cases("lab-frontier", 300):
        _same(decide(g, ctx, prof, **dates), eager_oracle.decide(g, ctx, prof, **dates))


def _pair(
    ctx: dict[str, Any] | None = None,
) -> tuple[Decision, Decision]:
    vec = "JBG:1.0/LY:C/UN:D/RL:H/TR:S/HD:X/UP:P/AG:T/AC:M/AU:N/EX:P/ST:P"
    args = (vec, ctx, p10("lab-frontier"))
    return decide(*args, aware_on="2026-06-12"), eager_oracle.decide(*args, aware_on="2026-06-12")


def test_every_pydantic_entry_point_sees_the_explanation() -> None:
    lazy, eager = _pair()
    assert dict(lazy) == dict(eager)
    lazy, eager = _pair()
    assert lazy.model_dump() == eager.model_dump()
    lazy, eager = _pair()
    assert str(lazy) == str(eager)
    lazy, eager = _pair()
    assert pickle.loads(pickle.dumps(lazy)) == eager
    lazy, eager = _pair()
    assert copy.copy(lazy) == eager and copy.deepcopy(lazy) == eager
    lazy, eager = _pair()
    changed = lazy.model_copy(update={"action": "none"})
    assert changed.near_misses == eager.near_misses and changed.action == "none"
    lazy, eager = _pair()
    with pytest.raises(TypeError):
        hash(lazy)  # as the eager record: its list fields are unhashable
    lazy, eager = _pair()
    assert TypeAdapter(Decision).dump_python(lazy, mode="json") == eager.model_dump(mode="json")

    class Holder(BaseModel):
        decision: Decision

    lazy, eager = _pair()
    held = Holder(decision=lazy)  # validation keeps the instance (revalidate: never)
    assert held.model_dump(mode="json")["decision"] == eager.model_dump(mode="json")
    assert (
        json.loads(held.model_dump_json())["decision"]["near_misses"]
        == json.loads(eager.model_dump_json())["near_misses"]
    )
    lazy, eager = _pair()
    assert vars(lazy) == vars(eager)
    # Explaining one field leaves the other pending until it is needed; reading the
    # eager fields explains nothing.
    lazy, eager = _pair()
    assert (lazy.action, lazy.obligations, lazy.context) == (
        eager.action,
        eager.obligations,
        eager.context,
    )
    assert not hasattr(lazy, "no_such_field")
    assert type(lazy) is not Decision
    assert lazy.fired_rules == eager.fired_rules
    assert type(lazy) is not Decision
    assert lazy.near_misses == eager.near_misses
    assert type(lazy) is Decision
    lazy, eager = _pair()
    assert eager == lazy  # the subclass's __eq__ runs first (Python's reflected rule)
    a, _ = _pair()
    b, _ = _pair()
    assert a == b and b == a
    a, _ = _pair()
    b, _ = _pair()
    assert a.near_misses == b.near_misses and a.to_dict() == b.to_dict()
    assert a == b and a is not b
    lazy, eager = _pair()
    assert type(pickle.loads(pickle.dumps(lazy))) is Decision


def test_engine_scale_sample_explains_identically_when_dumped_in_bulk() -> None:
    # Many lazy decisions alive at once, serialised through one TypeAdapter call.
    prof = p10("us-export")
    cases = _cases("us-export", 400)
    lazy = [decide(g, c, prof, **d) for g, c, d in cases]
    eager = [eager_oracle.decide(g, c, prof, **d) for g, c, d in cases]
    ta = TypeAdapter(list[Decision])
    assert ta.dump_json(lazy) == ta.dump_json(eager)


def test_validated_decisions_are_not_lazy() -> None:
    lazy, _ = _pair({"capability_tier": "high", "deployment": "general"})
    again = Decision.model_validate(lazy.model_dump(by_alias=True))
    assert type(again) is Decision and again == lazy
    assert isinstance(again.fired_rules[0], FiredRule)
