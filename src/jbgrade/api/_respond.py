"""JSON responses: one compact encoding for every endpoint and problem document."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from starlette.responses import Response

__all__ = ["json_bytes", "json_response"]


def json_bytes(obj: Any) -> bytes:
    """Compact UTF-8 JSON (no spaces, non-ASCII kept)."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def json_response(
    obj: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """``obj`` as an ``application/json`` response, encoded by :func:`json_bytes`."""
    return Response(
        json_bytes(obj), status_code=status, media_type="application/json", headers=headers
    )
