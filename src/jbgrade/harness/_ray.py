"""The Ray executor: the attempt grid spread over a Ray cluster (``--executor ray``).

- The **driver** (the ``jbgrade campaign run`` process) plans the grid, skips
  stored keys, hands out small batches of attempt keys and is the campaign
  directory's **single writer**: each attempt a worker returns is appended to
  the same ``attempts*.jsonl`` the local executor writes, by the same
  :class:`AttemptStore`, so the directory is identical in format.
- **Workers** (one async actor per alive node) rebuild the plan from the spec,
  run the attempts of a batch concurrently with the local runner's code and
  return the records.
- One **limiter** actor holds every target's pacing, tokens/min, Retry-After
  pauses, concurrency and the budget (see :mod:`._remote`).

At most ``limits.concurrency`` attempts are in flight in the whole cluster,
so a SIGKILLed worker or driver repeats at most that many attempts; keys the
store holds are never run again and a key is written once per run.
"""

from __future__ import annotations

import asyncio
import collections
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jbgrade._errors import InputError, TargetError
from jbgrade.harness._health import UNREACHABLE_STREAK
from jbgrade.harness._progress import QuietReporter, Reporter, RunSummary
from jbgrade.harness._remote import Limiter, RemoteLimits
from jbgrade.harness._runner import (
    CampaignPlan,
    WorkItem,
    _logged_run,
    _outcome,
    _Run,
    _to_run,
    build_plan,
    target_rates,
)
from jbgrade.harness._spec import CampaignSpec
from jbgrade.harness._store import AttemptStore, Shard
from jbgrade.records import Attempt

__all__ = ["run_campaign_ray"]

_to_json = Attempt.__pydantic_serializer__.to_json
#: How often a dead worker is replaced before the run gives up.
_MAX_REPLACEMENTS = 8


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise InputError(
            "--executor ray needs the ray extra: pip install 'jbgrade[ray]'", field="--executor"
        ) from None
    return ray


@dataclass
class _Batch:
    worker: int
    keys: list[str]


class Worker:
    """A Ray actor running batches of attempts (wrapped by ``ray.remote`` at run time)."""

    def __init__(  # noqa: PLR0917 - Ray passes an actor's arguments positionally
        self, spec: CampaignSpec, base_dir: str, spec_path: str | None, campaign: str,
        limiter: Any, holder: str, shard: tuple[int, int],
    ) -> None:  # fmt: skip
        self.plan = build_plan(spec, Path(base_dir), spec_path)
        self.items: dict[str, WorkItem] = {it.key: it for it in self.plan.items(Shard(*shard))}
        self.summary = RunSummary(campaign=campaign)
        lim = spec.limits
        count_tokens = lim.budget.tokens is not None or any(
            ts.tokens_per_min or lim.tokens_per_min for ts in spec.targets
        )
        self.run = _Run(
            self.plan,
            None,
            QuietReporter(),
            self.summary,
            remote=RemoteLimits(limiter, holder, count_tokens),
        )

    def pid(self) -> int:
        return os.getpid()

    async def run_batch(self, keys: list[str]) -> tuple[list[bytes], tuple[int, int, int], bool]:
        """The records of ``keys`` (those finished), this worker's requests, retries
        and tokens so far (batches overlap: the driver keeps the largest), and
        whether the budget stopped any of them."""
        done = await asyncio.gather(*(self.run.attempt(self.items[k]) for k in keys))
        s = self.summary
        cost = (s.requests, s.retries, s.tokens)
        return [_to_json(a) for a in done if a is not None], cost, any(a is None for a in done)


def _connect(address: str | None) -> tuple[Any, bool]:
    """Ray, connected (to ``address``, or a new local instance); True when this call
    connected it (and the run should disconnect at its end)."""
    ray = _ray()
    if ray.is_initialized():
        return ray, False
    kw: dict[str, Any] = {"log_to_driver": False, "configure_logging": False}
    if address:
        ray.init(address=address, **kw)
    else:
        ray.init(include_dashboard=False, **kw)
    return ray, True


