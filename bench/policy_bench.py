"""Policy engine benchmark: decisions per second and the exhaustive check, side by side
with a naive evaluator.

No peer tool decides JBG grades, so the peer is a *naive evaluator*: it reads the
profile's YAML rules (the parsed document) and interprets every condition for
every decision - what a straightforward implementation would do. It also serves
as an independent cross-check: every decision it makes must equal the engine's
(action and obligations, from ``decide()``), and its brute-force check (every
vector, every single-step raise, every context combination) must agree with
``policy check``.

The workload is what users call: ``decide(grade, context, profile, aware_on=...)``
on random vectors (about 1 in 4 with at least one X), each with one of 48 random
contexts of the profile (missing and given fields, numeric values at and around
thresholds) and one of 4 awareness dates. Columns:

* compiled core - ``Profile.evaluate``: action, obligation and rule ids only;
* ``decide()`` - the public call, returning a complete ``Decision`` (action,
  obligations with due dates, provisional, hashes; the explanation is computed
  when first read or serialised), given a Grade and a loaded Profile;
* ``(str,name)`` - the same call given the vector string and the profile name
  (parses the vector, looks the name up), as the CLI, API and most scripts do;
* applies - the share of decisions where the profile's applicability gate holds
  (the rest decide "none" at once; 5 in 6 of the contexts are applicable ones);
* ``decide()+to_dict()`` - the call plus its JSON form, which computes the whole
  explanation (fired rules with actual values, near-miss search) and serialises
  it: "cold" is the first pass on a freshly loaded profile (empty memos), "warm"
  the best later pass over the same inputs.

Run:  PYTHONPATH=src python bench/policy_bench.py [--sample N] [--no-naive-check]
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.resources as res
import itertools
import os
import platform
import random
import time
from typing import Any

from jbgrade.policy import (
    ACTIONS,
    Profile,
    check_profile,
    decide,
    load_all_profiles,
    parse_profile,
)
from jbgrade.policy._enum import context_points
from jbgrade.rubric import NOT_ASSESSED, SEVERITIES, Grade, default_tables, grade_many

T = default_tables()
_RANK = {a: i for i, a in enumerate(ACTIONS)}


# -- the naive evaluator (the peer) ---------------------------------------------------


def _order(on: str, field: dict[str, Any] | None) -> list[Any]:
    if on == "severity":
        return list(SEVERITIES)
    if on in ("BP", "EC", "RI"):
        return list(range(len(T.levels)))
    if field is not None:
        return list(field.get("values", []))
    return list(T.metric(on).letters)


def _holds(on: str, ops: dict[str, Any], value: Any, field: dict[str, Any] | None) -> bool:
    numeric = on == "score" or (field is not None and field["type"] == "number")
    for op, bound in ops.items():
        if numeric:
            v = float(value)
            ok = {
                "at_least": v >= bound,
                "above": v > bound,
                "at_most": v <= bound,
                "below": v < bound,
            }[op]
        else:
            order = _order(on, field)
            b = bound
            if on in ("BP", "EC", "RI"):
                conv = [
                    T.levels.index(x) if x in T.levels else x for x in (b if op == "in" else [b])
                ]
                b = conv if op == "in" else conv[0]
            if op == "in":
                ok = value in b
            elif op == "at_least":
                ok = order.index(value) >= order.index(b)
            else:
                ok = order.index(value) <= order.index(b)
        if not ok:
            return False
    return True


def naive_decide(doc: dict[str, Any], g: Grade, ctx: dict[str, Any]) -> tuple[str, frozenset[str]]:
    """Interpret the YAML rules directly for one decision (no compilation, no caches)."""
    fields = doc.get("context", {})
    values = {n: ctx.get(n, f["default"]) for n, f in fields.items()}
    gates = doc.get("applies_when")
    if gates and not any(
        all(_holds(n, ops, values[n], fields[n]) for n, ops in gate.items()) for gate in gates
    ):
        return "none", frozenset()
    letters = {k: (T.metric(k).worst if v == "X" else v) for k, v in g.letters.items()}
    criteria: dict[str, Any] | None = None
    rank, obs, fired = 0, set(), 0
    for rule in doc["rules"]:
        ok = True
        for key, cond in rule["when"].items():
            if key == "context":
                ok = all(_holds(n, ops, values[n], fields[n]) for n, ops in cond.items())
            elif key == "systemic":
                ok = g.systemic == cond
            elif key == "provisional":
                ok = g.provisional == cond
            elif key == "severity":
                ok = _holds(key, cond, g.severity, None)
            elif key == "score":
                ok = _holds(key, cond, g.score, None)
            elif key in ("BP", "EC", "RI"):
                if criteria is None:
                    criteria = g.criteria
                ok = _holds(key, cond, criteria[key]["level"], None)
            else:
                ok = _holds(key, cond, letters[key], None)
            if not ok:
                break
        if ok:
            fired += 1
            rank = max(rank, _RANK[rule["action"]])
            obs.update(rule.get("obligations", []))
    if not fired:
        raise RuntimeError(f"coverage gap at {g.vector}")
    return ACTIONS[rank], frozenset(obs)


def naive_check(prof: Profile, grades: list[Grade]) -> tuple[int, int]:
    """Brute force: decide every (vector, context), then compare every single-step raise.

    Returns (points decided, monotonicity violations).
    """
    doc = prof.document
    _names, _reps, points = context_points([prof.compiled])
    metrics = T.metrics
    strides = []
    s = 1
    for m in reversed(metrics):
        strides.append(s)
        s *= len(m.letters)
    strides.reverse()
    violations = 0
    for pt in points:
        dec = [naive_decide(doc, g, pt.values) for g in grades]
        for idx in range(len(grades)):
            rest = idx
            for mi, m in enumerate(metrics):
                li = (rest // strides[mi]) % len(m.letters)
                if li + 1 < len(m.letters):
                    a, b = dec[idx], dec[idx + strides[mi]]
                    if _RANK[b[0]] < _RANK[a[0]] or not a[1] <= b[1]:
                        violations += 1
    return len(grades) * len(points), violations


# -- the run ------------------------------------------------------------------------


def all_vectors() -> list[str]:
    return [
        T.prefix + "/".join(f"{m.key}:{v}" for m, v in zip(T.metrics, c, strict=True))
        for c in itertools.product(*[m.letters for m in T.metrics])
    ]


def random_vectors(n: int, rng: random.Random) -> list[str]:
    """Random vectors; a metric is X with probability 1/40 (about 1 vector in 4 has an X)."""
    out = []
    for _ in range(n):
        letters = [
            NOT_ASSESSED if rng.random() < 0.025 else rng.choice(m.letters) for m in T.metrics
        ]
        out.append(
            T.prefix + "/".join(f"{m.key}:{v}" for m, v in zip(T.metrics, letters, strict=True))
        )
    return out


def random_contexts(prof: Profile, n: int, rng: random.Random) -> list[dict[str, Any]]:
    """``n`` distinct-ish contexts: each declared field given (a random value) or left to
    its default. Five in six are contexts where the profile applies: a decision where
    it does not is trivially "none", and a mix dominated by those would flatter."""
    applies: list[dict[str, Any]] = []
    not_applies: list[dict[str, Any]] = []
    for _ in range(100 * n):
        ctx: dict[str, Any] = {}
        for name, f in prof.context.items():
            if rng.random() < 0.25:
                continue
            if f.type == "enum":
                ctx[name] = rng.choice(f.values)
            else:
                ctx[name] = rng.choice([0, 1e23, 1e25, 3e25, 1e26, 2e26, 1e27])
        (applies if prof.compiled.context(ctx).applicable else not_applies).append(ctx)
        if len(applies) >= n * 5 // 6 and len(not_applies) >= n // 6:
            break
    out = applies[: n * 5 // 6] + not_applies[: n // 6]
    return out + applies[: n - len(out)]  # profiles without gates: all apply


def _rate(n: int, seconds: float) -> float:
    return n / seconds if seconds > 0 else float("inf")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sample", type=int, default=20_000, help="random (vector, context) pairs")
    ap.add_argument("--no-naive-check", action="store_true", help="skip the brute-force check")
    args = ap.parse_args()
    print(f"machine: {platform.machine()} {platform.processor() or ''} cpus={os.cpu_count()}")
    print(f"python {platform.python_version()}, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    print(f"load before: {os.getloadavg()}")
    vectors = all_vectors()
    grades = grade_many(vectors)  # index order = product order (used by naive_check)
    rng = random.Random(1)
    sample = grade_many(random_vectors(args.sample, rng))
    with_x = sum(g.provisional for g in sample)
    dates = ["2026-06-12", "2026-06-15", "2026-07-01", "2026-12-24"]
    profiles = load_all_profiles()
    print(
        f"{args.sample:,} random (vector, context, date) decisions per profile; "
        f"{with_x:,} vectors with X; 48 contexts and {len(dates)} dates per profile"
    )
    print()
    head = (
        f"{'profile':16} {'core/s':>9} {'decide()/s':>11} {'(str,name)/s':>12} "
        f"{'+to_dict cold/s':>16} "
        f"{'+to_dict warm/s':>16} {'naive/s':>8} {'decide/naive':>12} {'mismatches':>10} "
        f"{'applies':>8}"
    )
    print(head)
    print("-" * len(head))
    goal_met = True
    for name, prof in profiles.items():
        ctxs = random_contexts(prof, 48, rng)
        work = [(g, rng.choice(ctxs), rng.choice(dates)) for g in sample]
        # decide()+to_dict() on a freshly loaded profile: every memo starts empty.
        text = res.files("jbgrade.policy").joinpath(f"data/profiles/{name}.yaml").read_text()
        fresh = parse_profile(text, f"{name}.yaml")
        _ = fresh.compiled  # compile outside the timing (a loaded profile compiles once)
        t0 = time.perf_counter()
        for g, ctx, day in work:
            decide(g, ctx, fresh, aware_on=day).to_dict()
        cold = _rate(len(work), time.perf_counter() - t0)
        for g, ctx, _day in work:  # warm-up: compile, fill the outcome and context memos
            prof.evaluate(g, ctx)
        core = 0.0
        for _ in range(3):
            t0 = time.perf_counter()
            for g, ctx, _day in work:
                prof.evaluate(g, ctx)
            core = max(core, _rate(len(work), time.perf_counter() - t0))
        full = 0.0
        for _ in range(3):
            t0 = time.perf_counter()
            for g, ctx, day in work:
                decide(g, ctx, prof, aware_on=day)
            full = max(full, _rate(len(work), time.perf_counter() - t0))
        by_name = 0.0  # the everyday call: a vector string and a profile name
        for _ in range(2):
            t0 = time.perf_counter()
            for g, ctx, day in work:
                decide(g.vector, ctx, name, aware_on=day)
            by_name = max(by_name, _rate(len(work), time.perf_counter() - t0))
        warm = 0.0
        for _ in range(2):
            t0 = time.perf_counter()
            for g, ctx, day in work:
                decide(g, ctx, prof, aware_on=day).to_dict()
            warm = max(warm, _rate(len(work), time.perf_counter() - t0))
        doc = prof.document
        t0 = time.perf_counter()
        naive = [naive_decide(doc, g, ctx) for g, ctx, _day in work]
        naive_rate = _rate(len(work), time.perf_counter() - t0)
        mism = applicable = 0
        for (g, ctx, day), got in zip(work, naive, strict=True):
            d = decide(g, ctx, prof, aware_on=day)
            mism += (d.action, frozenset(o.id for o in d.obligations)) != got
            applicable += prof.compiled.context(ctx).applicable
        goal_met &= full > 100_000
        print(
            f"{name:16} {core:9,.0f} {full:11,.0f} {by_name:12,.0f} {cold:16,.0f} {warm:16,.0f} "
            f"{naive_rate:8,.0f} {full / naive_rate:11.1f}x {mism:10d} "
            f"{applicable / len(work):8.0%}"
        )
    print(f"goal: decide() over 100,000/s for every profile: {'met' if goal_met else 'NOT met'}")
    print()
    # Exhaustive check of all shipped profiles (the same code 'jbgrade policy check' runs).
    # Fresh profile objects so compilation is included in the timing.
    t0 = time.perf_counter()
    reports = []
    for n in profiles:
        text = res.files("jbgrade.policy").joinpath(f"data/profiles/{n}.yaml").read_text()
        reports.append(check_profile(parse_profile(text, f"{n}.yaml")))
    check_s = time.perf_counter() - t0
    points = sum(r.stats["points"] for r in reports)
    print(
        f"exhaustive check, all {len(reports)} shipped profiles (parse + compile + check): "
        f"{check_s:.2f} s for {points:,} (vector, context) points and "
        f"{sum(r.stats['single_step_raises'] * r.stats['context_combinations'] for r in reports):,}"
        f" single-step raises; all ok: {all(r.ok for r in reports)}"
    )
    if not args.no_naive_check:
        t0 = time.perf_counter()
        total, viol = 0, 0
        for prof in profiles.values():
            n, v = naive_check(prof, grades)
            total += n
            viol += v
        naive_s = time.perf_counter() - t0
        print(
            f"naive brute-force check (every vector x context decided by the naive evaluator, "
            f"every single-step raise compared): {naive_s:.1f} s, {total:,} points, "
            f"{viol} violations"
        )
        print(f"check speed-up: {naive_s / check_s:.0f}x")
    print(f"load after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
