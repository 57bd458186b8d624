"""An OpenAI-compatible chat-completions client (vLLM, llama.cpp, Ollama, hosted APIs).

The one HTTP chat client of jbgrade: the ``openai`` target and the endpoint
judges both use it. aiohttp, one ClientSession per model with a keep-alive pool
(docs/design/0003-harness-http-client.md says why not httpx); aiohttp itself is
imported when the first model is made, so importing jbgrade never loads it.

A deployment can tell the harness which protection layer acted by adding a
``jbgrade`` object to the chat-completion JSON::

    {"choices": [...], "jbgrade": {"status": "blocked", "stopped_by":
     "input_classifier", "layers_passed": ["system_prompt"], "detected": true}}

Without it, ``finish_reason == "content_filter"`` is read as the output
classifier having withheld the answer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from json.encoder import encode_basestring_ascii as _esc
from typing import Any

from jbgrade._errors import TargetError
from jbgrade.chat._model import ChatReply, ChatRequest
from jbgrade.chat._retry import RETRYABLE_STATUS, parse_retry_after
from jbgrade.records import LAYER_ORDER, ChatMessage

__all__ = ["UNREACHABLE", "OpenAIChatModel", "reply_from_json"]

#: Prefix of the error of a call that made no connection at all.
UNREACHABLE = "unreachable"
# One compact encoder for every request body (json.dumps with separators builds
# a new encoder per call).
_encode = json.JSONEncoder(separators=(",", ":")).encode
_FIXED_KEYS = frozenset({"model", "messages", "seed", "jbgrade"})


_USAGE_KEYS = ("prompt_tokens", "completion_tokens", "total_tokens")


def _snippet(body: bytes) -> str:
    text = body[:200].decode("utf-8", "replace")
    return " ".join(text.split())


def reply_from_json(data: Any, declared: Sequence[str]) -> ChatReply:
    """Read one chat-completion JSON body (shared with tests and plug-ins)."""
    try:
        choice = data["choices"][0]
        message = choice.get("message") or {}
        text = message.get("content")
        finish = choice.get("finish_reason")
    except (KeyError, IndexError, TypeError, AttributeError):
        raise TargetError("malformed chat completion: no choices[0].message") from None
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise TargetError("malformed chat completion: message.content is not a string")
    usage_raw = data.get("usage")
    usage: dict[str, int] = {}
    if isinstance(usage_raw, dict):
        for k in _USAGE_KEYS:
            v = usage_raw.get(k)
            if isinstance(v, int):
                usage[k] = int(v)
    ext = data.get("jbgrade")
    if isinstance(ext, dict):
        stopped = ext.get("stopped_by")
        passed = tuple(str(x) for x in ext.get("layers_passed") or () if x in LAYER_ORDER)
        detected = ext.get("detected")
        return ChatReply(
            text=text,
            status="blocked" if ext.get("status") == "blocked" else "ok",
            stopped_by=stopped if stopped in LAYER_ORDER else None,
            layers_passed=passed,
            detected=detected if isinstance(detected, bool) else None,
            usage=usage,
            finish_reason=finish,
        )
    if finish == "content_filter" and "output_classifier" in declared:
        before = tuple(x for x in declared if LAYER_ORDER.index(x) < 3)
        return ChatReply(
            text=text,
            status="blocked",
            stopped_by="output_classifier",
            layers_passed=before,
            usage=usage,
            finish_reason=finish,
        )
    return ChatReply(text=text, usage=usage, finish_reason=finish)


class OpenAIChatModel:
    """POST /chat/completions on an OpenAI-compatible endpoint (a :class:`ChatModel`)."""

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        system_prompt: str | None = None,
        send_seed: bool = False,
        hints: bool = False,
        layers: Sequence[str] = (),
    ) -> None:
        import aiohttp  # on first use: importing jbgrade never loads the HTTP client

        self._aiohttp = aiohttp
        self._model = model
        self._system_prompt = system_prompt
        self._send_seed = send_seed
        self._hints = hints
        self._layers = list(layers)
        self._params_dict = dict(params or {})
        self._url = base_url.rstrip("/") + "/chat/completions"
        # Content-Type comes with each body (see complete); session-wide headers are
        # merged into every request, so there are none unless the caller needs them.
        self._headers = dict(headers or {})
        self._session: aiohttp.ClientSession | None = None
        self._timeouts: dict[float, aiohttp.ClientTimeout] = {}
        # Pre-encoded parts of every body (see payload). None: params override model,
        # messages, seed or jbgrade, or do not encode, so bodies take the general path.
        self._prefix: str | None = None
        self._system = ""
        self._params = ""
        if not _FIXED_KEYS.intersection(self._params_dict):
            try:
                p = self._params_dict
                self._params = "," + _encode(p)[1:-1] if p else ""
                self._prefix = '{"model":' + _encode(model) + ',"messages":['
            except (TypeError, ValueError):
                self._prefix = None
            if system_prompt:
                self._system = f'{{"role":"system","content":{_esc(system_prompt)}}}'

    def _client(self) -> Any:
        aiohttp = self._aiohttp
        if self._session is None or self._session.closed:
            # No pool cap here (limit=0): the runner bounds requests in flight, and a
            # cap below the campaign's concurrency would silently throttle it.
            conn = aiohttp.TCPConnector(limit=0, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(connector=conn, headers=self._headers or None)
        return self._session

    def body(self, messages: Sequence[ChatMessage], request: ChatRequest) -> dict[str, Any]:
        msgs = [{"role": m.role, "content": m.content} for m in messages]
        if self._system_prompt and not (msgs and msgs[0]["role"] == "system"):
            msgs.insert(0, {"role": "system", "content": self._system_prompt})
        body: dict[str, Any] = {"model": self._model, "messages": msgs}
        if self._send_seed:
            body["seed"] = request.seed
        body.update(self._params_dict)
        if self._hints and request.hints is not None:
            body["jbgrade"] = request.hints.to_json()
        return body

    def payload(self, messages: Sequence[ChatMessage], request: ChatRequest) -> bytes:
        """The request body: ``body()`` as compact JSON, built from pre-encoded parts.

        Byte for byte what encoding ``body()`` gives (tests check it); params that
        override the fixed keys take the general path.
        """
        if self._prefix is None:
            return _encode(self.body(messages, request)).encode()
        msgs = ",".join(
            [f'{{"role":{_esc(m.role)},"content":{_esc(m.content)}}}' for m in messages]
        )
        if self._system and not (messages and messages[0].role == "system"):
            msgs = f"{self._system},{msgs}" if msgs else self._system
        parts = [self._prefix, msgs, "]"]
        if self._send_seed:
            parts.append(f',"seed":{request.seed:d}')
        parts.append(self._params)
        if self._hints and request.hints is not None:
            parts.append(',"jbgrade":')
            parts.append(_encode(request.hints.to_json()))
        parts.append("}")
        return "".join(parts).encode()

    async def complete(self, messages: Sequence[ChatMessage], request: ChatRequest) -> ChatReply:
        aiohttp = self._aiohttp
        session = self._session
        if session is None or session.closed:
            session = self._client()
        payload = aiohttp.BytesPayload(
            self.payload(messages, request), content_type="application/json"
        )
        timeout = self._timeouts.get(request.timeout_s)
        if timeout is None:
            timeout = self._timeouts[request.timeout_s] = aiohttp.ClientTimeout(
                total=request.timeout_s
            )
        try:
            async with session.post(self._url, data=payload, timeout=timeout) as resp:
                raw = await resp.read()
                status = resp.status
                retry_after = None if status == 200 else resp.headers.get("retry-after")
        except TimeoutError:
            raise TargetError(f"timeout after {request.timeout_s:g} s", retryable=True) from None
        except aiohttp.ClientPayloadError as exc:
            raise TargetError(f"truncated body: {exc}", retryable=True) from None
        except aiohttp.ClientConnectorError as exc:
            # Refused, no route, unknown host: no connection was made. Retrying each
            # attempt with back-off only delays the verdict (the runner stops early).
            raise TargetError(f"{UNREACHABLE}: {exc}", retryable=False) from None
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as exc:
            raise TargetError(f"connection lost: {exc}", retryable=True) from None
        except aiohttp.ClientResponseError as exc:
            raise TargetError(f"bad HTTP response: {exc.message}", retryable=True) from None
        except aiohttp.ClientError as exc:
            raise TargetError(
                f"HTTP client error: {type(exc).__name__}: {exc}", retryable=True
            ) from None
        if status != 200:
            retryable = status in RETRYABLE_STATUS or status >= 500
            raise TargetError(
                f"HTTP {status}: {_snippet(raw)}",
                retryable=retryable,
                retry_after=parse_retry_after(retry_after),
                status=status,
            )
        try:
            # JSON is UTF-8 (RFC 8259): decoding first skips json's encoding sniffing.
            data = json.loads(raw.decode("utf-8"))
        except ValueError:
            raise TargetError(
                f"non-JSON body (HTTP 200): {_snippet(raw)!r}", retryable=True, status=200
            ) from None
        return reply_from_json(data, self._layers)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
