"""A real local OpenAI-compatible HTTP server answering as the reference judge model.

Fault modes (set ``server.faults``) let tests exercise retries and bad bodies.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from jbgrade.judges import reference_judge_reply


@dataclass
class JudgeServer:
    base_url: str
    faults: list[str] = field(default_factory=list)
    """Consumed one per request: '429', '500', 'garbage', 'text:<reply>'."""
    requests: int = 0
    last_headers: dict[str, str] = field(default_factory=dict)


def _handler(state: JudgeServer) -> type[BaseHTTPRequestHandler]:
    class H(BaseHTTPRequestHandler):
        disable_nagle_algorithm = True
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            return None

        def _send(self, code: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(code)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            n = int(self.headers.get("content-length", "0"))
            req = json.loads(self.rfile.read(n))
            state.requests += 1
            state.last_headers = {k.lower(): v for k, v in self.headers.items()}
            fault = state.faults.pop(0) if state.faults else None
            if fault == "429":
                self._send(429, b'{"error": "slow down"}', {"retry-after": "0"})
                return
            if fault == "500":
                self._send(500, b'{"error": "boom"}')
                return
            if fault == "404":
                self._send(404, b'{"error": "no such model"}')
                return
            if fault == "garbage":
                self._send(200, b"<html>not json")
                return
            if self.path != "/v1/chat/completions":
                self._send(404, b"{}")
                return
            reply = (
                fault[5:]
                if fault and fault.startswith("text:")
                else reference_judge_reply(req["messages"])
            )
            body = {
                "id": "x",
                "object": "chat.completion",
                "model": req["model"],
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": reply},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            }
            self._send(200, json.dumps(body).encode())

    return H


@pytest.fixture
def judge_server() -> Iterator[JudgeServer]:
    state = JudgeServer(base_url="")
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    srv.daemon_threads = True
    state.base_url = f"http://127.0.0.1:{srv.server_address[1]}/v1"
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        yield state
    finally:
        srv.shutdown()
        srv.server_close()
