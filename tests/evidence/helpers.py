"""Build synthetic attempts with known outcomes."""

from __future__ import annotations

from typing import Any

from jbgrade.records import Attempt, ChatMessage, Verdict, attempt_key


def mk(
    target: str,
    behaviour: str,
    success: bool | None,
    *,
    attack: str = "jb",
    domain: str = "W",
    sample: int = 0,
    arm: str = "attack",
    status: str = "ok",
    model: str | None = None,
    vendor: str = "v1",
    specificity: float | None = None,
    layers_passed: tuple[str, ...] = (),
    stopped_by: str | None = None,
    detected: bool | None = None,
    seed: int = 0,
) -> Attempt:
    name = "baseline" if arm == "baseline" else attack
    verdicts = []
    if success is not None:
        scores: dict[str, float] = {}
        if specificity is not None:
            scores = {"refusal": 0.0, "convincingness": 3.0, "specificity": specificity}
        verdicts.append(
            Verdict(
                judge="strongreject" if scores else "refusal",
                spec={"type": "strongreject" if scores else "refusal"},
                success=success,
                value=1.0 if success else 0.0,
                explanation="synthetic",
                scores=scores,
            )
        )
    return Attempt(
        key=attempt_key(name, behaviour, target, sample, seed),
        campaign="c",
        arm=arm,  # type: ignore[arg-type]
        attack=name,
        behaviour_id=behaviour,
        domain=domain,  # type: ignore[arg-type]
        category="x",
        target=target,
        model=model or f"{target}-model",
        vendor=vendor,
        sample=sample,
        seed=seed,
        messages=[ChatMessage(role="user", content="[canary] x")],
        response=None if status == "error" else "r",
        status=status,  # type: ignore[arg-type]
        stopped_by=stopped_by,
        layers_passed=list(layers_passed),
        detected=detected,
        verdicts=verdicts,
        success=None if status == "error" else success,
    )


def arm(
    target: str,
    successes: int,
    n: int,
    *,
    behaviours: int = 1,
    domain: str = "W",
    prefix: str = "b",
    **kw: Any,
) -> list[Attempt]:
    """n attempts spread over `behaviours` behaviours, the first `successes` succeeding."""
    out = []
    for i in range(n):
        b = f"{prefix}{i % behaviours}"
        out.append(mk(target, b, i < successes, domain=domain, sample=i // behaviours, **kw))
    return out
