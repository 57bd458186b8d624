"""A minimal HTTP/1.1 server on asyncio streams, for local test and mock endpoints.

Why not uvicorn: the reference target and the benchmark's mock must not be the
bottleneck of what they measure, must run from the core install (uvicorn is in
the ``server`` extra) and must be able to misbehave on purpose (truncated
bodies, dropped connections) for the fault tests. asyncio sets TCP_NODELAY on
its TCP transports, so there is no Nagle / delayed-ACK stall.

Only what an OpenAI-compatible client sends is supported: Content-Length
bodies (no chunked requests), keep-alive, one request at a time per connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

__all__ = ["HttpRequest", "HttpResponse", "HttpServer", "json_response"]

_MAX_HEADER = 64 * 1024
_MAX_BODY = 32 * 1024 * 1024


@dataclass(frozen=True)
class HttpRequest:
    """One parsed request."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class HttpResponse:
    """A response; ``raw`` bytes are written verbatim (then the connection closes)."""

    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    raw: bytes | None = None
    close: bool = False


def json_response(obj: Any, status: int = 200, **kw: Any) -> HttpResponse:
    return HttpResponse(status=status, body=json.dumps(obj, separators=(",", ":")).encode(), **kw)


Handler = Callable[[HttpRequest], Awaitable[HttpResponse]]


def _head(resp: HttpResponse, keep_alive: bool) -> bytes:
    try:
        phrase = HTTPStatus(resp.status).phrase
    except ValueError:
        phrase = "Status"
    lines = [
        f"HTTP/1.1 {resp.status} {phrase}",
        f"content-type: {resp.content_type}",
        f"content-length: {len(resp.body)}",
        "connection: " + ("keep-alive" if keep_alive else "close"),
    ]
    lines.extend(f"{k}: {v}" for k, v in resp.headers)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class HttpServer:
    """Serve ``handler`` on ``host:port`` (port 0 picks a free one)."""

    def __init__(self, handler: Handler, host: str = "127.0.0.1", port: int = 0) -> None:
        self._handler = handler
        self._host = host
        self._port = port
        self._server: asyncio.Server | None = None
        self._conns: set[asyncio.StreamWriter] = set()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("server not started")
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    @property
    def base_url(self) -> str:
        return f"http://{self._host}:{self.port}"

    async def start(self) -> HttpServer:
        self._server = await asyncio.start_server(
            self._serve_conn, self._host, self._port, backlog=1024, limit=_MAX_HEADER
        )
        return self

    async def serve_forever(self) -> None:
        if self._server is None:
            await self.start()
        assert self._server is not None
        await self._server.serve_forever()

    async def close(self) -> None:
        if self._server is None:
            return
        self._server.close()
        for w in list(self._conns):
            w.close()
        with contextlib.suppress(Exception):
            await self._server.wait_closed()
        self._server = None

    async def __aenter__(self) -> HttpServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _serve_conn(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._conns.add(writer)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    return
                req, keep_alive = self._parse_head(head)
                if req is None:
                    writer.write(_head(HttpResponse(400), False))
                    return
                length = int(req.headers.get("content-length", "0") or 0)
                if length > _MAX_BODY:
                    writer.write(_head(HttpResponse(413), False))
                    return
                body = await reader.readexactly(length) if length else b""
                req = HttpRequest(req.method, req.path, req.query, req.headers, body)
                try:
                    resp = await self._handler(req)
                except Exception as exc:  # a handler bug must not kill the server
                    resp = json_response({"error": {"message": repr(exc)}}, 500)
                if resp.raw is not None:
                    writer.write(resp.raw)
                    await writer.drain()
                    return
                keep_alive = keep_alive and not resp.close
                writer.write(_head(resp, keep_alive) + resp.body)
                await writer.drain()
                if not keep_alive:
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        except asyncio.CancelledError:
            # Shutdown: end quietly (3.11's stream callback would log a cancelled task).
            return
        finally:
            self._conns.discard(writer)
            with contextlib.suppress(Exception):
                writer.close()

    @staticmethod
    def _parse_head(head: bytes) -> tuple[HttpRequest | None, bool]:
        try:
            text = head.decode("latin-1")
            first, *rest = text.split("\r\n")
            method, target, version = first.split(" ", 2)
        except ValueError:
            return None, False
        headers: dict[str, str] = {}
        for line in rest:
            if not line:
                continue
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            return None, False
        path, _, query = target.partition("?")
        conn = headers.get("connection", "").lower()
        keep_alive = conn != "close" if version == "HTTP/1.1" else conn == "keep-alive"
        return HttpRequest(method.upper(), path, query, headers, b""), keep_alive
