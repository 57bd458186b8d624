"""The campaign runner: one asyncio process, bounded concurrency, retries, budget.

The unit of work is one attempt, keyed by
``attempt_key(attack, behaviour, target, sample, seed)``. Workers (as many as
the concurrency limit) pull attempts lazily from the plan, skip keys the
store already holds, and append each finished attempt to the store at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import json
import random
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from jbgrade._errors import InputError, JbgradeError, TargetError
from jbgrade._plugins import capabilities_of
from jbgrade.behaviours import load_behaviours
from jbgrade.harness._attacks import (
    Attack,
    AttackCapabilities,
    BaselineAttack,
    attack_from_spec,
    load_attack,
)
from jbgrade.harness._health import UNREACHABLE, UNREACHABLE_STREAK
from jbgrade.harness._limits import BudgetExhausted, BudgetMeter, TargetThrottle, backoff_delay
from jbgrade.harness._progress import QuietReporter, Reporter, RunSummary
from jbgrade.harness._remote import RemoteBudget, RemoteLimits, RemoteThrottle
from jbgrade.harness._shared import SharedBudget, SharedLimits, SharedThrottle
from jbgrade.harness._spec import CampaignSpec, spec_hash
from jbgrade.harness._store import AttemptStore, Manifest, Shard
from jbgrade.harness._targets import (
    AttemptHints,
    Target,
    TargetCapabilities,
    TargetReply,
    TargetRequest,
    build_target,
)
from jbgrade.judges import EnsembleJudge, Judge, MemberVerdicts, SyncJudge, build_judge
from jbgrade.records import Attempt, Behaviour, ChatMessage, Verdict

__all__ = ["CampaignPlan", "WorkItem", "build_plan", "request_seed", "run_campaign"]


@functools.lru_cache(maxsize=4096)
def request_seed(seed: int, sample: int) -> int:
    """The per-attempt seed sent to targets: a hash of (campaign seed, sample)."""
    h = hashlib.sha256(f"{seed}:{sample}".encode()).digest()
    return int.from_bytes(h[:4], "big") & 0x7FFFFFFF


#: Attempt's fields in declaration order; the runner builds records in this order.
_ATTEMPT_FIELDS = (
    "format_version",
    "key",
    "campaign",
    "arm",
    "attack",
    "behaviour_id",
    "domain",
    "category",
    "target",
    "model",
    "vendor",
    "sample",
    "seed",
    "messages",
    "response",
    "status",
    "error",
    "stopped_by",
    "layers_passed",
    "detected",
    "verdicts",
    "success",
    "latency_s",
    "retries",
    "usage",
    "started_at",
    "finished_at",
)
# If the record gains or reorders fields, every attempt is validated instead.
_CONSTRUCT_OK = tuple(Attempt.model_fields) == _ATTEMPT_FIELDS
_ATTEMPT_SET = frozenset(_ATTEMPT_FIELDS) - {"format_version"}
_set_attr = object.__setattr__


def combined_judge(judges: list[Judge], rule: str) -> Judge:
    """The one judge the runner asks: the only one, or the ensemble of all under ``rule``.

    Combination is the ensemble judge's (its rule and threshold); the runner only
    records what it returns (every member's verdict, then the combined one).
    """
    if len(judges) == 1:
        return judges[0]
    return EnsembleJudge(rule=rule, judges=judges)


def _new_attempt(values: dict[str, Any], typed: bool) -> Attempt:
    """The Attempt for ``values`` (every field, in declaration order).

    ``typed`` says every value already has its field's type because the runner,
    a built-in target and a built-in attack produced it: the record is then
    made as ``model_construct`` does (without its per-field Python loop, three
    times faster than validation, which pydantic 2 runs in Rust); plug-in data
    is validated.
    """
    if not (typed and _CONSTRUCT_OK):
        return Attempt.model_validate(values)
    a = Attempt.__new__(Attempt)
    _set_attr(a, "__dict__", values)
    _set_attr(a, "__pydantic_fields_set__", set(_ATTEMPT_SET))
    _set_attr(a, "__pydantic_extra__", None)
    _set_attr(a, "__pydantic_private__", None)
    return a


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
        owns = None if shard.count == 1 else shard.owns
        # attempt_key() hashes the compact JSON of (attack, behaviour, target,
        # sample, seed); the string parts are encoded once, not per attempt
        # (tests check the keys equal attempt_key's).
        arm_json = [json.dumps(a.id) for a in arms]
        target_json = [json.dumps(t.info.id) for t in self.targets]
        sha256 = hashlib.sha256
        for seed in self.spec.seeds:
            for sample in range(self.spec.samples):
                tail = f",{sample:d},{seed:d}]"
                for b in self.behaviours:
                    b_json = json.dumps(b.id)
                    for ai, attack in enumerate(arms):
                        head = f"[{arm_json[ai]},{b_json},"
                        for ti, t_json in enumerate(target_json):
                            key = sha256(f"{head}{t_json}{tail}".encode()).hexdigest()
                            if owns is None or owns(key):
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
    try:
        combined_judge(judges, spec.combine)
    except JbgradeError as exc:
        raise InputError(f"judges: {exc}", path=spec_path, field="combine") from None
    return CampaignPlan(spec, targets, attacks, behaviours, judges, sets, spec_path)


def target_rates(spec: CampaignSpec) -> list[tuple[float | None, float | None]]:
    """Each target's (requests_per_s, tokens_per_min): its own, else the campaign's."""
    lim = spec.limits
    return [
        (ts.requests_per_s or lim.requests_per_s, ts.tokens_per_min or lim.tokens_per_min)
        for ts in spec.targets
    ]


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
    executor: str | None = None,
) -> Iterator[None]:
    """Report the run's start and end and append it to ``runs.jsonl`` (whichever
    executor ran it); the body sets ``summary.outcome``, an interrupted run is
    logged as such."""
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
            }
        )
        reporter.finish(summary)


class _Tally:
    """What one attempt's requests add up to (retries, usage, the last messages)."""

    __slots__ = ("messages", "retries", "usage")

    def __init__(self) -> None:
        self.retries = 0
        self.usage: dict[str, int] = {}
        self.messages: list[ChatMessage] = []