async def run_campaign_ray(
    plan: CampaignPlan,
    store: AttemptStore,
    *,
    address: str | None = None,
    base_dir: Path | None = None,
    reporter: Reporter | None = None,
    shard: Shard | None = None,
    retry_errors: bool = False,
    campaign: str | None = None,
    workers: int | None = None,
) -> RunSummary:
    """Run every attempt of ``plan`` that ``store`` does not hold yet, on Ray."""
    ray, owned = _connect(address)
    reporter = reporter or QuietReporter()
    shard = shard or Shard()
    done, planned, already = _to_run(plan, store, shard, retry_errors)
    todo = collections.deque(it.key for it in plan.items(shard) if it.key not in done)
    summary = RunSummary(campaign=campaign or plan.spec.name, planned=planned, already_done=already)
    # The driver's _Run only records (store, counters, reporter) what the workers'
    # _Run.attempt returned: one code path for both executors.
    recorder = _Run(plan, store, reporter, summary)
    spec = plan.spec
    lim = spec.limits
    limiter = (
        ray.remote(Limiter)
        .options(num_cpus=0, max_concurrency=100_000)
        .remote(
            target_rates(spec),
            [ts.concurrency for ts in spec.targets],
            lim.budget.requests,
            lim.budget.tokens,
        )
    )
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    nodes = [n["NodeID"] for n in ray.nodes() if n.get("Alive")]
    n_workers = workers or len(nodes)
    base = str((base_dir or Path.cwd()).resolve())
    tag = f"{os.getpid()}-{int(time.time())}"

    def spawn(i: int) -> Any:
        return (
            ray.remote(Worker)
            .options(
                num_cpus=0,
                max_concurrency=100_000,
                scheduling_strategy=NodeAffinitySchedulingStrategy(
                    nodes[i % len(nodes)], soft=True
                ),
            )
            .remote(
                spec,
                base,
                plan.spec_path,
                summary.campaign,
                limiter,
                f"{tag}-{i}",
                (shard.index, shard.count),
            )
        )

    pool = [spawn(i) for i in range(n_workers)]
    holders = [f"{tag}-{i}" for i in range(n_workers)]
    replaced = 0
    cap = lim.concurrency
    batch = max(1, min(8, cap // (4 * n_workers)))
    load = [0] * n_workers
    pending: dict[asyncio.Future[Any], _Batch] = {}
    in_flight = 0
    counted: dict[str, tuple[int, int, int]] = {}
    budget = unreachable = False
    try:
        with _logged_run(store, reporter, summary, shard, executor="ray"):
            while pending or (todo and not (budget or unreachable)):
                while todo and not (budget or unreachable) and in_flight < cap:
                    keys = [todo.popleft() for _ in range(min(batch, cap - in_flight, len(todo)))]
                    w = min(range(n_workers), key=load.__getitem__)
                    fut = asyncio.ensure_future(pool[w].run_batch.remote(keys))
                    pending[fut] = _Batch(w, keys)
                    load[w] += len(keys)
                    in_flight += len(keys)
                finished, _ = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for fut in finished:
                    b = pending.pop(fut)
                    load[b.worker] -= len(b.keys)
                    in_flight -= len(b.keys)
                    try:
                        records, cost, abandoned = fut.result()
                    except ray.exceptions.RayError as exc:
                        # The worker died (or its node): its keys go back to the queue,
                        # its concurrency permits back to the limiter, and it is replaced.
                        todo.extendleft(reversed(b.keys))
                        if isinstance(exc, ray.exceptions.RayActorError):
                            limiter.release_holder.remote(holders[b.worker])
                            replaced += 1
                            if replaced > _MAX_REPLACEMENTS:
                                raise TargetError(
                                    f"Ray workers died {replaced} times; last: {exc}"
                                ) from None
                            nodes[:] = [n["NodeID"] for n in ray.nodes() if n.get("Alive")] or nodes
                            holders[b.worker] = f"{tag}-{b.worker}-{replaced}"
                            pool[b.worker] = spawn(b.worker)
                        continue
                    seen = counted.setdefault(holders[b.worker], (0, 0, 0))
                    if cost[0] > seen[0]:
                        summary.requests += cost[0] - seen[0]
                        summary.retries += cost[1] - seen[1]
                        summary.tokens += cost[2] - seen[2]
                        counted[holders[b.worker]] = cost
                    for raw in records:
                        a = Attempt.model_validate_json(raw)
                        if a.key in done:
                            continue  # never written twice in one run
                        done.add(a.key)
                        recorder.record(a)
                    if abandoned:
                        budget = True
                        summary.abandoned += sum(1 for k in b.keys if k not in done)
                    if recorder.unreachable_streak >= UNREACHABLE_STREAK:
                        unreachable = True
            summary.outcome = _outcome(summary, budget, unreachable)
    finally:
        try:
            for w in pool:
                ray.kill(w)
            ray.kill(limiter)
        except ray.exceptions.RayError:  # pragma: no cover - the cluster went away
            pass
        if owned:
            ray.shutdown()
    return summary
