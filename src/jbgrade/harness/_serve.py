"""The reference target over HTTP: an OpenAI-compatible server.

Routes: ``POST /v1/chat/completions``, ``GET /v1/models``, ``GET /stats``
(request counts, including how many were exact repeats of an earlier request
body, so tests can check what a killed-and-resumed campaign re-sent),
``GET /stats/arrivals`` (arrival times of target requests per model, the
target's own clock), ``GET /stats/usage`` (arrival time and total tokens of
each answered target request), ``GET /stats/throttled`` (arrival times of the
requests answered 429), ``POST /stats/reset``, ``POST /control/overload`` and
``GET /health``.

``POST /control/overload {"after": N, "seconds": W}`` simulates a rate-limited
vendor: once N more target requests have been answered, every target request
for the next W seconds is answered ``429`` with ``Retry-After`` set to the
whole seconds left in that window (judge requests are not affected). A 429
answer is counted in ``throttled``, not in ``target_requests`` or ``repeated``.

The chat completion carries a ``jbgrade`` object saying which layer stopped
the request and whether monitoring detected it; :class:`~jbgrade.harness.OpenAITarget` reads it.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

from jbgrade.harness._httpserver import HttpRequest, HttpResponse, HttpServer, json_response
from jbgrade.harness._reference import ReferenceConfig, ReferenceModel

__all__ = ["ReferenceServer"]


def _error(status: int, message: str, kind: str = "invalid_request_error") -> HttpResponse:
    return json_response({"error": {"message": message, "type": kind}}, status)


class _Overload:
    __slots__ = ("after", "seconds", "start")

    def __init__(self, after: int, seconds: float) -> None:
        self.after = after
        self.seconds = seconds
        self.start: float | None = None


class ReferenceServer:
    """Serve one or more reference models (and their judge model) over HTTP."""

    def __init__(self, configs: Sequence[ReferenceConfig], latency_s: float = 0.0) -> None:
        if not configs:
            configs = [ReferenceConfig()]
        self.models = {c.model: ReferenceModel(c) for c in configs}
        self.judges = {c.judge_model for c in configs}
        self.latency_s = latency_s
        self._seen: Counter[bytes] = Counter()
        self.counts: Counter[str] = Counter()
        # Arrival times (wall clock) of chat completions per model: the request
        # rate measured by the target itself (GET /stats/arrivals).
        self.arrivals: dict[str, list[float]] = {}
        # (arrival time, total tokens) of each answered target request, per model.
        self.usage: dict[str, list[tuple[float, int]]] = {}
        # Arrival times of the target requests answered 429 (POST /control/overload).
        self.throttled: dict[str, list[float]] = {}
        self._overload: _Overload | None = None
        self._server: HttpServer | None = None
        self._created = int(time.time())

    def stats(self) -> dict[str, Any]:
        """Request counts; ``repeated`` counts bodies identical to an earlier request."""
        return {
            "requests": self.counts["requests"],
            "chat_completions": self.counts["chat"],
            "target_requests": self.counts["target"],
            "judge_requests": self.counts["judge"],
            "errors": self.counts["errors"],
            "distinct": len(self._seen),
            "repeated": sum(n - 1 for n in self._seen.values()),
            "repeated_target": self.counts["repeated_target"],
            "repeated_judge": self.counts["repeated_judge"],
            "throttled": self.counts["throttled"],
        }

    def overload(self, after: int, seconds: float) -> None:
        """Answer 429 to every target request for ``seconds``, once ``after`` more
        target requests have been answered."""
        self._overload = _Overload(after, seconds)

    def _overloaded(self, now: float) -> float | None:
        """Seconds left in the overload window at ``now`` (None: not overloaded)."""
        o = self._overload
        if o is None:
            return None
        if o.start is None:
            if o.after > 0:
                o.after -= 1
                return None
            o.start = now
        left = o.start + o.seconds - now
        return left if left > 0 else None

    async def handle(self, req: HttpRequest) -> HttpResponse:
        self.counts["requests"] += 1
        path = req.path.rstrip("/")
        if req.method == "POST" and path in ("/v1/chat/completions", "/chat/completions"):
            return await self._chat(req)
        if req.method == "GET" and path in ("/v1/models", "/models"):
            names = [*self.models, *sorted(self.judges)]
            return json_response(
                {
                    "object": "list",
                    "data": [
                        {
                            "id": n,
                            "object": "model",
                            "created": self._created,
                            "owned_by": "jbgrade",
                        }
                        for n in names
                    ],
                }
            )
        if req.method == "GET" and path == "/stats":
            return json_response(self.stats())
        if req.method == "GET" and path == "/stats/arrivals":
            return json_response(self.arrivals)
        if req.method == "GET" and path == "/stats/usage":
            return json_response(self.usage)
        if req.method == "GET" and path == "/stats/throttled":
            return json_response(self.throttled)
        if req.method == "POST" and path == "/control/overload":
            try:
                body = req.json()
                after, seconds = int(body.get("after", 0)), float(body["seconds"])
                if after < 0 or not seconds > 0:
                    raise ValueError("after must be >= 0 and seconds > 0")
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                return _error(400, f"bad request: {exc}")
            self.overload(after, seconds)
            return json_response({"ok": True})
        if req.method == "POST" and path == "/stats/reset":
            self.arrivals.clear()
            self.usage.clear()
            self.throttled.clear()
            self._overload = None
            self._seen.clear()
            self.counts.clear()
            return json_response({"ok": True})
        if req.method == "GET" and path == "/health":
            return json_response({"ok": True})
        return _error(404, f"no route {req.method} {req.path}")

    async def _chat(self, req: HttpRequest) -> HttpResponse:
        self.counts["chat"] += 1
        try:
            body = req.json()
            model = body["model"]
            messages = body["messages"]
            if not isinstance(messages, list) or not all(
                isinstance(m, dict) and isinstance(m.get("content"), str) for m in messages
            ):
                raise TypeError("messages must be a list of {role, content}")
        except (ValueError, KeyError, TypeError) as exc:
            self.counts["errors"] += 1
            return _error(400, f"bad request: {exc}")
        now = time.time()
        if isinstance(model, str):
            self.arrivals.setdefault(model, []).append(now)
        if isinstance(model, str) and model in self.models:
            left = self._overloaded(now)
            if left is not None:
                self.counts["throttled"] += 1
                self.throttled.setdefault(model, []).append(now)
                return json_response(
                    {"error": {"message": "rate limit reached", "type": "rate_limit_error"}},
                    429,
                    headers=(("retry-after", str(max(1, math.ceil(left)))),),
                )
        fp = hashlib.sha256(req.body).digest()
        self._seen[fp] += 1
        repeated = self._seen[fp] > 1
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        if model in self.judges:
            self.counts["judge"] += 1
            self.counts["repeated_judge"] += repeated
            try:
                from jbgrade.judges import reference_judge_reply
            except ImportError:  # pragma: no cover - judges are part of the package
                return _error(501, "the reference judge is not available")
            text = reference_judge_reply(messages)
            return json_response(self._completion(model, text, "stop", None))
        sim = self.models.get(model)
        if sim is None:
            self.counts["errors"] += 1
            return _error(404, f"model {model!r} not found", "model_not_found")
        self.counts["target"] += 1
        self.counts["repeated_target"] += repeated
        seed = body.get("seed")
        hints = body.get("jbgrade")
        reply = sim.respond(
            messages,
            int(seed) if isinstance(seed, int) else 0,
            hints if isinstance(hints, dict) else None,
        )
        if reply.usage:
            self.usage.setdefault(model, []).append((now, int(reply.usage.get("total_tokens", 0))))
        ext = {
            "status": reply.status,
            "stopped_by": reply.stopped_by,
            "layers": list(sim.config.layers),
            "layers_passed": list(reply.layers_passed),
            "detected": reply.detected,
        }
        out = self._completion(model, reply.text, reply.finish_reason or "stop", reply.usage)
        out["jbgrade"] = ext
        return json_response(out)

    def _completion(
        self, model: str, text: str, finish: str, usage: dict[str, int] | None
    ) -> dict[str, Any]:
        if usage is None:
            p = 1
            c = len(text) // 4 + 1
            usage = {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}
        n = self.counts["chat"]
        return {
            "id": f"chatcmpl-ref-{n}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": finish,
                }
            ],
            "usage": usage,
        }

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> HttpServer:
        self._server = await HttpServer(self.handle, host, port).start()
        return self._server

    async def close(self) -> None:
        if self._server is not None:
            await self._server.close()
            self._server = None
