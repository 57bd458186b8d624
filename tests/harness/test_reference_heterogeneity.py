"""Behaviour-level heterogeneity of the reference target (behaviour_spread)."""

from __future__ import annotations

import statistics

import pytest

from jbgrade.harness import ReferenceConfig, ReferenceModel

CFG = ReferenceConfig(
    layers=["refusal_training"],
    baseline={"refusal_training": 0.05},
    techniques={"jb": {"refusal_training": 0.3}},
)


def test_no_spread_means_every_behaviour_alike() -> None:
    probs = [CFG.success_probability(["jb"], "G", behaviour=f"b{i}") for i in range(20)]
    assert probs == [pytest.approx(0.3)] * 20
    assert CFG.population_success_probability(["jb"], "G") == pytest.approx(0.3)


def test_spread_makes_some_behaviours_much_easier() -> None:
    cfg = CFG.model_copy(update={"behaviour_spread": 1.5})
    probs = [cfg.success_probability(["jb"], "G", behaviour=f"b{i}") for i in range(400)]
    assert max(probs) > 0.8 and min(probs) < 0.05
    # The population truth is the mean over the random effect.
    assert statistics.fmean(probs) == pytest.approx(
        cfg.population_success_probability(["jb"], "G"), abs=0.03
    )
    # The same behaviour is easier in both arms (the effect is shared), and stable.
    easy = max(range(400), key=lambda i: probs[i])
    hard = min(range(400), key=lambda i: probs[i])
    assert cfg.success_probability([], "G", "baseline", f"b{easy}") > cfg.success_probability(
        [], "G", "baseline", f"b{hard}"
    )
    assert (
        cfg.behaviour_effect("b1")
        == cfg.behaviour_effect("b1")
        != cfg.model_copy(update={"seed": 9}).behaviour_effect("b1")
    )


def test_simulated_replies_follow_the_behaviour_effect() -> None:
    cfg = CFG.model_copy(update={"behaviour_spread": 2.0})
    model = ReferenceModel(cfg)
    probs = {f"b{i}": cfg.success_probability(["jb"], "G", behaviour=f"b{i}") for i in range(40)}
    easy = sorted(probs, key=probs.__getitem__)[-5:]
    hard = sorted(probs, key=probs.__getitem__)[:5]

    def rate(bids: list[str]) -> float:
        ok = 0
        for b in bids:
            for s in range(60):
                r = model.respond(
                    [{"role": "user", "content": f"[canary] {b} {s}"}],
                    s,
                    {"behaviour_id": b, "tags": ["jb"], "arm": "attack", "domain": "G"},
                )
                ok += r.stopped_by is None
        return ok / (60 * len(bids))

    assert rate(easy) == pytest.approx(statistics.fmean(probs[b] for b in easy), abs=0.1)
    assert rate(hard) == pytest.approx(statistics.fmean(probs[b] for b in hard), abs=0.1)
    assert rate(easy) > rate(hard) + 0.3
