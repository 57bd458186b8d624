"""OpenAI-compatible chat-completions target (vLLM, llama.cpp, Ollama, hosted APIs).

HTTP client: aiohttp, one ClientSession per target with a keep-alive pool sized
to the concurrency (docs/design/0003-harness-http-client.md says why not httpx).

A deployment can tell the harness which protection layer acted by adding a
``jbgrade`` object to the chat-completion JSON::

    {"choices": [...], "jbgrade": {"status": "blocked", "stopped_by":
     "input_classifier", "layers_passed": ["system_prompt"], "detected": true}}

Without it, ``finish_reason == "content_filter"`` is read as the output
classifier having withheld the answer.
"""

from __future__ import annotations

import email.utils
import json
import os
import time
from collections.abc import Sequence
from json.encoder import encode_basestring_ascii as _esc
from pathlib import Path
from typing import Any, ClassVar

import aiohttp

from jbgrade._errors import InputError, TargetError
from jbgrade.harness._health import UNREACHABLE
from jbgrade.harness._targets import (
    TargetCapabilities,
    TargetInfo,
    TargetReply,
    TargetRequest,
    TargetSpec,
    register_target,
)
from jbgrade.records import LAYER_ORDER, ChatMessage

__all__ = ["OpenAITarget", "parse_retry_after", "reply_from_json"]

_RETRYABLE = frozenset({408, 409, 425, 429})
# One compact encoder for every request body (json.dumps with separators builds
# a new encoder per call).
_encode = json.JSONEncoder(separators=(",", ":")).encode
_FIXED_KEYS = frozenset({"model", "messages", "seed", "jbgrade"})


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        dt = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, dt.timestamp() - (time.time() if now is None else now))


_USAGE_KEYS = ("prompt_tokens", "completion_tokens", "total_tokens")


def _snippet(body: bytes) -> str:
    text = body[:200].decode("utf-8", "replace")
    return " ".join(text.split())


def reply_from_json(data: Any, declared: Sequence[str]) -> TargetReply:
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
        return TargetReply(
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
        return TargetReply(
            text=text,
            status="blocked",
            stopped_by="output_classifier",
            layers_passed=before,
            usage=usage,
            finish_reason=finish,
        )
    return TargetReply(text=text, usage=usage, finish_reason=finish)


class OpenAITarget:
    """POST /chat/completions on an OpenAI-compatible endpoint."""

    #: aiohttp applies ``TargetRequest.timeout_s`` to the whole request; replies are
    #: well typed (str text, declared layers, int usage).
    capabilities: ClassVar[TargetCapabilities] = TargetCapabilities(
        enforces_timeout=True, typed_replies=True
    )

    def __init__(self, spec: TargetSpec, base_dir: Path | None = None) -> None:
        if not spec.base_url:
            raise InputError("an openai target needs base_url", field=f"targets.{spec.id}")
        if not spec.model:
            raise InputError("an openai target needs model", field=f"targets.{spec.id}")
        self._spec = spec
        self._url = spec.base_url.rstrip("/") + "/chat/completions"
        # Content-Type comes with each body (see complete); session-wide headers are
        # merged into every request, so there are none unless the spec needs them.
        self._headers = dict(spec.headers)
        if spec.api_key_env:
            key = os.environ.get(spec.api_key_env)
            if key is None:
                raise InputError(
                    f"environment variable {spec.api_key_env} is not set",
                    field=f"targets.{spec.id}.api_key_env",
                )
            self._headers["authorization"] = f"Bearer {key}"
        self._session: aiohttp.ClientSession | None = None
        self._timeouts: dict[float, aiohttp.ClientTimeout] = {}
        # Pre-encoded parts of every body (see payload). None: params override model,
        # messages, seed or jbgrade, or do not encode, so bodies take the general path.
        self._prefix: str | None = None
        self._system = ""
        self._params = ""
        if not _FIXED_KEYS.intersection(spec.params):
            try:
                self._params = "," + _encode(spec.params)[1:-1] if spec.params else ""
                self._prefix = '{"model":' + _encode(spec.model) + ',"messages":['
            except (TypeError, ValueError):
                self._prefix = None
            if spec.system_prompt:
                self._system = f'{{"role":"system","content":{_esc(spec.system_prompt)}}}'
        self._info = TargetInfo(
            id=spec.id,
            type=spec.type,
            model=spec.model,
            vendor=spec.vendor or "unknown",
            layers=list(spec.layers),
            endpoint=spec.base_url,
            params=dict(spec.params),
        )

    @property
    def info(self) -> TargetInfo:
        return self._info

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            # No pool cap here (limit=0): the runner bounds requests in flight, and a
            # cap below the campaign's concurrency would silently throttle it.
            conn = aiohttp.TCPConnector(limit=0, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(connector=conn, headers=self._headers or None)
        return self._session

    def body(self, messages: Sequence[ChatMessage], request: TargetRequest) -> dict[str, Any]:
        msgs = [{"role": m.role, "content": m.content} for m in messages]
        if self._spec.system_prompt and not (msgs and msgs[0]["role"] == "system"):
            msgs.insert(0, {"role": "system", "content": self._spec.system_prompt})
        body: dict[str, Any] = {"model": self._spec.model, "messages": msgs}
        if self._spec.send_seed:
            body["seed"] = request.seed
        body.update(self._spec.params)
        if self._spec.hints and request.hints is not None:
            body["jbgrade"] = request.hints.to_json()
        return body

    def payload(self, messages: Sequence[ChatMessage], request: TargetRequest) -> bytes:
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
        if self._spec.send_seed:
            parts.append(f',"seed":{request.seed:d}')
        parts.append(self._params)
        if self._spec.hints and request.hints is not None:
            parts.append(',"jbgrade":')
            parts.append(_encode(request.hints.to_json()))
        parts.append("}")
        return "".join(parts).encode()

    async def complete(
        self, messages: Sequence[ChatMessage], request: TargetRequest
    ) -> TargetReply:
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
            retryable = status in _RETRYABLE or status >= 500
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
        return reply_from_json(data, self._info.layers)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


@register_target("openai")
def _openai_factory(spec: TargetSpec, base_dir: Path) -> OpenAITarget:
    return OpenAITarget(spec, base_dir)
