"""The campaign runner: one asyncio process, bounded concurrency, retries, budget.

The unit of work is one attempt, keyed by
``attempt_key(attack, behaviour, target, sample, seed)``. Workers (as many as
the concurrency limit) pull attempts lazily from the plan, skip keys the
store already holds, and append each finished attempt to the store at once.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from jbgrade._errors import InputError, TargetError
from jbgrade.behaviours import load_behaviours
from jbgrade.harness._attacks import Attack, BaselineAttack, attack_from_spec, load_attack
from jbgrade.harness._limits import BudgetExhausted, BudgetMeter, TargetThrottle, backoff_delay
from jbgrade.harness._progress import QuietReporter, Reporter, RunSummary
from jbgrade.harness._spec import CampaignSpec, spec_hash
from jbgrade.harness._store import AttemptStore, Manifest, Shard
from jbgrade.harness._targets import (
    AttemptHints,
    Target,
    TargetReply,
    TargetRequest,
    build_target,
)
from jbgrade.judges import Judge, build_judge, combine_verdicts
from jbgrade.records import Attempt, Behaviour, ChatMessage, Verdict, attempt_key

__all__ = ["CampaignPlan", "WorkItem", "build_plan", "request_seed", "run_campaign"]


@functools.lru_cache(maxsize=4096)
def request_seed(seed: int, sample: int) -> int:
    """The per-attempt seed sent to targets: a hash of (campaign seed, sample)."""
    h = hashlib.sha256(f"{seed}:{sample}".encode()).digest()
    return int.from_bytes(h[:4], "big") & 0x7FFFFFFF


@dataclass(frozen=True, slots=True)
class WorkItem:
    key: str
    target: int
    attack: Attack
    behaviour: Behaviour
    sample: int
    seed: int


@dataclass
class CampaignPlan:
    """A spec resolved into targets, attacks, behaviours and judges."""

    spec: CampaignSpec
    targets: list[Target]
    attacks: list[Attack]
    behaviours: list[Behaviour]
    judges: list[Judge]
    behaviour_sets: list[dict[str, Any]]
    spec_path: str | None = None

    @property
    def arms(self) -> list[Attack]:
        return [BaselineAttack(), *self.attacks]

    @property
    def planned(self) -> int:
        s = self.spec
        return len(s.seeds) * s.samples * len(self.behaviours) * len(self.arms) * len(self.targets)

    def items(self, shard: Shard | None = None) -> Iterator[WorkItem]:
        """Every attempt of the grid (this shard's), in a fixed order."""
        arms = self.arms
        shard = shard or Shard()
        for seed in self.spec.seeds:
            for sample in range(self.spec.samples):
                for b in self.behaviours:
                    for attack in arms:
                        for ti, t in enumerate(self.targets):
                            key = attempt_key(attack.id, b.id, t.info.id, sample, seed)
                            if shard.owns(key):
                                yield WorkItem(key, ti, attack, b, sample, seed)

    def manifest(self) -> Manifest:
        from jbgrade import __version__

        ident = self.spec.identity()
        ident["resolved"] = {
            "attacks": [{"spec": a.spec(), "tags": list(a.tags)} for a in self.attacks],
            "behaviour_sets": self.behaviour_sets,
        }
        h = spec_hash(ident)
        return Manifest(
            campaign=f"{self.spec.name}-{h[:12]}",
            name=self.spec.name,
            spec_hash=h,
            spec=self.spec.model_dump(mode="json"),
            spec_path=self.spec_path,
            targets=[t.info for t in self.targets],
            attacks=[
                {"id": a.id, "kind": a.kind, "tags": list(a.tags), "spec": a.spec()}
                for a in self.arms
            ],
            behaviour_sets=self.behaviour_sets,
            judges=[j.spec() for j in self.judges],
            combine=self.spec.combine,
            seeds=list(self.spec.seeds),
            samples=self.spec.samples,
            planned=self.planned,
            created_at=datetime.now(UTC),
            jbgrade_version=__version__,
        )

    async def aclose(self) -> None:
        for t in self.targets:
            await t.aclose()
        for j in self.judges:
            await j.aclose()


def _digest(behaviours: Sequence[Behaviour]) -> str:
    h = hashlib.sha256()
    for b in behaviours:
        h.update(json.dumps([b.id, b.domain, b.category, b.text]).encode())
    return h.hexdigest()


def build_plan(
    spec: CampaignSpec, base_dir: Path | None = None, spec_path: str | None = None
) -> CampaignPlan:
    """Resolve a spec: build targets and judges, load attacks and behaviours."""
    base = base_dir or Path.cwd()
    attacks: list[Attack] = []
    for i, ref in enumerate(spec.attacks):
        if ref.inline is not None:
            attacks.append(attack_from_spec(ref.inline, f"{spec_path or 'spec'}: attacks[{i}]"))
        else:
            name = ref.ref or ref.plugin
            assert name is not None
            attacks.append(load_attack(name, base, ref.options))
    ids = [a.id for a in attacks]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise InputError(f"duplicate attack id {dup[0]!r}", path=spec_path, field="attacks")
    behaviours: list[Behaviour] = []
    sets: list[dict[str, Any]] = []
    seen: set[str] = set()
    for bref in spec.behaviours:
        src = bref.source
        p = Path(src)
        if not p.is_absolute() and (base / p).exists():
            src = str(base / p)
        items = load_behaviours(src, format=bref.format)
        if bref.domains is not None:
            items = [b for b in items if b.domain in bref.domains]
        if bref.ids is not None:
            wanted = set(bref.ids)
            items = [b for b in items if b.id in wanted]
        if bref.limit is not None:
            items = items[: bref.limit]
        for b in items:
            if b.id in seen:
                raise InputError(
                    f"behaviour id {b.id!r} appears in two sets", path=spec_path, field="behaviours"
                )
            seen.add(b.id)
        behaviours.extend(items)
        sets.append(
            {
                "source": bref.source,
                "count": len(items),
                "domains": sorted({b.domain for b in items}),
                "digest": _digest(items),
            }
        )
    if not behaviours:
        raise InputError(
            "the behaviour sets select no behaviour", path=spec_path, field="behaviours"
        )
    targets = [build_target(t, base) for t in spec.targets]
    judges = [build_judge(dict(j)) for j in spec.judges]
    return CampaignPlan(spec, targets, attacks, behaviours, judges, sets, spec_path)


class _Run:
    def __init__(
        self,
        plan: CampaignPlan,
        store: AttemptStore,
        reporter: Reporter,
        summary: RunSummary,
    ) -> None:
        self.plan = plan
        self.store = store
        self.reporter = reporter
        self.summary = summary
        lim = plan.spec.limits
        self.limits = lim
        self.budget = BudgetMeter(lim.budget.requests, lim.budget.tokens)
        self.throttles = [
            TargetThrottle(
                ts.requests_per_s or lim.requests_per_s, ts.tokens_per_min or lim.tokens_per_min
            )
            for ts in plan.spec.targets
        ]
        self.caps = [
            asyncio.Semaphore(ts.concurrency) if ts.concurrency else None
            for ts in plan.spec.targets
        ]
        # Targets that enforce TargetRequest.timeout_s themselves (HTTP clients do)
        # skip the extra asyncio timer per request.
        self.own_timeouts = [bool(getattr(t, "enforces_timeout", False)) for t in plan.targets]
        self.rng = random.Random()
        self.ensemble_spec = {
            "type": "ensemble",
            "rule": plan.spec.combine,
            "judges": [j.spec() for j in plan.judges],
        }

    async def _send(
        self, ti: int, messages: list[ChatMessage], req: TargetRequest, state: dict[str, Any]
    ) -> TargetReply:
        target = self.plan.targets[ti]
        throttle = self.throttles[ti]
        lim = self.limits
        tries = 0
        while True:
            self.budget.reserve_request()
            self.summary.requests += 1
            await throttle.acquire()
            try:
                if self.own_timeouts[ti]:
                    reply = await target.complete(messages, req)
                else:
                    async with asyncio.timeout(lim.timeout_s):
                        reply = await target.complete(messages, req)
            except TimeoutError:
                err = TargetError(f"timeout after {lim.timeout_s:g} s", retryable=True)
            except TargetError as exc:
                err = exc
            else:
                n = int(reply.usage.get("total_tokens", 0))
                self.budget.add_tokens(n)
                self.summary.tokens += n
                throttle.spend_tokens(n)
                for k, v in reply.usage.items():
                    state["usage"][k] = state["usage"].get(k, 0) + v
                return reply
            if not err.retryable or tries >= lim.retries:
                if tries:
                    raise TargetError(
                        f"{err} (after {tries + 1} tries)",
                        retryable=err.retryable,
                        status=err.status,
                    ) from None
                raise err
            delay = backoff_delay(
                tries, lim.backoff_s, lim.max_backoff_s, err.retry_after, self.rng
            )
            if err.retry_after is not None:
                throttle.pause(min(err.retry_after, lim.max_backoff_s))
            tries += 1
            state["retries"] += 1
            self.summary.retries += 1
            self.reporter.retry(target.info.id, str(err), delay, self.summary)
            await asyncio.sleep(delay)

    async def _judge(
        self, behaviour: Behaviour, messages: list[ChatMessage], text: str
    ) -> tuple[list[Verdict], bool | None, str | None]:
        judges = self.plan.judges
        rule = self.plan.spec.combine
        if rule == "gated" and len(judges) > 1:
            # The gate (a cheap refusal judge) decides alone when it says no:
            # the rubric judge's endpoint is not called for refusals.
            gate = await judges[0].judge(behaviour, list(messages), text)
            rest: list[Verdict] = []
            if gate.error is not None or gate.success:
                rest = list(
                    await asyncio.gather(
                        *(j.judge(behaviour, list(messages), text) for j in judges[1:])
                    )
                )
            members = [gate, *rest]
        elif len(judges) == 1:
            members = [await judges[0].judge(behaviour, list(messages), text)]
        else:
            members = list(
                await asyncio.gather(*(j.judge(behaviour, list(messages), text) for j in judges))
            )
        if len(members) == 1:
            v = members[0]
            final = v
        else:
            final = combine_verdicts(members, rule, spec=self.ensemble_spec)
            members.append(final)
        if final.error is not None:
            return members, None, f"judge undecided: {final.error}"
        return members, final.success, None

    async def attempt(self, item: WorkItem) -> Attempt | None:
        """Run one attempt; None when the budget ran out before it finished."""
        info = self.plan.targets[item.target].info
        attack = item.attack
        arm = "baseline" if attack.kind == "baseline" else "attack"
        b = item.behaviour
        hints = AttemptHints(b.id, b.domain, b.category, attack.id, attack.tags, arm, item.sample)
        req = TargetRequest(request_seed(item.seed, item.sample), self.limits.timeout_s, hints)
        state: dict[str, Any] = {"retries": 0, "usage": {}, "messages": []}

        async def chat(messages: list[ChatMessage]) -> TargetReply:
            state["messages"] = messages
            return await self._send(item.target, messages, req, state)

        started = datetime.now(UTC)
        t0 = time.perf_counter()
        cap = self.caps[item.target]
        common: dict[str, Any] = {
            "key": item.key,
            "campaign": self.summary.campaign,
            "arm": arm,
            "attack": attack.id,
            "behaviour_id": b.id,
            "domain": b.domain,
            "category": b.category,
            "target": info.id,
            "model": info.model,
            "vendor": info.vendor,
            "sample": item.sample,
            "seed": item.seed,
            "started_at": started,
        }
        try:
            if cap is not None:
                async with cap:
                    run = await attack.run(b, chat)
            else:
                run = await attack.run(b, chat)
        except BudgetExhausted:
            return None
        except TargetError as exc:
            return Attempt(
                **common,
                messages=state["messages"],
                status="error",
                error=str(exc),
                latency_s=time.perf_counter() - t0,
                retries=state["retries"],
                usage=state["usage"],
                finished_at=datetime.now(UTC),
            )
        reply = run.reply
        verdicts: list[Verdict] = []
        success: bool | None = False
        error: str | None = None
        status: Literal["ok", "blocked", "error"] = reply.status
        if reply.status == "ok":
            try:
                verdicts, success, error = await self._judge(b, run.messages, reply.text)
            except Exception as exc:  # a judge plug-in bug: record, do not crash the run
                verdicts, success, error = [], None, f"judge failed: {type(exc).__name__}: {exc}"
        if error is not None:
            status = "error"
        return Attempt(
            **common,
            messages=run.messages,
            response=reply.text,
            status=status,
            error=error,
            stopped_by=reply.stopped_by,
            layers_passed=list(reply.layers_passed),
            detected=reply.detected,
            verdicts=verdicts,
            success=success,
            latency_s=time.perf_counter() - t0,
            retries=state["retries"],
            usage=state["usage"],
            finished_at=datetime.now(UTC),
        )

    def record(self, a: Attempt) -> None:
        self.store.append(a)
        s = self.summary
        s.completed += 1
        if a.status == "ok":
            s.ok += 1
        elif a.status == "blocked":
            s.blocked += 1
        else:
            s.errors += 1
            reason = (a.error or "?").split(":", 1)[0][:60]
            s.error_reasons[reason] = s.error_reasons.get(reason, 0) + 1
        if a.success:
            s.successes += 1
        self.reporter.attempt(a, s)


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
    done = store.completed(retry_errors=retry_errors)
    if shard.count == 1:
        # The store's manifest matched this plan, so every stored key is in the grid.
        planned = plan.planned
        already = len(done)
    else:
        planned = already = 0
        for item in plan.items(shard):
            planned += 1
            already += item.key in done
    summary = RunSummary(campaign=campaign or plan.spec.name, planned=planned, already_done=already)
    run = _Run(plan, store, reporter, summary)
    pending = (i for i in plan.items(shard) if i.key not in done)
    t0 = time.perf_counter()
    started = datetime.now(UTC)
    reporter.start(summary)

    async def worker() -> None:
        for item in pending:
            if run.budget.exhausted:
                return
            a = await run.attempt(item)
            if a is None:
                summary.abandoned += 1
                return
            run.record(a)

    n = min(plan.spec.limits.concurrency, max(1, planned - already))
    outcome = "completed"
    try:
        await asyncio.gather(*(worker() for _ in range(n)))
        if run.budget.exhausted and summary.remaining > 0:
            outcome = "budget"
    except asyncio.CancelledError:
        outcome = "interrupted"
        raise
    finally:
        summary.outcome = outcome
        summary.wall_s = time.perf_counter() - t0
        store.log_run(
            {
                "started_at": started.isoformat(),
                "finished_at": datetime.now(UTC).isoformat(),
                "shard": f"{shard.index}/{shard.count}",
                **summary.to_dict(),
            }
        )
        reporter.finish(summary)
    return summary
