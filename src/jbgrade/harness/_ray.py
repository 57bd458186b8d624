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
            ts.tokens_per_min or lim.tokens_per_min for ts in spec.senders
        )
        self.run = _Run(
            self.plan,
            None,
            QuietReporter(),
            self.summary,
            remote=RemoteLimits(limiter, holder, count_tokens),
        )
        self.where = (str(_ray().get_runtime_context().get_node_id()), os.getpid())

    def pid(self) -> int:
        return os.getpid()

    async def run_batch(
        self, keys: list[str]
    ) -> tuple[list[bytes], tuple[int, int, int], bool, tuple[str, int]]:
        """The records of ``keys`` (those finished), this worker's requests, retries
        and tokens so far (batches overlap: the driver keeps the largest), whether
        the budget stopped any of them, and where it ran (node id, process id)."""
        done = await asyncio.gather(*(self.run.attempt(self.items[k]) for k in keys))
        s = self.summary
        cost = (s.requests, s.retries, s.tokens)
        records = [_to_json(a) for a in done if a is not None]
        return records, cost, any(a is None for a in done), self.where


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
    summary = RunSummary(campaign=campaign or plan.spec.name, planned=planned, already_done=already)
    driver = _Driver(ray, plan, store, reporter, summary, shard, done, base_dir, workers)
    try:
        with _logged_run(store, reporter, summary, shard, executor="ray", workers=driver.placed):
            await driver.run()
            summary.outcome = _outcome(summary, driver.budget, driver.unreachable)
    finally:
        driver.close()
        if owned:
            ray.shutdown()
    return summary


