"""The calculator in a real browser: click metrics, watch the grade, share and paste."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from jbgrade import grade
from tests.web.conftest import shot

pytestmark = pytest.mark.browser

TOP = "JBG:1.0/LY:F/UN:U/RL:H/TR:M/HD:C/UP:F/AG:A/AC:L/AU:Y/EX:O/ST:A"
LOW = "JBG:1.0/LY:M/UN:N/RL:L/TR:S/HD:G/UP:N/AG:T/AC:H/AU:N/EX:R/ST:U"


def _pick(page: Any, metric: str, letter: str) -> None:
    page.click(f"label[for='m-{metric}-{letter}']")


def _settled(page: Any) -> None:
    """Wait until htmx has no request in flight (queued ones included) and has settled.

    htmx marks the requesting element while a request runs and swapped elements until
    they settle; a queued request starts in the same task that ends the previous one.
    """
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')"
    )


def _expect_vector(page: Any, vector: str) -> None:
    """Playwright's auto-waiting assertion on the vector shown (imported with the fixture's
    dependency: without playwright the ``browser`` fixture skips, or fails in CI)."""
    from playwright.sync_api import expect

    expect(page.get_by_test_id("vector")).to_have_text(vector)


def _checked(page: Any) -> str:
    """The vector the radios say (what the grade must show once settled)."""
    letters: list[str] = page.evaluate(
        "[...document.querySelectorAll('#calc-form input:checked')]"
        ".map(e => `${e.name}:${e.value}`)"
    )
    version = page.get_attribute("#calc", "data-version")
    return f"JBG:{version}/" + "/".join(letters)


def _current(page: Any) -> tuple[str, str, str]:
    return (
        page.inner_text("[data-testid=score]").strip(),
        page.inner_text("[data-testid=severity]").strip(),
        page.inner_text("[data-testid=vector]").strip(),
    )


def test_click_metrics_updates_grade_and_url(page: Any) -> None:
    page.goto("/calculator?jbg=1.0")
    low = grade(LOW)
    for part in LOW.split("/")[1:]:
        key, letter = part.split(":")
        _pick(page, key, letter)
        page.wait_for_function(
            "([k, l]) => document.getElementById(`m-${k}-${l}`)?.checked",
            arg=[key, letter],
        )
    page.wait_for_function(
        "v => document.querySelector('[data-testid=vector]').textContent.trim() === v", arg=LOW
    )
    score, sev, vec = _current(page)
    assert (float(score), vec) == (low.score, LOW)
    assert sev.startswith(low.severity)
    assert unquote(page.url).endswith("/calculator?v=" + LOW)
    shot(page, "calculator-low")

    # One click that crosses a label boundary: the score and label both change.
    tip = next(t for t in low.tipping_points if t["direction"] == "up")
    _pick(page, tip["metric"], tip["to"])
    page.wait_for_function(
        "s => document.querySelector('[data-testid=severity]').textContent.trim().startsWith(s)",
        arg=tip["severity"],
    )
    score2, sev2, vec2 = _current(page)
    assert float(score2) == tip["score"] and float(score2) != low.score
    assert sev2.startswith(tip["severity"]) and tip["severity"] != low.severity
    assert unquote(page.url).endswith("/calculator?v=" + vec2)

    # Keyboard: arrow keys move within a radio group and regrade; focus stays on the
    # radio the user moved to, and a quick second press (a held key) is graded too.
    _settled(page)
    metric = tip["metric"]
    page.focus(f"#m-{metric}-{tip['to']}")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    _settled(page)
    moved = _checked(page)
    assert moved != vec2
    _expect_vector(page, moved)
    letter = grade(moved).letters[metric]
    assert page.evaluate("document.activeElement.id") == f"m-{metric}-{letter}"
    shot(page, "calculator-keyboard")


def test_quick_changes_are_all_graded(page: Any) -> None:
    # Changes made faster than the server answers (or just as an answer is swapped in)
    # must neither be undone by that answer nor be left ungraded.
    page.goto("/calculator?jbg=1.0")
    page.evaluate(
        "['LY-S', 'UN-N', 'RL-L'].forEach(id =>"
        " document.querySelector(`label[for=m-${id}]`).click())"
    )
    _settled(page)
    page.evaluate(
        "document.body.addEventListener('htmx:afterSwap',"
        " () => document.querySelector('label[for=m-HD-G]').click(), {once: true});"
        "document.querySelector('label[for=m-TR-S]').click()"
    )
    _settled(page)
    want = "JBG:1.0/LY:S/UN:N/RL:L/TR:S/HD:G/UP:X/AG:X/AC:X/AU:X/EX:X/ST:X"
    assert _checked(page) == want
    _expect_vector(page, want)
    assert unquote(page.url).endswith("/calculator?v=" + want)


def test_share_link_round_trips(page: Any, browser: Any, server: Any) -> None:
    page.goto("/calculator?v=" + TOP)
    link = page.get_attribute("[data-testid=share]", "href")
    assert link is not None
    # A different browser context (a colleague opening the link) sees the same grade.
    other = browser.new_context(base_url=server.base_url)
    try:
        p2 = other.new_page()
        p2.goto(link)
        assert _current(p2) == _current(page)
        assert _current(p2)[1].startswith("Critical")
        assert p2.is_checked("#m-LY-F") and p2.is_checked("#m-ST-A")
    finally:
        other.close()
    shot(page, "calculator-critical")


def test_paste_vector_loads_it(page: Any) -> None:
    page.goto("/calculator")
    target = "JBG:1.0/LY:S/UN:D/RL:M/TR:F/HD:W/UP:P/AG:T/AC:M/AU:Y/EX:P/ST:P"
    page.fill("#paste-v", target)
    page.click(".paste button[type=submit]")
    page.wait_for_function(
        "v => document.querySelector('[data-testid=vector]').textContent.trim() === v", arg=target
    )
    assert page.is_checked("#m-UN-D") and page.is_checked("#m-HD-W")
    assert float(_current(page)[0]) == grade(target).score
    # A malformed vector explains itself (422) and keeps the page usable.
    page.watch.expect_console("status of 422")
    page.fill("#paste-v", "JBG:1.0/LY:Q")
    page.click(".paste button[type=submit]")
    page.wait_for_selector(".error[role=alert]")
    assert "LY" in page.inner_text(".error[role=alert]")
    # The selections that the text did not spell wrongly are still there.
    assert page.is_checked("#m-UN-D") is False and page.is_checked("#m-LY-X")
    shot(page, "calculator-paste-error")


def test_vector_in_the_fragment_is_loaded(page: Any) -> None:
    target = "JBG:1.0/LY:S/UN:D/RL:M/TR:F/HD:W/UP:P/AG:T/AC:M/AU:Y/EX:P/ST:P"
    page.goto("/calculator#" + target)
    page.wait_for_function(
        "v => document.querySelector('[data-testid=vector]').textContent.trim() === v", arg=target
    )
    assert page.is_checked("#m-UN-D")


def test_works_without_javascript(browser: Any, server: Any) -> None:
    ctx = browser.new_context(java_script_enabled=False, base_url=server.base_url)
    try:
        pg = ctx.new_page()
        pg.goto("/calculator")
        pg.click("label[for='m-HD-C']")
        pg.click("label[for='m-UP-F']")
        pg.click("#calc-form button[type=submit]")
        pg.wait_for_load_state()
        assert "HD:C/UP:F" in unquote(pg.url)
        assert "HD:C/UP:F" in pg.inner_text("[data-testid=vector]")
    finally:
        ctx.close()


def test_phone_width_shows_the_grade_first_and_every_label_whole(browser: Any, server: Any) -> None:
    """Issue 14: at 390 px the grade is on the first screen, above the metrics; nothing
    overflows sideways and no value label is cut."""
    ctx = browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        base_url=server.base_url,
    )
    try:
        pg = ctx.new_page()
        pg.goto("/calculator")
        assert pg.get_attribute("#calc", "data-version") == "1.1"
        score = pg.locator("[data-testid=score]").bounding_box()
        sev = pg.locator("[data-testid=severity]").bounding_box()
        first_metric = pg.locator("fieldset.metric").first.bounding_box()
        assert score is not None and sev is not None and first_metric is not None
        assert score["y"] + score["height"] <= 844 and sev["y"] + sev["height"] <= 844
        assert score["y"] < first_metric["y"]
        assert pg.evaluate("document.documentElement.scrollWidth") <= 390
        cut = pg.evaluate(
            "[...document.querySelectorAll('#calc-form label')]"
            ".filter(l => l.scrollWidth > l.clientWidth + 1"
            " || l.getBoundingClientRect().right > window.innerWidth)"
            ".map(l => l.htmlFor)"
        )
        assert cut == []
        # A tap regrades, and the new grade is still where the user looks first.
        pg.click("label[for='m-HD-C']")
        pg.wait_for_function(
            "() => document.querySelector('[data-testid=vector]').textContent.includes('HD:C')"
        )
        assert pg.locator("[data-testid=score]").bounding_box()["y"] < first_metric["y"]
        shot(pg, "calculator-390px")
    finally:
        ctx.close()


def test_scorecard_downloads(page: Any) -> None:
    v = "JBG:1.1/LY:S/UN:D/RL:M/TR:F/HD:W/UP:P/CG:L/AG:T/AC:M/AU:Y/EX:P/RE:M/ST:P"
    page.goto("/calculator?v=" + v)
    got = {}
    for fmt in ("png", "svg", "txt"):
        with page.expect_download() as info:
            page.click(f"[data-testid=export-{fmt}]")
        got[fmt] = Path(info.value.path()).read_bytes()
        assert info.value.suggested_filename.endswith("." + fmt)
    assert got["png"][:8] == b"\x89PNG\r\n\x1a\n"
    assert got["svg"].startswith(b"<svg ") and v.encode() in got["svg"]
    assert got["txt"].decode().splitlines()[2] == v
