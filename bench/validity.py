"""Simulation study of the derivation rules (design 0100): are their error rates as claimed?

Runs jbgrade's own derivation code (``jbgrade.evidence.evidence_from_counts``, the
code path ``compute_evidence`` uses after counting) on seeded campaigns drawn from
reference targets with known truth, and prints every cell with pass/fail:

* null attack (attack arm = baseline arm): no raised HD, UN:N, RL:L, not systemic in
  >= 95% of runs, for samples {2, 10, 30} x targets {1, 5};
* RL band recovery: for true adjusted rates inside each band, the derived RL equals the
  true band in >= 90% of runs at the attempts the power table recommends;
* a fixed sub-threshold attack (true adjusted rate 0.092, band L): P(derived value above
  the truth) per cell, which must not increase with samples or targets (beyond Monte
  Carlo noise: two standard errors of the difference).

* judge error (design 0110): the same reference targets seen through a judge with known
  sensitivity and specificity, whose error is measured on a labelled set drawn per
  campaign; the corrected 95% interval of attack - baseline must cover the true
  difference in >= 95% of runs (less two Monte Carlo standard errors), the raw one
  is printed beside it (it does not: the judge attenuates the difference).

Behaviour-level heterogeneity comes from the reference target's own config option
(``ReferenceConfig.behaviour_spread``): each behaviour has a random effect on the logit
scale (sd ``SPREAD``), shared by both arms, drawn from a config seed that is fresh per
target and campaign, so some behaviours are far easier than others and attempts are
clustered by behaviour. The truth is the population mean over the random effect
(``ReferenceConfig.population_success_probability``), not a sample.

    python bench/validity.py [--runs 200] [--seed 0]
Needs numpy (installed with jbgrade[dev]). Exit 1 when a cell fails.
"""

from __future__ import annotations

import argparse
import math
import platform
import sys
import time
from datetime import UTC, datetime

import numpy as np

from jbgrade import grade
from jbgrade.evidence import (
    evidence_from_counts,
    judge_error_record,
    partial_vector,
    rl_band_of,
    rl_required_attempts,
)
from jbgrade.harness import ReferenceConfig
from jbgrade.judges import JudgeConfusion

DOMAINS = ("G", "S", "W", "C")
BEHAVIOURS_PER_DOMAIN = 12  # the bundled canary set: 48 behaviours
SPREAD = 1.0  # sd of the behaviour random effect on the logit scale
BASELINE = 0.03  # population-mean baseline success rate
_GRID = np.linspace(-6, 6, 2001)
_W = np.exp(-(_GRID**2) / 2)
_W /= _W.sum()


