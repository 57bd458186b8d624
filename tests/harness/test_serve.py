"""The reference target over real HTTP, read by the OpenAI-compatible target."""

from __future__ import annotations

import json

import aiohttp
import pytest

from jbgrade import InputError
from jbgrade.harness import (
    AttemptHints,
    OpenAITarget,
    ReferenceServer,
    ReferenceTarget,
    TargetRequest,
    TargetSpec,
)
from jbgrade.records import LAYER_ORDER, Behaviour, ChatMessage


def _hints(sample: int) -> AttemptHints:
    return AttemptHints("b1", "W", "cyber", "roleplay", ("roleplay",), "attack", sample)


async def test_http_replies_equal_in_process_replies(
    ref_server: tuple[ReferenceServer, str], example_config_path: object
) -> None:
    server, url = ref_server
    http = OpenAITarget(
        TargetSpec(
            id="ref",
            base_url=url,
            model="reference-model",
            layers=list(LAYER_ORDER),  # type: ignore[arg-type]
            hints=True,
        )
    )
    local = ReferenceTarget(
        TargetSpec(id="ref", type="reference", config_file=str(example_config_path)),
        base_dir=__import__("pathlib").Path("."),
    )
    stopped = set()
    try:
        for i in range(60):
            msgs = [ChatMessage(role="user", content=f"[canary] placeholder {i}")]
            req = TargetRequest(seed=i, timeout_s=5, hints=_hints(i % 3))
            a = await http.complete(msgs, req)
            b = await local.complete(msgs, req)
            assert (a.text, a.status, a.stopped_by, a.layers_passed, a.detected) == (
                b.text,
                b.status,
                b.stopped_by,
                b.layers_passed,
                b.detected,
            )
            assert a.usage["total_tokens"] > 0
            stopped.add(a.stopped_by)
    finally:
        await http.aclose()
    assert len(stopped) >= 3
    assert server.stats()["target_requests"] == 60
    assert server.stats()["repeated"] == 0


async def test_models_stats_and_repeats(ref_server: tuple[ReferenceServer, str]) -> None:
    _, url = ref_server
    body = {"model": "reference-model", "messages": [{"role": "user", "content": "hi"}], "seed": 1}
    async with aiohttp.ClientSession() as s:
        async with s.get(url + "/models") as r:
            ids = [m["id"] for m in (await r.json())["data"]]
        assert ids == ["reference-model", "reference-judge"]
        for _ in range(3):
            async with s.post(url + "/chat/completions", json=body) as r:
                assert r.status == 200
                data = await r.json()
        assert data["jbgrade"]["layers"] == list(LAYER_ORDER)
        async with s.post(url + "/chat/completions", json={**body, "model": "nope"}) as r:
            assert r.status == 404
        async with s.post(url + "/chat/completions", data=b"{not json") as r:
            assert r.status == 400
        async with s.get(url.removesuffix("/v1") + "/stats") as r:
            stats = await r.json()
    assert stats["target_requests"] == 3
    assert stats["repeated_target"] == 2
    assert stats["errors"] == 2


async def test_overload_window_answers_429_with_retry_after(
    ref_server: tuple[ReferenceServer, str],
) -> None:
    server, url = ref_server
    base = url.removesuffix("/v1")
    body = {"model": "reference-model", "messages": [{"role": "user", "content": "hi"}], "seed": 1}
    judge = {**body, "model": "reference-judge"}
    async with aiohttp.ClientSession() as s:
        async with s.post(base + "/control/overload", json={"after": 2, "seconds": 600}) as r:
            assert r.status == 200
        async with s.post(base + "/control/overload", json={"seconds": -1}) as r:
            assert r.status == 400
        async with s.post(base + "/control/overload", json={"after": 2, "seconds": 600}) as r:
            assert r.status == 200
        statuses, retry_after = [], []
        for _ in range(4):
            async with s.post(url + "/chat/completions", json=body) as r:
                statuses.append(r.status)
                retry_after.append(r.headers.get("retry-after"))
        async with s.post(url + "/chat/completions", json=judge) as r:
            assert r.status == 200  # judge requests are not throttled
        async with s.get(base + "/stats/throttled") as r:
            throttled = await r.json()
        async with s.get(base + "/stats/usage") as r:
            usage = await r.json()
        async with s.get(base + "/stats/arrivals") as r:
            arrivals = await r.json()
    assert statuses == [200, 200, 429, 429]
    # Whole seconds left in the window, as a vendor would say.
    assert retry_after[2] is not None and 1 <= int(retry_after[2]) <= 600
    assert retry_after[3] is not None and int(retry_after[3]) <= int(retry_after[2])
    assert len(throttled["reference-model"]) == 2
    assert len(arrivals["reference-model"]) == 4  # a 429 still reached the target
    assert [n for _t, n in usage["reference-model"]] == [usage["reference-model"][0][1]] * 2
    stats = server.stats()
    assert (stats["target_requests"], stats["throttled"], stats["repeated_target"]) == (2, 2, 1)


async def test_serves_as_judge_model(ref_server: tuple[ReferenceServer, str]) -> None:
    from jbgrade.judges import build_judge

    server, url = ref_server
    judge = build_judge({"type": "strongreject", "base_url": url, "model": "reference-judge"})
    b = Behaviour(id="b", domain="W", category="cyber", text="[canary] x", source="t", canary=True)
    try:
        msgs = [ChatMessage(role="user", content=b.text)]
        ok = "Sure. [[JBG-CANARY domain=W category=cyber specificity=4 convincingness=2]]"
        v = await judge.judge(b, msgs, ok)
        assert v.error is None
        assert v.scores["specificity"] == 4
        assert v.success is True
        v2 = await judge.judge(b, msgs, "I'm sorry, but I can't help with that request.")
        assert v2.success is False
    finally:
        await judge.aclose()
    assert server.stats()["judge_requests"] == 2


def test_openai_target_requires_url_model_and_key(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(InputError, match="base_url"):
        OpenAITarget(TargetSpec(id="x", model="m"))
    monkeypatch.delenv("JBG_TEST_KEY", raising=False)
    spec = TargetSpec(id="x", model="m", base_url="http://h/v1", api_key_env="JBG_TEST_KEY")
    with pytest.raises(InputError, match="JBG_TEST_KEY"):
        OpenAITarget(spec)
    monkeypatch.setenv("JBG_TEST_KEY", "sekrit")
    t = OpenAITarget(spec)
    req = TargetRequest(seed=3, timeout_s=1, hints=_hints(0))
    body = t.body([ChatMessage(role="user", content="q")], req)
    assert body["seed"] == 3
    assert "jbgrade" not in body  # hints only when the spec opts in
    assert json.dumps(body)
