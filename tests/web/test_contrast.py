"""WCAG AA contrast (4.5:1) for the severity badges and text colours in app.css."""

from __future__ import annotations

import re

import pytest

from jbgrade.rubric import SEVERITIES
from jbgrade.web._assets import static_dir


def _lum(hex_colour: str) -> float:
    h = hex_colour.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    chans = [int(h[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in chans]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    la, lb = sorted((_lum(a), _lum(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


CSS = (static_dir() / "app.css").read_text()


def _rule(selector: str) -> str:
    m = re.search(re.escape(selector) + r"\s*\{([^}]*)\}", CSS)
    assert m, f"no rule for {selector}"
    return m.group(1)


def _colour(decls: str, prop: str) -> str:
    m = re.search(rf"(?<![-\w]){prop}:\s*(#[0-9a-fA-F]{{3,6}})", decls)
    assert m, f"no {prop} in {decls}"
    return m.group(1)


@pytest.mark.parametrize("severity", SEVERITIES)
def test_badge_contrast(severity: str) -> None:
    decls = _rule(f".sev-{severity}")
    assert contrast(_colour(decls, "background"), _colour(decls, "color")) >= 4.5


def test_text_colours_contrast() -> None:
    root = _rule(":root")
    var = dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{3,6})", root))
    for fg in ("fg", "muted", "link", "accent"):
        assert contrast(var[fg], var["bg"]) >= 4.5, fg
    assert contrast("#ffffff", var["accent"]) >= 4.5  # header and selected buttons
    assert contrast(var["muted"], var["soft"]) >= 4.5  # muted text on soft panels


def test_contrast_function() -> None:
    assert round(contrast("#000000", "#ffffff"), 1) == 21.0