class _Driver:
    """The driver's side of one run: the worker pool, the queue of keys, and the
    records the workers return (written through the local executor's ``_Run``)."""

    def __init__(  # noqa: PLR0917 - the run's parts, built once by run_campaign_ray
        self, ray: Any, plan: CampaignPlan, store: AttemptStore, reporter: Reporter,
        summary: RunSummary, shard: Shard, done: set[str], base_dir: Path | None,
        workers: int | None,
    ) -> None:  # fmt: skip
        self.ray, self.plan, self.summary, self.shard, self.done = ray, plan, summary, shard, done
        self.todo = collections.deque(it.key for it in plan.items(shard) if it.key not in done)
        # The driver's _Run only records (store, counters, reporter) what the workers'
        # _Run.attempt returned: one code path for both executors.
        self.recorder = _Run(plan, store, reporter, summary)
        lim = plan.spec.limits
        self.limiter = (
            ray.remote(Limiter)
            .options(num_cpus=0, max_concurrency=100_000)
            .remote(
                target_rates(plan.spec),
                [ts.concurrency for ts in plan.spec.senders],
                lim.budget.requests,
                lim.budget.tokens,
            )
        )
        self.nodes = [n["NodeID"] for n in ray.nodes() if n.get("Alive")]
        self.n_workers = workers or len(self.nodes)
        self.base = str((base_dir or Path.cwd()).resolve())
        self.tag = f"{os.getpid()}-{int(time.time())}"
        self.pool = [self._spawn(i) for i in range(self.n_workers)]
        self.holders = [f"{self.tag}-{i}" for i in range(self.n_workers)]
        self.replaced = 0
        self.cap = lim.concurrency
        self.batch = max(1, min(8, self.cap // (4 * self.n_workers)))
        self.load = [0] * self.n_workers
        self.pending: dict[asyncio.Future[Any], _Batch] = {}
        self.in_flight = 0
        self.counted: dict[str, tuple[int, int, int]] = {}
        self.budget = self.unreachable = False
        self.placed: dict[tuple[str, int], int] = {}  # (node, pid) -> attempts recorded

    def _spawn(self, i: int) -> Any:
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        return (
            self.ray.remote(Worker)
            .options(
                num_cpus=0,
                max_concurrency=100_000,
                # Hard affinity: a soft one was seen to place both workers of a
                # two-node cluster on one node. A node that dies (or is gone when the
                # worker is created) fails the worker, and _replace places a new one
                # on a node alive then.
                scheduling_strategy=NodeAffinitySchedulingStrategy(
                    self.nodes[i % len(self.nodes)], soft=False
                ),
            )
            .remote(
                self.plan.spec,
                self.base,
                self.plan.spec_path,
                self.summary.campaign,
                self.limiter,
                f"{self.tag}-{i}",
                (self.shard.index, self.shard.count),
            )
        )

    def _stopped(self) -> bool:
        return self.budget or self.unreachable

    async def run(self) -> None:
        while self.pending or (self.todo and not self._stopped()):
            while self.todo and not self._stopped() and self.in_flight < self.cap:
                self._submit()
            finished, _ = await asyncio.wait(self.pending, return_when=asyncio.FIRST_COMPLETED)
            for fut in finished:
                self._collect(fut)

    def _submit(self) -> None:
        n = min(self.batch, self.cap - self.in_flight, len(self.todo))
        keys = [self.todo.popleft() for _ in range(n)]
        w = min(range(self.n_workers), key=self.load.__getitem__)
        fut = asyncio.ensure_future(self.pool[w].run_batch.remote(keys))
        self.pending[fut] = _Batch(w, keys)
        self.load[w] += len(keys)
        self.in_flight += len(keys)

    def _collect(self, fut: asyncio.Future[Any]) -> None:
        b = self.pending.pop(fut)
        self.load[b.worker] -= len(b.keys)
        self.in_flight -= len(b.keys)
        try:
            records, cost, abandoned, where = fut.result()
        except self.ray.exceptions.RayError as exc:
            # The worker died (or its node): its keys go back to the queue.
            self.todo.extendleft(reversed(b.keys))
            dead = (self.ray.exceptions.RayActorError, self.ray.exceptions.ActorUnschedulableError)
            if isinstance(exc, dead):
                self._replace(b.worker, exc)
            return
        self._count(self.holders[b.worker], cost)
        for raw in records:
            a = Attempt.model_validate_json(raw)
            if a.key in self.done:
                continue  # never written twice in one run
            self.done.add(a.key)
            self.recorder.record(a)
            self.placed[where] = self.placed.get(where, 0) + 1
        if abandoned:
            self.budget = True
            self.summary.abandoned += sum(1 for k in b.keys if k not in self.done)
        if self.recorder.unreachable_streak >= UNREACHABLE_STREAK:
            self.unreachable = True

    def _replace(self, worker: int, exc: Exception) -> None:
        """A dead worker's concurrency permits go back to the limiter and a new
        worker takes its place (on a node alive now)."""
        self.limiter.release_holder.remote(self.holders[worker])
        self.replaced += 1
        if self.replaced > _MAX_REPLACEMENTS:
            raise TargetError(f"Ray workers died {self.replaced} times; last: {exc}") from None
        alive = [n["NodeID"] for n in self.ray.nodes() if n.get("Alive")]
        self.nodes[:] = alive or self.nodes
        self.holders[worker] = f"{self.tag}-{worker}-{self.replaced}"
        self.pool[worker] = self._spawn(worker)

    def _count(self, holder: str, cost: tuple[int, int, int]) -> None:
        """Add a worker's requests, retries and tokens since its last report
        (its batches overlap, so each report is a running total)."""
        seen = self.counted.setdefault(holder, (0, 0, 0))
        if cost[0] > seen[0]:
            self.summary.requests += cost[0] - seen[0]
            self.summary.retries += cost[1] - seen[1]
            self.summary.tokens += cost[2] - seen[2]
            self.counted[holder] = cost

    def close(self) -> None:
        try:
            for w in self.pool:
                self.ray.kill(w)
            self.ray.kill(self.limiter)
        except self.ray.exceptions.RayError:  # pragma: no cover - the cluster went away
            pass
