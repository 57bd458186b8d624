"""The OpenAPI document describes every success body (issue 13/14: no ``{}`` schemas)."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient


def _success_bodies(doc: dict[str, Any]) -> list[tuple[str, str, str, dict[str, Any]]]:
    out = []
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            for code, resp in op.get("responses", {}).items():
                if code.startswith("2") and code != "204":
                    schema = resp.get("content", {}).get("application/json", {}).get("schema")
                    out.append((method.upper(), path, code, schema or {}))
    return out


def test_every_success_response_declares_its_schema(client: TestClient) -> None:
    doc = client.get("/api/v1/openapi.json").json()
    bodies = _success_bodies(doc)
    assert len(bodies) >= 25  # the registry and the public routes are all there
    empty = [
        (m, p, c) for m, p, c, s in bodies if not ({"$ref", "type", "anyOf", "oneOf"} & set(s))
    ]
    assert empty == []