class _Run:
    def __init__(
        self,
        plan: CampaignPlan,
        store: AttemptStore | None,
        reporter: Reporter,
        summary: RunSummary,
        *,
        shared: SharedLimits | None = None,
        divide: int = 1,
        remote: RemoteLimits | None = None,
    ) -> None:
        self.plan = plan
        self.store = store
        self.reporter = reporter
        self.summary = summary
        self.unreachable_streak = 0  # attempts in a row that found no target to talk to
        lim = plan.spec.limits
        self.limits = lim
        self.budget: BudgetMeter | SharedBudget | RemoteBudget
        self.throttles: list[TargetThrottle] | list[SharedThrottle] | list[RemoteThrottle]
        if remote is not None:
            # A Ray worker: every limit lives in the cluster's limiter actor.
            self.budget = remote.budget
            self.throttles = [remote.throttle(i) for i in range(len(plan.spec.targets))]
        elif shared is None:
            self.budget = BudgetMeter(lim.budget.requests, lim.budget.tokens)
            self.throttles = [TargetThrottle(r, t) for r, t in target_rates(plan.spec)]
        else:
            # Shards on one host: rates, tokens/min, pauses and budget in limits.sqlite.
            self.budget = shared.budget(lim.budget.requests, lim.budget.tokens)
            self.throttles = [
                shared.throttle(i, r, t) for i, (r, t) in enumerate(target_rates(plan.spec))
            ]
        # Concurrency is divided among shards (``divide`` processes): ceil(c / N) each.
        self.caps: list[AbstractAsyncContextManager[Any] | None] = [
            None
            if not ts.concurrency
            else remote.cap(i)
            if remote is not None
            else asyncio.Semaphore(-(-ts.concurrency // divide))
            for i, ts in enumerate(plan.spec.targets)
        ]
        # Fast paths are capabilities the plug-ins declare (never class checks):
        # targets that enforce TargetRequest.timeout_s themselves (HTTP clients do)
        # skip the extra asyncio timer per request; targets whose replies are well
        # typed, run by attacks whose messages are, store attempts unvalidated.
        caps = [capabilities_of(t, TargetCapabilities) for t in plan.targets]
        self.own_timeouts = [c.enforces_timeout for c in caps]
        self.infos = [t.info for t in plan.targets]
        self.typed = [c.typed_replies for c in caps]
        self.rng = random.Random()
        # Combination is the ensemble judge's; a judge that does no I/O is asked
        # without a coroutine, one that combines others reports every verdict.
        self.judge = combined_judge(plan.judges, plan.spec.combine)
        self.sync_judge = self.judge if isinstance(self.judge, SyncJudge) else None
        self.member_judge = self.judge if isinstance(self.judge, MemberVerdicts) else None

    async def _send(
        self, ti: int, messages: list[ChatMessage], req: TargetRequest, tally: _Tally
    ) -> TargetReply:
        target = self.plan.targets[ti]
        throttle = self.throttles[ti]
        lim = self.limits
        own_timeout = self.own_timeouts[ti]
        tries = 0
        while True:
            self.budget.reserve_request()
            self.summary.requests += 1
            if not throttle.open():
                await throttle.acquire()
            try:
                if own_timeout:
                    reply = await target.complete(messages, req)
                else:
                    async with asyncio.timeout(lim.timeout_s):
                        reply = await target.complete(messages, req)
            except TimeoutError:
                err = TargetError(f"timeout after {lim.timeout_s:g} s", retryable=True)
            except TargetError as exc:
                err = exc
            else:
                usage = reply.usage
                if usage:
                    n = int(usage.get("total_tokens", 0))
                    self.budget.add_tokens(n)
                    self.summary.tokens += n
                    throttle.spend_tokens(n)
                    if tally.usage:
                        for k, v in usage.items():
                            tally.usage[k] = tally.usage.get(k, 0) + v
                    else:
                        tally.usage = dict(usage)
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
            tally.retries += 1
            self.summary.retries += 1
            self.reporter.retry(target.info.id, str(err), delay, self.summary)
            await asyncio.sleep(delay)

    async def _judge(
        self, behaviour: Behaviour, messages: list[ChatMessage], text: str
    ) -> tuple[list[Verdict], bool | None, str | None]:
        if self.sync_judge is not None:
            v = self.sync_judge.judge_now(behaviour, messages, text)
            members = [v]
        elif self.member_judge is not None:
            members = await self.member_judge.judge_members(behaviour, list(messages), text)
        else:
            members = [await self.judge.judge(behaviour, list(messages), text)]
        final = members[-1]
        if final.error is not None:
            return members, None, f"judge undecided: {final.error}"
        return members, final.success, None

    async def attempt(self, item: WorkItem) -> Attempt | None:
        """Run one attempt; None when the budget ran out before it finished."""
        ti = item.target
        info = self.infos[ti]
        attack = item.attack
        arm: Literal["attack", "baseline"] = "baseline" if attack.kind == "baseline" else "attack"
        b = item.behaviour
        req = TargetRequest(
            request_seed(item.seed, item.sample),
            self.limits.timeout_s,
            AttemptHints(b.id, b.domain, b.category, attack.id, attack.tags, arm, item.sample),
        )
        tally = _Tally()

        async def chat(messages: list[ChatMessage]) -> TargetReply:
            tally.messages = messages
            return await self._send(ti, messages, req, tally)

        started = datetime.now(UTC)
        t0 = time.perf_counter()
        cap = self.caps[ti]
        try:
            if cap is not None:
                async with cap:
                    run = await attack.run(b, chat)
            else:
                run = await attack.run(b, chat)
        except BudgetExhausted:
            return None
        except TargetError as exc:
            return _new_attempt(
                {
                    "format_version": 1,
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
                    "messages": list(tally.messages),
                    "response": None,
                    "status": "error",
                    "error": str(exc),
                    "stopped_by": None,
                    "layers_passed": [],
                    "detected": None,
                    "verdicts": [],
                    "success": None,
                    "latency_s": time.perf_counter() - t0,
                    "retries": tally.retries,
                    "usage": tally.usage,
                    "started_at": started,
                    "finished_at": datetime.now(UTC),
                },
                self.typed[ti] and capabilities_of(attack, AttackCapabilities).typed_messages,
            )
        reply = run.reply
        verdicts: list[Verdict] = []
        success: bool | None = False
        error: str | None = None
        status: Literal["ok", "blocked", "error"] = reply.status
        if status == "ok":
            try:
                verdicts, success, error = await self._judge(b, run.messages, reply.text)
            except Exception as exc:  # a judge plug-in bug: record, do not crash the run
                verdicts, success, error = [], None, f"judge failed: {type(exc).__name__}: {exc}"
            if error is not None:
                status = "error"
        return _new_attempt(
            {
                "format_version": 1,
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
                "messages": list(run.messages),
                "response": reply.text,
                "status": status,
                "error": error,
                "stopped_by": reply.stopped_by,
                "layers_passed": list(reply.layers_passed),
                "detected": reply.detected,
                "verdicts": verdicts,
                "success": success,
                "latency_s": time.perf_counter() - t0,
                "retries": tally.retries,
                "usage": tally.usage,
                "started_at": started,
                "finished_at": datetime.now(UTC),
            },
            self.typed[ti]
            and capabilities_of(attack, AttackCapabilities).typed_messages
            and all(type(v) is Verdict for v in verdicts),
        )

    def record(self, a: Attempt) -> None:
        if self.store is not None:
            self.store.append(a)
        s = self.summary
        s.completed += 1
        status = a.status
        if status == "ok":
            s.ok += 1
        elif status == "blocked":
            s.blocked += 1
        else:
            s.errors += 1
            reason = (a.error or "?").split(":", 1)[0][:60]
            s.error_reasons[reason] = s.error_reasons.get(reason, 0) + 1
        if status == "error" and (a.error or "").startswith(UNREACHABLE):
            self.unreachable_streak += 1
        else:
            self.unreachable_streak = 0
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
