"""The runner's fast paths give exactly what the general ones give.

Keys from pre-encoded ids equal ``attempt_key``; request bodies built from
pre-encoded parts equal the encoded ``body()``; records built without
re-validation equal validated ones, and the store writes pydantic's JSON.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from jbgrade.chat import OpenAIChatModel
from jbgrade.harness import (
    AttemptHints,
    AttemptStore,
    HttpRequest,
    HttpResponse,
    HttpServer,
    OpenAITarget,
    Shard,
    TargetRequest,
    TargetSpec,
    build_plan,
    iter_attempt_records,
    json_response,
    parse_spec,
    run_campaign,
)
from jbgrade.harness._attempt import _ATTEMPT_FIELDS, _CONSTRUCT_OK, _new_attempt
from jbgrade.judges import RefusalJudge
from jbgrade.records import Attempt, ChatMessage, attempt_key

from .conftest import EXAMPLES

ids = st.text(
    st.characters(blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp")), min_size=1, max_size=12
)


@settings(max_examples=60, deadline=None)
@given(
    attacks=st.lists(
        st.from_regex(r"[a-z][a-z0-9_.:-]{0,8}", fullmatch=True).filter(lambda a: a != "baseline"),
        min_size=1,
        max_size=2,
        unique=True,
    ),
    behaviours=st.lists(ids, min_size=1, max_size=3, unique=True),
    seeds=st.lists(st.integers(-(2**40), 2**40), min_size=1, max_size=2, unique=True),
)
def test_plan_keys_equal_attempt_key(
    attacks: list[str], behaviours: list[str], seeds: list[int]
) -> None:
    lines = "\n".join(
        json.dumps({"id": b, "domain": "G", "category": "c", "text": "[canary] t"})
        for b in behaviours
    )
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "b.jsonl"
        src.write_text(lines + "\n", encoding="utf-8")
        spec = {
            "name": "keys",
            "seeds": seeds,
            "samples": 2,
            "targets": [
                {"id": "t-1", "type": "reference", "reference": {"model": "m"}},
                {"id": "t.2:x", "type": "reference", "reference": {"model": "n"}},
            ],
            "attacks": [{"id": a, "template": "x {behaviour}"} for a in attacks],
            "behaviours": [str(src)],
        }
        plan = build_plan(parse_spec(json.dumps(spec)), Path("."))
        items = list(plan.items())
        assert len(items) == plan.planned
        for it in items:
            t = plan.targets[it.target].info.id
            assert it.key == attempt_key(it.attack.id, it.behaviour.id, t, it.sample, it.seed)
        sharded = [i.key for n in range(3) for i in plan.items(Shard(n, 3))]
        assert sorted(sharded) == sorted(i.key for i in items)


def _target(**kw: Any) -> OpenAITarget:
    return OpenAITarget(TargetSpec(id="x", model="m\u00fc", base_url="http://h/v1", **kw))


def _req(seed: int = 7) -> TargetRequest:
    hints = AttemptHints("b", "W", "cyber", "a", ("t1",), "attack", 2)
    return TargetRequest(seed=seed, timeout_s=5, hints=hints)


text = st.text(max_size=40)
messages = st.lists(
    st.builds(ChatMessage, role=st.sampled_from(["system", "user", "assistant"]), content=text),
    max_size=4,
)


@settings(max_examples=150, deadline=None)
@given(
    msgs=messages,
    system=st.none() | text,
    params=st.dictionaries(
        st.sampled_from(["temperature", "max_tokens", "stop", "seed", "model", "x\u00e9"]),
        st.integers(0, 9) | st.text(max_size=5) | st.lists(st.integers(0, 3), max_size=2),
        max_size=3,
    ),
    send_seed=st.booleans(),
    hints=st.booleans(),
)
def test_payload_equals_encoded_body(
    msgs: list[ChatMessage],
    system: str | None,
    params: dict[str, Any],
    send_seed: bool,
    hints: bool,
) -> None:
    t = _target(system_prompt=system, params=params, send_seed=send_seed, hints=hints)
    req = _req()
    body = t.body(msgs, req)
    assert t.payload(msgs, req) == json.dumps(body, separators=(",", ":")).encode()
    assert json.loads(t.payload(msgs, req)) == body


def test_payload_with_params_that_do_not_encode_fails_like_the_body() -> None:
    # A target spec's params are JSON: a value that does not encode is refused there.
    with pytest.raises(ValidationError, match=r"params\.when"):
        _target(params={"when": datetime(2026, 1, 1, tzinfo=UTC)})
    # The chat layer (any caller's mapping) takes the general path and fails like it.
    chat = OpenAIChatModel(
        base_url="http://h/v1", model="m", params={"when": datetime(2026, 1, 1, tzinfo=UTC)}
    )
    with pytest.raises(TypeError):
        chat.payload([ChatMessage(role="user", content="q")], _req())


@pytest.fixture
async def echo_server() -> AsyncIterator[tuple[str, list[HttpRequest]]]:
    seen: list[HttpRequest] = []

    async def handle(req: HttpRequest) -> HttpResponse:
        seen.append(req)
        return json_response(
            {
                "choices": [{"message": {"role": "assistant", "content": "ok"}}],
                "usage": {"total_tokens": 18, "prompt_tokens": "3", "other": 1},
            }
        )

    server = await HttpServer(handle, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{server.port}/v1", seen
    finally:
        await server.close()


async def test_requests_carry_json_content_type_and_spec_headers(
    echo_server: tuple[str, list[HttpRequest]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, seen = echo_server
    monkeypatch.setenv("JBG_FAST_KEY", "k1")
    spec = TargetSpec(
        id="x", model="m", base_url=url, api_key_env="JBG_FAST_KEY", headers={"x-team": "red"}
    )
    t = OpenAITarget(spec)
    try:
        reply = await t.complete([ChatMessage(role="user", content="q\u00e9")], _req())
    finally:
        await t.aclose()
    assert reply.text == "ok"
    # Only integer token counts of the known kinds are kept.
    assert reply.usage == {"total_tokens": 18}
    h = {k.lower(): v for k, v in seen[0].headers.items()}
    assert h["content-type"] == "application/json"
    assert h["authorization"] == "Bearer k1" and h["x-team"] == "red"
    assert json.loads(seen[0].body)["messages"] == [{"role": "user", "content": "q\u00e9"}]


def _values(**over: Any) -> dict[str, Any]:
    judge = RefusalJudge()
    v = judge.verdict("I'm sorry, but I can't help with that.")
    values: dict[str, Any] = {
        "format_version": 1,
        "key": "k" * 64,
        "campaign": "c-1",
        "arm": "attack",
        "attack": "roleplay",
        "behaviour_id": "b\u00e9",
        "domain": "W",
        "category": "cyber",
        "target": "t",
        "model": "m",
        "vendor": "v",
        "sample": 1,
        "seed": 7,
        "messages": [ChatMessage(role="user", content="q")],
        "response": "I'm sorry, but I can't help with that.",
        "status": "ok",
        "error": None,
        "stopped_by": None,
        "layers_passed": ["system_prompt"],
        "detected": False,
        "verdicts": [v],
        "success": False,
        "latency_s": 0.000012,
        "retries": 2,
        "usage": {"total_tokens": 18},
        "started_at": datetime(2026, 11, 27, 4, 0, 0, 0, tzinfo=UTC),
        "finished_at": datetime.now(UTC),
    }
    values.update(over)
    return values


def test_records_built_without_validation_equal_validated_ones() -> None:
    assert _CONSTRUCT_OK, "Attempt's fields changed: update _ATTEMPT_FIELDS in the runner"
    assert tuple(Attempt.model_fields) == _ATTEMPT_FIELDS
    for over in ({}, {"status": "error", "error": "HTTP 500: x", "response": None}):
        values = _values(**over)
        fast = _new_attempt(dict(values), typed=True)
        slow = _new_attempt(dict(values), typed=False)
        assert type(fast) is Attempt and fast == slow
        assert fast.model_dump_json() == slow.model_dump_json()
        assert Attempt.model_validate_json(fast.model_dump_json()) == slow
        with pytest.raises(ValueError, match="frozen"):
            fast.key = "x"  # type: ignore[misc]


def test_untrusted_values_are_validated() -> None:
    with pytest.raises(ValueError):
        _new_attempt(_values(response=5), typed=False)


async def test_store_lines_are_the_records_json(tmp_path: Path) -> None:
    text = f"""\
name: lines
samples: 2
targets: [{{id: ref, type: reference, config_file: {EXAMPLES / "reference-target.yaml"}}}]
attacks: [roleplay]
behaviours: [{{source: canary, limit: 3}}]
"""
    plan = build_plan(parse_spec(text), Path("."))
    store = AttemptStore.open(tmp_path, plan.manifest(), resume=False)
    try:
        await run_campaign(plan, store)
    finally:
        store.close()
        await plan.aclose()
    lines = (tmp_path / "attempts.jsonl").read_bytes().splitlines()
    records = list(iter_attempt_records(tmp_path))
    assert len(lines) == len(records) == plan.planned
    for line, rec in zip(lines, records, strict=True):
        assert line == rec.model_dump_json().encode()
        assert rec.messages and bool(rec.verdicts) == (rec.status == "ok")
    assert any(r.status == "ok" for r in records)
