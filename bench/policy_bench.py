"""Policy engine benchmark: decisions per second and the exhaustive check, side by side
with a naive evaluator.

No peer tool decides JBG grades, so the peer is a *naive evaluator*: it reads the
profile's YAML rules (the parsed document) and interprets every condition for
every decision - what a straightforward implementation would do. It also serves
as an independent cross-check: every decision it makes must equal the compiled
engine's (action and obligations), and its brute-force check (every vector, every
single-step raise, every context combination) must agree with ``policy check``.

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
from jbgrade.rubric import SEVERITIES, Grade, default_tables, grade_many

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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sample", type=int, default=20_000, help="vectors for decide()/naive")
    ap.add_argument("--no-naive-check", action="store_true", help="skip the brute-force check")
    args = ap.parse_args()
    print(f"machine: {platform.machine()} {platform.processor() or ''} cpus={os.cpu_count()}")
    print(f"python {platform.python_version()}, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    print(f"load before: {os.getloadavg()}")
    vectors = all_vectors()
    grades = grade_many(vectors)  # index order = product order (used by naive_check)
    shuffled = list(grades)
    random.Random(1).shuffle(shuffled)
    sample = shuffled[: args.sample]
    profiles = load_all_profiles()
    print(f"{len(vectors):,} vectors; sample {len(sample):,} for decide() and the naive evaluator")
    print()
    head = (
        f"{'profile':16} {'compiled/s':>12} {'decide()/s':>11} {'naive/s':>9} "
        f"{'compiled/naive':>14} {'mismatches':>10}"
    )
    print(head)
    print("-" * len(head))
    for name, prof in profiles.items():
        ctx: dict[str, Any] = {}
        for g in shuffled:  # warm-up: compile, fill the outcome memo
            prof.evaluate(g, ctx)
        compiled = 0.0
        for _ in range(3):
            t0 = time.perf_counter()
            for g in shuffled:
                prof.evaluate(g, ctx)
            compiled = max(compiled, len(shuffled) / (time.perf_counter() - t0))
        full = 0.0
        for _ in range(2):
            t0 = time.perf_counter()
            for g in sample:
                decide(g, ctx, prof, aware_on="2026-06-12")
            full = max(full, len(sample) / (time.perf_counter() - t0))
        doc = prof.document
        t0 = time.perf_counter()
        naive = [naive_decide(doc, g, ctx) for g in sample]
        naive_rate = len(sample) / (time.perf_counter() - t0)
        mism = 0
        for g, got in zip(sample, naive, strict=True):
            out = prof.evaluate(g, ctx)
            mism += (out.action, frozenset(out.obligations)) != got
        print(
            f"{name:16} {compiled:12,.0f} {full:11,.0f} {naive_rate:9,.0f} "
            f"{compiled / naive_rate:13.1f}x {mism:10d}"
        )
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
