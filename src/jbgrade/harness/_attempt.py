"""One attempt end to end: throttled, budgeted, retried requests, the judge, the record.

:class:`_Run` holds what every attempt of one run shares (limits, throttles,
concurrency caps, the combined judge, the targets' declared fast paths);
``_Run.attempt`` runs one :class:`WorkItem` and ``_Run.record`` stores it.
"""

from __future__ import annotations

import asyncio
import random
import time
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from typing import Any, Literal

from jbgrade._errors import TargetError
from jbgrade._plugins import capabilities_of
from jbgrade.harness._attacks import AttackCapabilities
from jbgrade.harness._health import UNREACHABLE
from jbgrade.harness._limits import BudgetExhausted, BudgetMeter, TargetThrottle, backoff_delay
from jbgrade.harness._plan import CampaignPlan, WorkItem, combined_judge, request_seed, target_rates
from jbgrade.harness._progress import Reporter, RunSummary
from jbgrade.harness._remote import RemoteBudget, RemoteLimits, RemoteThrottle
from jbgrade.harness._shared import SharedBudget, SharedLimits, SharedThrottle
from jbgrade.harness._store import AttemptStore
from jbgrade.harness._targets import (
    AttemptHints,
    TargetCapabilities,
    TargetReply,
    TargetRequest,
)
from jbgrade.judges import MemberVerdicts, SyncJudge
from jbgrade.records import Attempt, Behaviour, ChatMessage, Verdict

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
            self.throttles = [remote.throttle(i) for i in range(len(plan.spec.senders))]
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
            for i, ts in enumerate(plan.spec.senders)
        ]
        # Fast paths are capabilities the plug-ins declare (never class checks):
        # targets that enforce TargetRequest.timeout_s themselves (HTTP clients do)
        # skip the extra asyncio timer per request; targets whose replies are well
        # typed, run by attacks whose messages are, store attempts unvalidated.
        caps = [capabilities_of(t, TargetCapabilities) for t in plan.senders]
        self.own_timeouts = [c.enforces_timeout for c in caps]
        self.senders = plan.senders
        self.n_targets = len(plan.targets)
        self.infos = [t.info for t in self.senders]
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
        target = self.senders[ti]
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
        attack = item.attack
        arm: Literal["attack", "baseline", "comparator"] = (
            "comparator"
            if ti >= self.n_targets
            else "baseline"
            if attack.kind == "baseline"
            else "attack"
        )
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
            return self._failed(item, arm, tally, exc, t0=t0, started=started)
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
            self._values(
                item,
                arm,
                list(run.messages),
                tally,
                t0=t0,
                started=started,
                response=reply.text,
                status=status,
                error=error,
                stopped_by=reply.stopped_by,
                layers_passed=list(reply.layers_passed),
                detected=reply.detected,
                verdicts=verdicts,
                success=success,
            ),
            self.typed[ti]
            and capabilities_of(attack, AttackCapabilities).typed_messages
            and all(type(v) is Verdict for v in verdicts),
        )

    def _failed(
        self,
        item: WorkItem,
        arm: Literal["attack", "baseline", "comparator"],
        tally: _Tally,
        exc: TargetError,
        *,
        t0: float,
        started: datetime,
    ) -> Attempt:
        """The record of an attempt whose target failed (no response, no verdict)."""
        return _new_attempt(
            self._values(
                item,
                arm,
                list(tally.messages),
                tally,
                t0=t0,
                started=started,
                response=None,
                status="error",
                error=str(exc),
                stopped_by=None,
                layers_passed=[],
                detected=None,
                verdicts=[],
                success=None,
            ),
            self.typed[item.target]
            and capabilities_of(item.attack, AttackCapabilities).typed_messages,
        )

    def _values(
        self,
        item: WorkItem,
        arm: Literal["attack", "baseline", "comparator"],
        messages: list[ChatMessage],
        tally: _Tally,
        *,
        t0: float,
        started: datetime,
        response: str | None,
        status: Literal["ok", "blocked", "error"],
        error: str | None,
        stopped_by: str | None,
        layers_passed: list[str],
        detected: bool | None,
        verdicts: list[Verdict],
        success: bool | None,
    ) -> dict[str, Any]:
        """An attempt's fields, in declaration order (what ``_new_attempt`` needs)."""
        info = self.infos[item.target]
        b = item.behaviour
        return {
            "format_version": 1,
            "key": item.key,
            "campaign": self.summary.campaign,
            "arm": arm,
            "attack": item.attack.id,
            "behaviour_id": b.id,
            "domain": b.domain,
            "category": b.category,
            "target": info.id,
            "model": info.model,
            "vendor": info.vendor,
            "sample": item.sample,
            "seed": item.seed,
            "messages": messages,
            "response": response,
            "status": status,
            "error": error,
            "stopped_by": stopped_by,
            "layers_passed": layers_passed,
            "detected": detected,
            "verdicts": verdicts,
            "success": success,
            "latency_s": time.perf_counter() - t0,
            "retries": tally.retries,
            "usage": tally.usage,
            "started_at": started,
            "finished_at": datetime.now(UTC),
        }

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
