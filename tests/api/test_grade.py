"""POST /api/v1/grade answers exactly what the library's Grade.to_dict() gives."""

from __future__ import annotations

import json
import random
from importlib import resources

import jsonschema
from starlette.testclient import TestClient

from jbgrade import grade
from jbgrade.rubric import NOT_ASSESSED, default_tables

TOP = "JBG:1.0/LY:F/UN:U/RL:H/TR:M/HD:C/UP:F/AG:A/AC:L/AU:Y/EX:O/ST:A"


def _random_vectors(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    t = default_tables()
    out = []
    for _ in range(n):
        parts = [f"{m.key}:{rng.choice([*m.letters, NOT_ASSESSED])}" for m in t.metrics]
        out.append(t.prefix + "/".join(parts))
    return out


def test_grade_equals_library(client: TestClient) -> None:
    schema = json.loads(
        resources.files("jbgrade.rubric").joinpath("data/grade.schema.json").read_text()
    )
    for v in [TOP, *_random_vectors(25)]:
        r = client.post("/api/v1/grade", json={"vector": v})
        assert r.status_code == 200
        assert r.headers["content-type"] == "application/json"
        assert r.json() == grade(v).to_dict()
        jsonschema.validate(r.json(), schema)
    assert client.post("/api/v1/grade", json={"vector": TOP}).json()["severity"] == "Critical"


def test_bad_vector_is_a_problem_naming_the_metric(client: TestClient) -> None:
    r = client.post("/api/v1/grade", json={"vector": TOP.replace("UN:U", "UN:Q")})
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["type"] == "/api/v1/problems/invalid-vector"
    assert body["status"] == 422 and body["metric"] == "UN" and body["position"] == 2
    assert "UN" in body["detail"]


def test_extra_fields_and_wrong_types_rejected(client: TestClient) -> None:
    r = client.post("/api/v1/grade", json={"vector": TOP, "extra": 1})
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == "body.extra"
    r = client.post("/api/v1/grade", json={"vector": 5})
    assert r.status_code == 422 and r.json()["type"].endswith("/validation-error")


def test_openapi_published_with_grade_schema(client: TestClient) -> None:
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    assert doc["openapi"].startswith("3.")
    op = doc["paths"]["/api/v1/grade"]["post"]
    ref = op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert ref == "#/components/schemas/Grade"
    grade_schema = doc["components"]["schemas"]["Grade"]
    assert set(grade_schema["required"]) >= {"vector", "score", "severity", "tipping_points"}
    # Every $ref in the document resolves inside it.
    text = json.dumps(doc)
    for ref in {p.split('"')[0] for p in text.split('"$ref": "')[1:]}:
        node = doc
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]
    assert "application/problem+json" in json.dumps(op["responses"]["422"])
    # No interactive docs pages: they would load scripts from a CDN.
    assert client.get("/docs").status_code == 404