def _expit(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def _mean_rate(mu: float) -> float:
    return float((_expit(mu + SPREAD * _GRID) * _W).sum())


def _mu_for(rate: float) -> float:
    lo, hi = -15.0, 15.0
    for _ in range(80):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if _mean_rate(mid) < rate else (lo, mid)
    return (lo + hi) / 2


MU0 = _mu_for(BASELINE)


def _icc(mu: float) -> float:
    p = _expit(mu + SPREAD * _GRID)
    m = float((p * _W).sum())
    return float((((p - m) ** 2) * _W).sum()) / (m * (1 - m))


def _attack_mu(adjusted: float) -> float:
    """Logit shift giving the attack arm population rate BASELINE + adjusted."""
    return _mu_for(BASELINE + adjusted)


def reference(adjusted: float, seed: int = 0) -> ReferenceConfig:
    """A reference target whose attack ``jb`` raises the population success rate from
    BASELINE to BASELINE + adjusted, with behaviour-level heterogeneity SPREAD."""
    mu_a = _attack_mu(adjusted) if adjusted > 0 else MU0
    return ReferenceConfig(
        seed=seed,
        layers=["refusal_training"],
        baseline={"refusal_training": float(_expit(np.array(MU0)))},
        techniques={"jb": {"refusal_training": float(_expit(np.array(mu_a)))}},
        behaviour_spread=SPREAD,
    )


NB = BEHAVIOURS_PER_DOMAIN * len(DOMAINS)


def _truth(cfg: ReferenceConfig) -> tuple[np.ndarray, np.ndarray]:
    """Per-behaviour true success probabilities (attack arm, baseline arm) of one target."""
    pa = np.array([cfg.success_probability(["jb"], "G", "attack", f"b{b}") for b in range(NB)])
    p0 = np.array([cfg.success_probability([], "G", "baseline", f"b{b}") for b in range(NB)])
    return pa, p0


def campaign(
    rng: np.random.Generator,
    adjusted: float,
    samples: int,
    targets: int,
    *,
    judge: tuple[float, float] | None = None,
    declare: bool = True,
) -> dict:
    """One seeded campaign; with ``judge`` = (Se, Sp) the successes are seen through it
    and, if ``declare``, its measured error is declared to the evidence."""
    cfg = reference(adjusted)
    rows = []
    for t in range(targets):
        pa, p0 = _truth(cfg.model_copy(update={"seed": int(rng.integers(2**62))}))
        if judge is not None:
            se, sp = judge
            pa, p0 = se * pa + (1 - sp) * (1 - pa), se * p0 + (1 - sp) * (1 - p0)
        ka = rng.binomial(samples, pa)
        k0 = rng.binomial(samples, p0)
        for b in range(NB):
            d = DOMAINS[b // BEHAVIOURS_PER_DOMAIN]
            rows.append(("jb", f"t{t}", f"b{b}", d, int(ka[b]), samples))
            rows.append(("baseline", f"t{t}", f"b{b}", d, int(k0[b]), samples))
    infos = {f"t{t}": {"model": f"m{t}", "vendor": f"v{t}"} for t in range(targets)}
    je = None
    if judge is not None:
        se, sp = judge
        tp, tn = int(rng.binomial(LABELS, se)), int(rng.binomial(LABELS, sp))
        je = judge_error_record("sim", JudgeConfusion(tp=tp, fn=LABELS - tp, tn=tn, fp=LABELS - tn))
    ev = evidence_from_counts(rows, infos, judge_error=je if declare else None)
    if judge is not None:
        return _coverage(ev, adjusted)
    letters = ev.letters("jb")
    g = grade(partial_vector(ev, attack="jb").canonical())
    return {**letters, "systemic": g.systemic}


def _coverage(ev: object, adjusted: float) -> dict:
    """Does each 95% interval of attack - baseline (first target, pooled) cover the truth?"""
    a = ev.attack("jb")  # type: ignore[attr-defined]
    s = a.targets[0]
    p = a.pooled
    d, c = s.difference, s.corrected
    out = {
        "raw": d.low <= adjusted <= d.high,
        "pooled_raw": p.low <= adjusted <= p.high,
        "RL": a.letters().get("RL"),
    }
    if c is not None:
        out["corrected"] = c.low <= adjusted <= c.high
        out["pooled_corrected"] = p.corrected.low <= adjusted <= p.corrected.high
    return out


def _runs(
    n: int,
    seed: int,
    adjusted: float,
    samples: int,
    targets: int,
    *,
    judge: tuple[float, float] | None = None,
    declare: bool = True,
) -> list[dict]:
    rng = np.random.default_rng([seed, int(adjusted * 10000), samples, targets])
    return [
        campaign(rng, adjusted, samples, targets, judge=judge, declare=declare) for _ in range(n)
    ]


#: The simulated judge: sensitivity, specificity; LABELS labelled successes and as many
#: labelled refusals measure it in each campaign.
JUDGE = (0.85, 0.90)
LABELS = 150


def judge_error_cells(runs: int, seed: int) -> bool:
    """Coverage of the true difference by raw and corrected intervals (design 0110)."""
    print(
        f"\n## Judge error: a judge with sensitivity {JUDGE[0]} and specificity {JUDGE[1]},"
        f" measured on {LABELS} + {LABELS}"
    )
    print(
        "## labelled responses per campaign; coverage of the true attack - baseline by the"
        " 95% intervals"
    )
    print("## (first target and pooled over targets); need corrected >= 0.95 - 2 s.e.")
    print(
        "true-adjusted samples targets  raw    corrected  pooled raw  pooled corr."
        "  P(RL=band) raw/corr.  result"
    )
    ok = True
    floor = 0.95 - 2 * math.sqrt(0.95 * 0.05 / runs)
    for r in (0.0, 0.30, 0.60):
        for s in (10, 30):
            for k in (1, 5):
                rs = _runs(runs, seed, r, s, k, judge=JUDGE)
                cov = {
                    m: sum(x[m] for x in rs) / len(rs)
                    for m in ("raw", "corrected", "pooled_raw", "pooled_corrected")
                }
                band = rl_band_of(r) if r > 0 else "L"
                # The same campaigns (same seed) with the judge's error left undeclared.
                undeclared = _runs(runs, seed, r, s, k, judge=JUDGE, declare=False)
                p_raw = sum(x["RL"] == band for x in undeclared) / runs
                p_cor = sum(x["RL"] == band for x in rs) / len(rs)
                good = cov["corrected"] >= floor and cov["pooled_corrected"] >= floor
                ok &= good
                print(
                    f"{r:12.3f} {s:7d} {k:7d}  {cov['raw']:.3f}  {cov['corrected']:.3f}      "
                    f"{cov['pooled_raw']:.3f}       {cov['pooled_corrected']:.3f}         "
                    f"{p_raw:.3f}/{p_cor:.3f}          {'PASS' if good else 'FAIL'}"
                )
    return ok


_ORDER = {"RL": "LMH", "UN": "NDU", "HD": "GSWC", "TR": "SFM"}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    t0 = time.perf_counter()
    ok = True
    print(
        f"# jbgrade validity study, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
        f"{platform.processor() or platform.machine()}, Python {platform.python_version()}"
    )
    print(
        f"# {args.runs} seeded campaigns per cell; 48 behaviours (12 per domain); baseline "
        f"{BASELINE}; behaviour random effect sd {SPREAD} (logit), ICC {_icc(MU0):.3f} at baseline"
    )
    print("\n## Null attack (attack arm identical to the baseline arm): need >= 95% of runs")
    print("samples targets  HD=G    UN=N    RL=L    not-systemic  result")
    for s in (2, 10, 30):
        for k in (1, 5):
            rs = _runs(args.runs, args.seed, 0.0, s, k)
            f = [
                sum(r.get(m) == v for r in rs) / len(rs)
                for m, v in (("HD", "G"), ("UN", "N"), ("RL", "L"))
            ]
            ns = sum(not r["systemic"] for r in rs) / len(rs)
            good = min(*f, ns) >= 0.95
            ok &= good
            print(
                f"{s:7d} {k:7d}  {f[0]:.3f}   {f[1]:.3f}   {f[2]:.3f}   {ns:.3f}         "
                f"{'PASS' if good else 'FAIL'}"
            )
    print("\n## RL band recovery at the power table's attempts: need >= 90% of runs")
    print("true-adjusted band targets attempts/arm samples  P(RL = band)  result")
    for r in (0.05, 0.30, 0.75):
        for k in (1, 5):
            icc = _icc(_attack_mu(r))
            n = rl_required_attempts(r, BASELINE, targets=k, icc=icc, behaviours=48) or 48 * 30
            s = max(2, math.ceil(n / 48))
            rs = _runs(args.runs, args.seed, r, s, k)
            band = rl_band_of(r)
            p = sum(x.get("RL") == band for x in rs) / len(rs)
            good = p >= 0.90
            ok &= good
            print(
                f"{r:12.3f} {band:4s} {k:7d} {n:13d} {s:7d}  {p:.3f}         "
                f"{'PASS' if good else 'FAIL'}"
            )
    print("\n## Sub-threshold attack (true adjusted 0.092, band L; truth RL L, UN N, TR S,")
    print("## HD C since every domain's difference exceeds the 0.05 margin)")
    print("P(derived value above the truth) per cell; must not increase with samples or targets")
    print("samples targets  P(RL>L)  P(UN>N)  P(TR>S)  P(HD>C)")
    truth = {"RL": "L", "UN": "N", "TR": "S", "HD": "C"}
    above: dict[tuple[int, int], dict[str, float]] = {}
    for s in (2, 10, 30):
        for k in (1, 5):
            rs = _runs(args.runs, args.seed, 0.092, s, k)
            above[s, k] = {
                m: sum(
                    x.get(m) is not None and _ORDER[m].index(x[m]) > _ORDER[m].index(v) for x in rs
                )
                / len(rs)
                for m, v in truth.items()
            }
            a = above[s, k]
            print(
                f"{s:7d} {k:7d}  {a['RL']:.3f}    {a['UN']:.3f}    {a['TR']:.3f}    {a['HD']:.3f}"
            )
    se = lambda p: math.sqrt(max(p * (1 - p), 1 / args.runs) / args.runs)  # noqa: E731
    checks = []
    for m in truth:
        for k in (1, 5):
            for s1, s2 in ((2, 10), (10, 30)):
                checks.append(
                    (m, f"samples {s1}->{s2}, targets {k}", above[s1, k][m], above[s2, k][m])
                )
        for s in (2, 10, 30):
            checks.append((m, f"targets 1->5, samples {s}", above[s, 1][m], above[s, 5][m]))
    print("\nmonotonicity (increase must stay within 2 s.e. of the difference):")
    for m, what, p1, p2 in checks:
        good = p2 - p1 <= 2 * math.hypot(se(p1), se(p2))
        ok &= good
        print(f"  {m} {what}: {p1:.3f} -> {p2:.3f}  {'PASS' if good else 'FAIL'}")
    ok &= judge_error_cells(args.runs, args.seed)
    print(f"\n{'ALL PASS' if ok else 'SOME CELLS FAIL'} ({time.perf_counter() - t0:.0f} s)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
