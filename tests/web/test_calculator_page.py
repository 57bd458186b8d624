"""The calculator page without a browser: no-JS form flow, htmx fragments, escaping."""

from __future__ import annotations

from urllib.parse import unquote

from starlette.testclient import TestClient

from jbgrade import grade

TOP = "JBG:1.0/LY:F/UN:U/RL:H/TR:M/HD:C/UP:F/AG:A/AC:L/AU:Y/EX:O/ST:A"


def test_vector_in_url_renders_grade_and_checks_radios(client: TestClient) -> None:
    r = client.get("/calculator", params={"v": TOP})
    assert r.status_code == 200
    html = r.text
    assert 'data-testid="score">10.0<' in html
    assert 'class="badge sev-Critical">Critical<' in html
    for part in TOP.split("/")[1:]:
        k, v = part.split(":")
        assert f'id="m-{k}-{v}" value="{v}" checked' in html
    assert f'href="/calculator?v={TOP}"' in html  # share link keeps : and / readable


def test_form_get_redirects_to_canonical_shareable_url(client: TestClient) -> None:
    r = client.get("/calculator?LY=C&HD=W", follow_redirects=False)
    assert r.status_code == 303
    v = unquote(r.headers["location"].split("v=", 1)[1])
    assert v.startswith("JBG:1.0/LY:C/UN:X") and "HD:W" in v
    assert grade(v).provisional


def test_htmx_gets_fragment_and_push_url(client: TestClient) -> None:
    r = client.get("/calculator", params={"v": TOP}, headers={"HX-Request": "true"})
    assert r.status_code == 200
    assert r.text.lstrip().startswith('<div id="calc"')
    assert "<html" not in r.text
    assert unquote(r.headers["hx-push-url"]) == f"/calculator?v={TOP}"


def test_bad_vector_is_422_and_inert(client: TestClient) -> None:
    evil = '"><img src=x onerror=alert(1)><script>alert(1)</script>'
    r = client.get("/calculator", params={"v": evil})
    assert r.status_code == 422
    assert "<script>alert(1)" not in r.text and "<img src=x" not in r.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text or "&#34;&gt;&lt;img" in r.text
    r = client.get("/calculator", params={"LY": evil}, follow_redirects=False)
    assert r.status_code == 422 and "<img src=x" not in r.text


def test_tipping_point_links_are_valid_vectors(client: TestClient) -> None:
    g = grade(TOP)
    html = client.get("/calculator", params={"v": TOP}).text
    for tp in g.tipping_points:
        changed = TOP.replace(f"{tp['metric']}:{tp['from']}", f"{tp['metric']}:{tp['to']}")
        assert f'href="/calculator?v={changed}"' in html


def test_a_typo_keeps_the_other_selections_and_shows_no_grade(client: TestClient) -> None:
    """Issue 14: one typo (UN:Q) must not wipe every selection and show 10.0 Critical."""
    typo = TOP.replace("UN:U", "UN:Q")
    r = client.get("/calculator", params={"v": typo}, headers={"HX-Request": "true"})
    assert r.status_code == 422
    assert 'data-testid="vector-error"' in r.text and "UN" in r.text
    assert 'data-testid="score"' not in r.text  # no misleading grade
    assert "hx-push-url" not in r.headers  # the address bar is not changed
    for part in TOP.split("/")[1:]:
        k, v = part.split(":")
        if k != "UN":
            assert f'id="m-{k}-{v}" value="{v}" checked' in r.text, k
    assert 'id="m-UN-X" value="X" checked' in r.text


def test_fragment_vectors_are_loaded_by_the_page_script(client: TestClient) -> None:
    js = client.get("/static/app.js").text
    assert "window.location.hash" in js and "/calculator?v=" in js
