"""``jbgrade compare OLD NEW``: the same behaviours on two model versions, paired.

Attack-arm attempts are paired by (attack, behaviour, sample) - and target when
either campaign has several. Per hazard domain, the discordant pairs are
``worse`` (old failed, new succeeded: the jailbreak now works) and ``better``;
an exact McNemar test (two-sided binomial on the discordant pairs, p = 1/2)
gives a p-value, adjusted across domains by Holm's method. The verdict is
"regressed" when any domain is significantly worse, "improved" when none is and
some is significantly better, else "no detectable change"; each domain also
reports the smallest number of one-sided discordant pairs that its test could
have detected at all (its resolution), so "no detectable change" on five pairs
is not read as safety. The derived metrics of both campaigns are listed too.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from math import comb
from pathlib import Path
from typing import Any

from jbgrade._errors import InputError
from jbgrade.evidence import load_campaign_evidence, read_campaign_attempts

__all__ = ["Comparison", "DomainChange", "compare_campaigns", "mcnemar_exact"]

ALPHA = 0.05


def mcnemar_exact(better: int, worse: int) -> float:
    """Two-sided exact McNemar p-value from the discordant counts."""
    n = better + worse
    if n == 0:
        return 1.0
    k = min(better, worse)
    tail: float = sum(comb(n, i) for i in range(k + 1)) / float(2**n)
    return min(1.0, 2 * tail)


def _min_detectable(alpha: float) -> int:
    """Smallest n of all-one-sided discordant pairs whose exact test rejects at ``alpha``."""
    n = 1
    while mcnemar_exact(0, n) > alpha:
        n += 1
    return n


@dataclass
class DomainChange:
    domain: str
    pairs: int
    old_rate: float | None
    new_rate: float | None
    better: int
    worse: int
    p_value: float
    p_holm: float = 1.0
    significant: bool = False
    direction: str = "none"


@dataclass
class Comparison:
    old: str
    new: str
    pairs: int
    unpaired: int
    verdict: str
    responsible_domains: list[str]
    domains: list[DomainChange]
    min_detectable_pairs: int
    metrics: dict[str, dict[str, str | None]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _index(directory: Path) -> dict[tuple[str, ...], tuple[str, bool]]:
    atts = [
        a for a in read_campaign_attempts(directory) if a.arm == "attack" and a.success is not None
    ]
    many = len({a.target for a in atts}) > 1
    out: dict[tuple[str, ...], tuple[str, bool]] = {}
    for a in atts:
        key = (a.attack, a.behaviour_id, str(a.sample)) + ((a.target,) if many else ())
        out[key] = (a.domain, bool(a.success))
    return out


def compare_campaigns(old: Path, new: Path, alpha: float = ALPHA) -> Comparison:
    """Compare two campaign directories (see the module docstring)."""
    a, b = _index(old), _index(new)
    common = sorted(set(a) & set(b))
    if not common:
        raise InputError(
            "the two campaigns share no attack-arm attempt (attack, behaviour, sample)"
        )
    cells: dict[str, list[tuple[bool, bool]]] = {}
    for k in common:
        cells.setdefault(a[k][0], []).append((a[k][1], b[k][1]))
    rows = []
    for dom in ("G", "S", "W", "C"):
        pairs = cells.get(dom)
        if not pairs:
            continue
        better = sum(o and not n for o, n in pairs)
        worse = sum(n and not o for o, n in pairs)
        rows.append(
            DomainChange(
                domain=dom,
                pairs=len(pairs),
                old_rate=sum(o for o, _ in pairs) / len(pairs),
                new_rate=sum(n for _, n in pairs) / len(pairs),
                better=better,
                worse=worse,
                p_value=mcnemar_exact(better, worse),
            )
        )
    # Holm step-down over the domains
    order = sorted(rows, key=lambda r: r.p_value)
    running = 0.0
    for i, r in enumerate(order):
        running = max(running, min(1.0, (len(order) - i) * r.p_value))
        r.p_holm = running
        r.significant = r.p_holm < alpha
        if r.significant:
            r.direction = "worse" if r.worse > r.better else "better"
    worse_doms = [r.domain for r in rows if r.significant and r.direction == "worse"]
    better_doms = [r.domain for r in rows if r.significant and r.direction == "better"]
    verdict = "regressed" if worse_doms else "improved" if better_doms else "no detectable change"
    eo, en = load_campaign_evidence(old), load_campaign_evidence(new)
    metrics: dict[str, dict[str, str | None]] = {}
    for att in en.attacks:
        try:
            prev = eo.attack(att.attack)
        except InputError:
            continue
        for key, m in att.metrics.items():
            pm = prev.metrics.get(key)
            metrics[f"{att.attack}:{key}"] = {"old": pm.value if pm else None, "new": m.value}
    return Comparison(
        old=str(old),
        new=str(new),
        pairs=len(common),
        unpaired=len(set(a) ^ set(b)),
        verdict=verdict,
        responsible_domains=worse_doms or better_doms,
        domains=rows,
        min_detectable_pairs=_min_detectable(alpha / max(1, len(rows))),
        metrics=metrics,
    )
