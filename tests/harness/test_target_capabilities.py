"""A third party's target gets the built-ins' fast paths by declaring them.

The runner reads ``capabilities`` (``TargetCapabilities``), never the class: a target
registered from outside jbgrade that declares ``enforces_timeout`` is not cut off by
the runner's own timer (it applies ``request.timeout_s`` itself, as the HTTP targets
do), and one that does not declare it is.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

import pytest

from jbgrade.harness import (
    TARGETS,
    AttemptStore,
    TargetCapabilities,
    TargetInfo,
    TargetOptions,
    TargetReply,
    TargetRequest,
    build_plan,
    parse_spec,
    read_attempts,
    run_campaign,
)
from jbgrade.records import ChatMessage

SPEC = """\
name: caps
seeds: [1]
samples: 1
targets:
  - {id: slow, type: TYPE}
attacks: [roleplay]
behaviours:
  - {source: canary, limit: 2}
judges: [{type: refusal}]
limits: {timeout_s: 0.05, retries: 0}
"""


class SlowTarget:
    """Answers after 0.5 s (ten times the campaign's timeout); honours no timeout."""

    def __init__(self, opts: TargetOptions) -> None:
        s = opts.target
        self.info = TargetInfo(id=s.id, type=s.type, model="slow", vendor="third-party")

    async def complete(
        self, messages: Sequence[ChatMessage], request: TargetRequest
    ) -> TargetReply:
        await asyncio.sleep(0.5)
        return TargetReply(text="Sure: [PLACEHOLDER]")

    async def aclose(self) -> None:
        return None


class SlowOwnTimeout(SlowTarget):
    capabilities: ClassVar[TargetCapabilities] = TargetCapabilities(enforces_timeout=True)


async def _statuses(tmp_path: Path, name: str) -> list[str]:
    plan = build_plan(parse_spec(SPEC.replace("TYPE", name)), Path("."))
    store = AttemptStore.open(tmp_path / name, plan.manifest(), resume=False)
    try:
        await run_campaign(plan, store)
    finally:
        store.close()
        await plan.aclose()
    return [a.status for a in read_attempts(tmp_path / name)]


@pytest.mark.parametrize(
    ("factory", "want"), [(SlowOwnTimeout, "ok"), (SlowTarget, "error")], ids=["declared", "not"]
)
async def test_declared_capability_not_the_class_decides_the_timer(
    tmp_path: Path, factory: type[SlowTarget], want: str
) -> None:
    with TARGETS.scoped("third-party-slow", factory):
        statuses = await _statuses(tmp_path, "third-party-slow")
    assert statuses and set(statuses) == {want}
