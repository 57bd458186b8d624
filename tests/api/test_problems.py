"""Every 4xx/5xx is an RFC 9457 problem document, including framework errors."""

from __future__ import annotations

from starlette.testclient import TestClient

from jbgrade.api import PROBLEM_TYPES, Settings
from jbgrade.web import create_app


def _is_problem(r: object, status: int) -> dict[str, object]:
    resp = r  # httpx2 response
    assert resp.status_code == status, resp.text  # type: ignore[attr-defined]
    assert resp.headers["content-type"] == "application/problem+json"  # type: ignore[attr-defined]
    body: dict[str, object] = resp.json()  # type: ignore[attr-defined]
    assert {"type", "title", "status", "detail"} <= set(body)
    assert body["status"] == status
    return body


def test_404_and_405(client: TestClient) -> None:
    _is_problem(client.get("/api/v1/nope"), 404)
    body = _is_problem(client.delete("/api/v1/grade"), 405)
    assert "DELETE" in str(body["detail"])
    assert client.delete("/api/v1/grade").headers["allow"] == "POST"


def test_validation_lists_each_field(client: TestClient) -> None:
    body = _is_problem(client.post("/api/v1/grade", json={}), 422)
    errors = body["errors"]
    assert isinstance(errors, list) and errors[0]["loc"] == "body.vector"


def test_malformed_json(client: TestClient) -> None:
    r = client.post(
        "/api/v1/grade", content=b'{"vector": ', headers={"content-type": "application/json"}
    )
    body = _is_problem(r, 422)
    assert body["errors"][0]["type"] == "json_invalid"  # type: ignore[index]


def test_problem_types_documented(client: TestClient) -> None:
    listed = client.get("/api/v1/problems").json()
    assert {p["type"].rsplit("/", 1)[1] for p in listed} == set(PROBLEM_TYPES)
    for slug, kind in PROBLEM_TYPES.items():
        r = client.get(f"/api/v1/problems/{slug}")
        assert r.status_code == 200 and r.json()["status"] == kind.status
    _is_problem(client.get("/api/v1/problems/no-such-thing"), 404)


def test_unexpected_error_is_a_500_problem_without_details() -> None:
    app = create_app(Settings())

    @app.get("/api/v1/boom")
    async def boom() -> None:
        raise RuntimeError("secret-payload-canary")

    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/api/v1/boom")
    body = _is_problem(r, 500)
    assert "secret-payload-canary" not in r.text
    assert body["type"] == "/api/v1/problems/internal-error"


def test_browser_gets_an_html_error_page_for_ui_paths(client: TestClient) -> None:
    r = client.get("/no/such/page", headers={"accept": "text/html"})
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    # API paths stay JSON whatever the browser asks for.
    r = client.get("/api/v1/nope", headers={"accept": "text/html"})
    assert r.headers["content-type"] == "application/problem+json"
