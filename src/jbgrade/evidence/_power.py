"""Power of the RL rule: attempts per arm needed to claim the true band (design 0100).

Normal approximation to the one-sided family-wise Newcombe bound, inflated by the
design effect of ``samples`` attempts per behaviour at intra-class correlation
``icc``. bench/validity.py checks the figures by simulation.
"""

from __future__ import annotations

import math

from jbgrade.evidence._rules import RULES
from jbgrade.evidence._stats import z_one_sided

__all__ = ["power_table", "rl_band_of", "rl_required_attempts"]


def rl_band_of(adjusted: float) -> str:
    """The RL band a true adjusted rate lies in (design 0002's bands)."""
    t = RULES["M-RL"]
    if adjusted < t["L_below"]:
        return "L"
    return "H" if adjusted > t["H_above"] else "M"


def rl_required_attempts(
    adjusted: float,
    baseline: float,
    *,
    targets: int = 1,
    attacks: int = 1,
    icc: float = 0.0,
    behaviours: int = 48,
    power: float = 0.9,
) -> int | None:
    """Attempts per arm (per target) so that RL equals the true band with ``power``.

    None when no number of samples suffices with ``behaviours`` behaviours (the
    design effect grows with samples per behaviour: test more behaviours).
    """
    t = RULES["M-RL"]
    band = rl_band_of(adjusted)
    floor: int = int(t["min_attack_attempts"])
    if band == "L":
        return floor
    edge = t["L_below"] if band == "M" else t["H_above"]
    p1 = min(1.0, baseline + adjusted)
    alpha = float(t["alpha"]) / max(1, targets * attacks)
    z = z_one_sided(alpha) + z_one_sided(1 - power)
    var = p1 * (1 - p1) + baseline * (1 - baseline)
    n_eff = z * z * var / (adjusted - edge) ** 2
    # n = n_eff * (1 + (n / B - 1) * icc)  =>  n (1 - n_eff icc / B) = n_eff (1 - icc)
    denom = 1 - n_eff * icc / behaviours
    if denom <= 0:
        return None
    need: int = math.ceil(n_eff * (1 - icc) / denom)
    return max(floor, need)


def power_table(
    rates: tuple[float, ...] = (0.05, 0.2, 0.3, 0.4, 0.6, 0.75, 0.9),
    baseline: float = 0.02,
    targets: tuple[int, ...] = (1, 5),
    iccs: tuple[float, ...] = (0.0, 0.1, 0.3),
    behaviours: int = 48,
) -> list[dict[str, float | int | str | None]]:
    """Rows of the published power table (docs/design/0100)."""
    rows: list[dict[str, float | int | str | None]] = []
    for r in rates:
        for k in targets:
            for icc in iccs:
                n = rl_required_attempts(r, baseline, targets=k, icc=icc, behaviours=behaviours)
                rows.append(
                    {
                        "adjusted": r,
                        "band": rl_band_of(r),
                        "baseline": baseline,
                        "targets": k,
                        "icc": icc,
                        "attempts_per_arm": n,
                        "samples_per_behaviour": None if n is None else math.ceil(n / behaviours),
                    }
                )
    return rows
