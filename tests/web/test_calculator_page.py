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
    assert v.startswith("JBG:1.1/LY:C/UN:X") and "HD:W" in v and "CG:X" in v
    assert grade(v).provisional
    # The form of a 1.0 page says so (hidden field jbg=1.0).
    r = client.get("/calculator?jbg=1.0&LY=C&HD=W", follow_redirects=False)
    assert unquote(r.headers["location"]).endswith(
        "v=JBG:1.0/LY:C/UN:X/RL:X/TR:X/HD:W/UP:X/AG:X/AC:X/AU:X/EX:X/ST:X"
    )


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


def test_defaults_to_jbg_11_and_offers_10(client: TestClient) -> None:
    html = client.get("/calculator").text
    assert 'data-testid="vector">JBG:1.1/LY:X/UN:X/RL:X/TR:X/HD:X/UP:X/CG:X/' in html
    assert 'name="jbg" value="1.1"' in html and 'id="m-CG-E"' in html
    assert 'href="/calculator?jbg=1.1" aria-current="page"' in html
    old = client.get("/calculator?jbg=1.0").text
    assert 'data-testid="vector">JBG:1.0/LY:X' in old and 'id="m-CG-E"' not in old
    assert 'href="/calculator?jbg=1.0" aria-current="page"' in old
    # A vector names its own version, whatever the page was showing.
    assert 'name="jbg" value="1.0"' in client.get("/calculator", params={"v": TOP}).text
    assert 'name="jbg" value="1.1"' in client.get("/calculator?jbg=9.9").text


def test_every_metric_has_its_full_labels_and_definition_from_the_rubric(
    client: TestClient,
) -> None:
    from markupsafe import escape

    from jbgrade.rubric import CRITERIA, definitions_for, tables_for

    for version in ("1.0", "1.1"):
        html = client.get(f"/calculator?jbg={version}").text
        defs = definitions_for(version)
        for m in tables_for(version).metrics:
            assert f'data-testid="def-{m.key}">{escape(defs.metrics[m.key])}</p>' in html
            for letter, meaning in zip(m.letters, m.meanings, strict=True):
                label = f'<b>{letter}</b> <span class="opt">{escape(meaning)}</span>'
                assert label in html, (version, m.key, letter)
        form = html.split('id="calc-form"', 1)[1]
        assert "…" not in form  # no value label is cut short
        # The codes are explained on the first screen: criteria and X, from the data.
        codes = html.split('data-testid="codes"', 1)[1].split("</dl>", 1)[0]
        for c in CRITERIA:
            assert f"<dt>{c}</dt><dd>{escape(defs.criteria[c])}</dd>" in codes
        assert f"<dt>X</dt><dd>{escape(defs.terms['X'])}</dd>" in codes


def test_scorecard_exports(client: TestClient) -> None:
    v11 = "JBG:1.1/LY:F/UN:U/RL:X/TR:M/HD:C/UP:F/CG:E/AG:A/AC:L/AU:Y/EX:O/RE:W/ST:A"
    html = client.get("/calculator", params={"v": v11}).text
    for fmt in ("png", "svg", "txt"):
        assert f'href="/calculator/scorecard.{fmt}?v={v11}" download' in html
    g = grade(v11)
    txt = client.get("/calculator/scorecard.txt", params={"v": v11})
    assert txt.status_code == 200 and txt.headers["content-type"].startswith("text/plain")
    lines = txt.text.splitlines()
    assert lines[:3] == ["JBG 1.1 scorecard", "10.0 Critical (provisional, systemic)", v11]
    assert max(map(len, lines)) <= 80
    assert "  RL  Reliability" in txt.text and "\n      X  not assessed: scored as H" in txt.text
    assert 'filename="jbg-scorecard-LY-F-UN-U' in txt.headers["content-disposition"]
    svg = client.get("/calculator/scorecard.svg", params={"v": v11})
    assert svg.headers["content-type"] == "image/svg+xml"
    import xml.etree.ElementTree as ET

    root = ET.fromstring(svg.text)
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "10.0" in texts and "Critical" in texts and v11 in texts
    assert "The full deployed stack incl. monitoring and enforcement, undetected" in texts
    assert g.vector in root.attrib["aria-label"]
    png = client.get("/calculator/scorecard.png", params={"v": v11})
    assert png.headers["content-type"] == "image/png" and png.content[:8] == b"\x89PNG\r\n\x1a\n"
    width = int.from_bytes(png.content[16:20], "big")
    assert width == 2 * int(root.attrib["width"])  # rasterised at twice the SVG's size
    bad = client.get("/calculator/scorecard.svg", params={"v": "JBG:1.1/LY:Q"})
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
