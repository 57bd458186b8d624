#!/usr/bin/env python3
"""Calibration and dispute speed; our Krippendorff's alpha side by side with ``krippendorff``.

1. alpha: one ordinal alpha over random reliability data (coders x units), our pure-Python
   implementation vs the ``krippendorff`` package (numpy), same data, same process;
   prints both rates and the ratio (values are checked equal first).
2. bootstrap: 1000 replicates resampling units: ours (each unit's share of the
   coincidence matrix computed once) vs calling the package on each resampled matrix.
3. calibrate: the whole shipped pack (examples/calibration), 13 variables x 1000 replicates.
4. dispute: the exhaustive analysis of two assessments differing on all 11 metrics, under
   every shipped profile (2^11 combinations, 3^11 patterns per profile).

Usage: PYTHONPATH=src python bench/assess_bench.py [--units N] [--coders N] [--repeat R]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from jbgrade.assess import (
    DisputeSide,
    PolicyDecider,
    alpha_with_interval,
    calibrate,
    dispute,
    krippendorff_alpha,
    load_calibration_dir,
)
from jbgrade.rubric import parse_vector

ROOT = Path(__file__).resolve().parents[1]


def best_of(repeat: int, fn: Callable[[], Any]) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def data(coders: int, units: int, seed: int = 1) -> list[list[int | None]]:
    rng = random.Random(seed)
    out: list[list[int | None]] = []
    for _ in range(coders):
        row: list[int | None] = []
        for u in range(units):
            truth = (u * 7) % 5 + 1
            v = truth if rng.random() < 0.7 else rng.randint(1, 5)
            row.append(None if rng.random() < 0.1 else v)
        out.append(row)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--units", type=int, default=200)
    ap.add_argument("--coders", type=int, default=4)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    cpu = platform.processor() or platform.machine()
    print(
        f"# {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {cpu}, {os.cpu_count()} CPUs, "
        f"load {os.getloadavg()[0]:.2f}, Python {platform.python_version()}"
    )

    coders = data(args.coders, args.units)
    units = list(zip(*coders, strict=True))
    ours = krippendorff_alpha(units, "ordinal")
    try:
        import krippendorff
        import numpy as np
    except ImportError:
        krippendorff = None  # type: ignore[assignment]
    print(f"alpha ({args.coders} coders x {args.units} units, ordinal) = {ours:.6f}")
    t_ours = best_of(args.repeat, lambda: krippendorff_alpha(units, "ordinal"))
    print(f"  ours          {t_ours * 1e3:8.2f} ms")
    if krippendorff is not None:
        arr = np.array([[np.nan if v is None else v for v in r] for r in coders], dtype=float)
        theirs = krippendorff.alpha(reliability_data=arr, level_of_measurement="ordinal")
        assert abs(theirs - (ours or 0)) < 1e-9, (theirs, ours)
        t_kp = best_of(
            args.repeat,
            lambda: krippendorff.alpha(reliability_data=arr, level_of_measurement="ordinal"),
        )
        print(
            f"  krippendorff  {t_kp * 1e3:8.2f} ms   ratio ours/theirs time = {t_ours / t_kp:.2f}"
        )

    reps = 1000
    t_boot = best_of(1, lambda: alpha_with_interval(units, "ordinal", replicates=reps, seed=3))
    print(f"bootstrap {reps} replicates")
    print(f"  ours          {t_boot:8.2f} s")
    if krippendorff is not None:
        rng = random.Random(3)

        def kp_boot() -> None:
            n = arr.shape[1]
            for _ in range(reps):
                idx = [rng.randrange(n) for _ in range(n)]
                with np.errstate(divide="ignore", invalid="ignore"):
                    krippendorff.alpha(reliability_data=arr[:, idx], level_of_measurement="ordinal")

        t_kboot = best_of(1, kp_boot)
        print(f"  krippendorff  {t_kboot:8.2f} s   ratio ours/theirs time = {t_boot / t_kboot:.2f}")

    pack = load_calibration_dir(ROOT / "examples" / "calibration")
    t_cal = best_of(1, lambda: calibrate(pack, replicates=1000))
    print(f"calibrate examples/calibration (13 variables x 1000 replicates): {t_cal:.2f} s")

    lo = "JBG:1.0/LY:M/UN:N/RL:L/TR:S/HD:G/UP:N/AG:T/AC:H/AU:N/EX:R/ST:U"
    hi = "JBG:1.0/LY:F/UN:U/RL:H/TR:M/HD:C/UP:F/AG:A/AC:L/AU:Y/EX:O/ST:A"
    ctx = {"weights": "closed", "training_compute_flop": 3e26}

    def side(v: str) -> DisputeSide:
        return DisputeSide(
            assessor="x",
            organisation="o",
            role="lab",
            case_id="c",
            source="s",
            sha256="0" * 64,
            vector=parse_vector(v),
            aware_on=date(2026, 6, 12),
            context=ctx,
            profiles=[],
        )

    decider = PolicyDecider()
    t_dis = best_of(1, lambda: dispute(side(lo), side(hi), decider))
    print(
        f"dispute, 11 differing metrics x {len(decider.profiles())} profiles (exhaustive): "
        f"{t_dis:.2f} s"
    )


if __name__ == "__main__":
    main()
