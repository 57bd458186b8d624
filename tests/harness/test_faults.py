"""Faults over real HTTP: 429 storms, 5xx, timeouts, truncated and non-JSON bodies,
dropped connections. Every attempt is recorded once; failures carry their reason."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path

from jbgrade.harness import (
    AttemptStore,
    HttpRequest,
    HttpResponse,
    HttpServer,
    build_plan,
    iter_attempt_records,
    json_response,
    parse_retry_after,
    parse_spec,
    read_attempts,
    run_campaign,
)

# behaviour id -> (fault, how many times it fails before succeeding; -1 = always)
FAULTS = {
    "ok-1": ("none", 0),
    "ok-2": ("none", 0),
    "t-429": ("429", 2),
    "t-503": ("503", 1),
    "t-timeout": ("timeout", 1),
    "t-trunc": ("truncated", 1),
    "t-close": ("close", 1),
    "t-html": ("nonjson", 1),
    "p-500": ("500", -1),
    "p-html": ("nonjson", -1),
    "p-timeout": ("timeout", -1),
    "p-close": ("close", -1),
    "p-400": ("400", -1),
}

OK_BODY = {
    "id": "x",
    "object": "chat.completion",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Sure. Here."}}],
    "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
}


class FaultServer:
    def __init__(self, storm: int) -> None:
        self.seen: Counter[str] = Counter()
        self.requests = 0
        self.storm = storm  # the first N requests of all get 429

    async def handle(self, req: HttpRequest) -> HttpResponse:
        self.requests += 1
        body = req.json()
        text = body["messages"][-1]["content"]
        bid = text.split("::", 1)[0].split()[-1]
        key = json.dumps(body, sort_keys=True)
        self.seen[key] += 1
        n = self.seen[key]
        if self.requests <= self.storm:
            return json_response({"error": "slow down"}, 429, headers=(("retry-after", "0.05"),))
        fault, times = FAULTS[bid]
        if fault == "none" or (times >= 0 and n > times):
            return json_response(OK_BODY)
        if fault in ("429", "503", "500", "400"):
            hdr = (("retry-after", "0"),) if fault in ("429", "503") else ()
            return json_response({"error": fault}, int(fault), headers=hdr)
        if fault == "timeout":
            await asyncio.sleep(1.5)
            return json_response(OK_BODY)
        if fault == "truncated":
            raw = (
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n{"
            )
            return HttpResponse(raw=raw)
        if fault == "close":
            return HttpResponse(raw=b"")
        return HttpResponse(body=b"<html>upstream error</html>", content_type="text/html")


def _spec(url: str, behaviours: Path, budget: str = "") -> str:
    return f"""
name: faults
seed: 1
samples: 2
targets:
  - {{id: flaky, type: openai, base_url: "{url}", model: m, vendor: v}}
attacks:
  - {{id: wrap, template: "{{behaviour}} :: please"}}
behaviours: ["{behaviours}"]
limits:
  concurrency: 8
  timeout_s: 0.4
  retries: 3
  backoff_s: 0.01
  max_backoff_s: 0.2
  {budget}
"""


def _behaviours(tmp_path: Path) -> Path:
    f = tmp_path / "b.jsonl"
    f.write_text(
        "".join(
            json.dumps({"id": bid, "domain": "G", "category": "x", "text": f"[canary] {bid}"})
            + "\n"
            for bid in FAULTS
        )
    )
    return f


async def test_faults_are_retried_or_recorded_never_double_counted(tmp_path: Path) -> None:
    fs = FaultServer(storm=12)
    async with HttpServer(fs.handle) as http:
        plan = build_plan(parse_spec(_spec(http.base_url + "/v1", _behaviours(tmp_path))))
        store = AttemptStore.open(tmp_path / "c", plan.manifest(), resume=False)
        summary = await run_campaign(plan, store)
        store.close()
        await plan.aclose()
    records = list(iter_attempt_records(tmp_path / "c"))
    assert len(records) == plan.planned == len(FAULTS) * 2 * 2
    assert len({r.key for r in records}) == len(records)
    assert summary.outcome == "completed"
    assert summary.retries > 12  # the storm, plus the transient faults
    for r in records:
        fault, times = FAULTS[r.behaviour_id]
        if times >= 0:
            assert r.status == "ok", (r.behaviour_id, r.error)
            assert r.response == "Sure. Here."
            assert r.success is True
            assert r.usage["total_tokens"] == 5
        else:
            assert r.status == "error"
            assert r.success is None
            assert r.response is None
            assert r.error
            want = {
                "500": "HTTP 500",
                "nonjson": "non-JSON body",
                "timeout": "timeout",
                "close": "connection lost",
                "400": "HTTP 400",
            }[fault]
            assert want in r.error, r.error
            # 400 is not retryable; the others use every retry.
            assert r.retries == (0 if fault == "400" else 3), (r.behaviour_id, r.retries)
        if r.behaviour_id.startswith("t-"):
            assert r.retries >= times, (r.behaviour_id, r.retries)
    assert summary.errors == 5 * 4


async def test_budget_stop_under_faults_then_resume(tmp_path: Path) -> None:
    fs = FaultServer(storm=0)
    async with HttpServer(fs.handle) as http:
        url = http.base_url + "/v1"
        b = _behaviours(tmp_path)
        plan = build_plan(parse_spec(_spec(url, b, "budget: {requests: 40}")))
        store = AttemptStore.open(tmp_path / "c", plan.manifest(), resume=False)
        s1 = await run_campaign(plan, store)
        store.close()
        await plan.aclose()
        assert s1.outcome == "budget"
        assert fs.requests <= 40
        first = read_attempts(tmp_path / "c")
        assert 0 < len(first) < plan.planned
        plan2 = build_plan(parse_spec(_spec(url, b)))
        store = AttemptStore.open(tmp_path / "c", plan2.manifest(), resume=True)
        s2 = await run_campaign(plan2, store)
        store.close()
        await plan2.aclose()
    assert s2.outcome == "completed"
    records = list(iter_attempt_records(tmp_path / "c"))
    assert len(records) == plan.planned
    assert len({r.key for r in records}) == plan.planned


def test_retry_after_forms() -> None:
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after("0.5") == 0.5
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412480.0 - 10) == 10.0
