"""The campaign runner: one asyncio process, bounded concurrency, retries, budget.

The unit of work is one attempt, keyed by
``attempt_key(attack, behaviour, target, sample, seed)``. Workers (as many as
the concurrency limit) pull attempts lazily from the plan, skip keys the
store already holds, and append each finished attempt to the store at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from datetime import UTC, datetime

# `as` re-exports (mypy --strict) for the other executor on this runner, harness/_ray.py.
from jbgrade.harness._attempt import _Run as _Run  # noqa: PLC0414
from jbgrade.harness._health import UNREACHABLE_STREAK
from jbgrade.harness._plan import (
    CampaignPlan,
    WorkItem,
    build_plan,
    request_seed,
)
from jbgrade.harness._plan import target_rates as target_rates  # noqa: PLC0414
from jbgrade.harness._progress import QuietReporter, Reporter, RunSummary
from jbgrade.harness._shared import SharedLimits
from jbgrade.harness._store import AttemptStore, Shard

__all__ = ["CampaignPlan", "WorkItem", "build_plan", "request_seed", "run_campaign"]


def _to_run(
    plan: CampaignPlan, store: AttemptStore, shard: Shard, retry_errors: bool
) -> tuple[set[str], int, int]:
    """The keys ``store`` holds, and how many attempts of this shard are planned
    and already stored."""
    done = store.completed(retry_errors=retry_errors)
    if shard.count == 1:
        # The store's manifest matched this plan, so every stored key is in the grid.
        return done, plan.planned, len(done)
    planned = already = 0
    for item in plan.items(shard):
        planned += 1
        already += item.key in done
    return done, planned, already


def _outcome(summary: RunSummary, budget: bool, unreachable: bool) -> str:
    """How a run that returned normally ended."""
    if budget and summary.remaining > 0:
        return "budget"
    if unreachable and summary.remaining > 0:
        return "unreachable"
    return "completed"


@contextlib.contextmanager
def _logged_run(
    store: AttemptStore,
    reporter: Reporter,
    summary: RunSummary,
    shard: Shard,
    *,
    executor: str | None = None,
    workers: dict[tuple[str, int], int] | None = None,
) -> Iterator[None]:
    """Report the run's start and end and append it to ``runs.jsonl`` (whichever
    executor ran it, and with ``workers`` where each worker process ran how many
    attempts); the body sets ``summary.outcome``, an interrupted run is logged as such."""
    t0 = time.perf_counter()
    started = datetime.now(UTC)
    reporter.start(summary)
    try:
        yield
    except asyncio.CancelledError:
        summary.outcome = "interrupted"
        raise
    finally:
        if summary.outcome == "running":
            summary.outcome = "completed"
        summary.wall_s = time.perf_counter() - t0
        store.log_run(
            {
                "started_at": started.isoformat(),
                "finished_at": datetime.now(UTC).isoformat(),
                "shard": f"{shard.index}/{shard.count}",
                **({"executor": executor} if executor is not None else {}),
                **summary.to_dict(),
                # The Ray executor's placement: attempts recorded per worker process.
                **(
                    {
                        "workers": [
                            {"node": node, "pid": pid, "attempts": n}
                            for (node, pid), n in sorted(workers.items())
                        ]
                    }
                    if workers is not None
                    else {}
                ),
            }
        )
        reporter.finish(summary)


async def run_campaign(
    plan: CampaignPlan,
    store: AttemptStore,
    *,
    reporter: Reporter | None = None,
    shard: Shard | None = None,
    retry_errors: bool = False,
    campaign: str | None = None,
) -> RunSummary:
    """Run every attempt of ``plan`` that ``store`` does not hold yet."""
    reporter = reporter or QuietReporter()
    shard = shard or Shard()
    done, planned, already = _to_run(plan, store, shard, retry_errors)
    summary = RunSummary(campaign=campaign or plan.spec.name, planned=planned, already_done=already)
    # Shards share rates, tokens/min, Retry-After pauses and the budget through
    # limits.sqlite in the campaign directory, and divide concurrency (see _shared).
    shared = SharedLimits(store.directory) if shard.count > 1 else None
    run = _Run(plan, store, reporter, summary, shared=shared, divide=shard.count)
    # One generator shared by the workers (advanced only between awaits).
    items = plan.items(shard)

    async def worker() -> None:
        for item in items:
            if item.key in done:
                continue
            if run.budget.exhausted or run.unreachable_streak >= UNREACHABLE_STREAK:
                return
            a = await run.attempt(item)
            if a is None:
                summary.abandoned += 1
                return
            run.record(a)

    n = min(-(-plan.spec.limits.concurrency // shard.count), max(1, planned - already))
    try:
        with _logged_run(store, reporter, summary, shard):
            await asyncio.gather(*(worker() for _ in range(n)))
            summary.outcome = _outcome(
                summary, run.budget.exhausted, run.unreachable_streak >= UNREACHABLE_STREAK
            )
    finally:
        if shared is not None:
            shared.close()
    return summary
