"""The transformers target with a tiny randomly initialised GPT-2 (no download).

Skipped when the 'local' extra (transformers + torch) is not installed.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

try:
    import torch  # noqa: F401
    import transformers  # noqa: F401
except ImportError:  # pragma: no cover - depends on the environment
    if os.environ.get("JBGRADE_REQUIRE_LOCAL") == "1":
        raise
    pytest.skip("the 'local' extra (torch, transformers) is not installed", allow_module_level=True)

from jbgrade.harness import (
    AttemptStore,
    TargetRequest,
    TargetSpec,
    build_plan,
    build_target,
    parse_spec,
    read_attempts,
    run_campaign,
)
from jbgrade.records import ChatMessage

TINY = {
    "model_type": "gpt2",
    "n_layer": 1,
    "n_head": 2,
    "n_embd": 16,
    "vocab_size": 300,
    "n_positions": 256,
}


async def test_tiny_random_gpt2_generates_deterministically() -> None:
    spec = TargetSpec(
        id="tiny", type="transformers", options={"random_config": TINY}, params={"max_tokens": 6}
    )
    t = build_target(spec)
    assert t.info.model == "random-gpt2"
    msgs = [ChatMessage(role="user", content="[canary] placeholder")]
    a = await t.complete(msgs, TargetRequest(seed=1, timeout_s=30))
    b = await t.complete(msgs, TargetRequest(seed=1, timeout_s=30))
    assert a.text == b.text
    assert a.usage["completion_tokens"] == 6
    assert a.usage["prompt_tokens"] == len(b"user: [canary] placeholder\nassistant:")
    await t.aclose()


async def test_campaign_on_a_local_model(tmp_path: Path) -> None:
    spec = parse_spec(
        f"""
name: local
targets:
  - id: tiny
    type: transformers
    options: {{random_config: {TINY}}}
    params: {{max_tokens: 4}}
attacks: [roleplay]
behaviours: [{{source: canary, limit: 2}}]
"""
    )
    plan = build_plan(spec)
    store = AttemptStore.open(tmp_path / "c", plan.manifest(), resume=False)
    s = await run_campaign(plan, store)
    store.close()
    assert s.completed == 4
    assert {a.status for a in read_attempts(tmp_path / "c")} == {"ok"}
