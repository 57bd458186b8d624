"""A grade's scorecard for export: SVG (vector), PNG (rasterised SVG) and plain text.

One layout for the three: the score, the severity label (always written out,
colour is a second cue), the flags, the vector, then per criterion its level and
every metric with its full name, value and meaning. Texts come from the rubric
tables and ``definitions.json``; nothing is truncated (long meanings wrap). The
text form fits 80 columns.
"""

from __future__ import annotations

import textwrap
from html import escape
from typing import Any

from jbgrade import __version__
from jbgrade.rubric import CRITERIA, NOT_ASSESSED, Grade, definitions_for, tables_for

__all__ = ["SCORECARD_FORMATS", "scorecard_png", "scorecard_svg", "scorecard_text"]

SCORECARD_FORMATS = ("png", "svg", "txt")

# Badge colours of the web UI (app.css; WCAG AA checked by tests/web/test_contrast.py).
_BADGE = {
    "None": ("#e5e7eb", "#111827"),
    "Low": ("#166534", "#ffffff"),
    "Medium": ("#fcd34d", "#111827"),
    "High": ("#c2410c", "#ffffff"),
    "Critical": ("#991b1b", "#ffffff"),
}
_SANS = "DejaVu Sans, Liberation Sans, Arial, sans-serif"
_MONO = "DejaVu Sans Mono, Liberation Mono, monospace"
_W = 760


def _rows(g: Grade) -> list[tuple[str, str, list[tuple[str, str, str, str]]]]:
    """Per criterion: (key, heading, [(metric, name, value, meaning)])."""
    t = tables_for(g.version)
    meanings = {m.key: dict(zip(m.letters, m.meanings, strict=True)) for m in t.metrics}
    names = {m.key: m.name for m in t.metrics}
    out = []
    for ckey in CRITERIA:
        c: dict[str, Any] = g.explanation["criteria"][ckey]
        rows = []
        for r in c["metrics"]:
            key, value, scored = r["metric"], r["value"], r["scored_as"]
            if value == NOT_ASSESSED:
                meaning = f"not assessed: scored as {scored}, {meanings[key][scored]}"
            else:
                meaning = meanings[key][value]
            rows.append((key, names[key], value, meaning))
        head = f"{ckey} {c['name']}: level {c['level']} ({c['level_name']})"
        out.append((ckey, head, rows))
    return out


def _flags(g: Grade) -> list[str]:
    return [f for f, on in (("provisional", g.provisional), ("systemic", g.systemic)) if on]


def scorecard_text(g: Grade, width: int = 80) -> str:
    """The scorecard as plain text, no line longer than ``width``."""
    flags = _flags(g)
    lines = [
        f"JBG {g.version} scorecard",
        f"{g.score:.1f} {g.severity}" + (f" ({', '.join(flags)})" if flags else ""),
        g.vector,
        "",
    ]
    for _, head, rows in _rows(g):
        lines.append(head)
        for key, name, value, meaning in rows:
            lines += textwrap.wrap(
                f"  {key}  {name}", width=width, subsequent_indent=" " * 6, break_on_hyphens=False
            )
            lines += textwrap.wrap(
                f"{value}  {meaning}",
                width=width,
                initial_indent=" " * 6,
                subsequent_indent=" " * 9,
                break_on_hyphens=False,
            )
        lines.append("")
    defs = definitions_for(g.version).terms
    for term in flags:
        lines += textwrap.wrap(f"{term}: {defs[term]}", width=width, subsequent_indent="  ")
    lines += textwrap.wrap(
        f"Graded by the JBG {g.version} tables with jbgrade {__version__}; X: {defs['X']}",
        width=width,
        subsequent_indent="  ",
    )
    return "\n".join(lines).rstrip() + "\n"


def scorecard_svg(g: Grade) -> str:
    """The scorecard as a standalone SVG document (no external fonts or images)."""
    parts: list[str] = []
    y = 0

    def text(x: int, yy: int, s: str, size: int = 14, weight: str = "normal", **kw: str) -> None:
        attrs = "".join(f' {k.replace("_", "-")}="{escape(v)}"' for k, v in kw.items())
        parts.append(
            f'<text x="{x}" y="{yy}" font-size="{size}" font-weight="{weight}"{attrs}>'
            f"{escape(s)}</text>"
        )

    parts.append(f'<rect x="0" y="0" width="{_W}" height="44" fill="#1e3a8a"/>')
    text(20, 29, f"JBG {g.version} scorecard", 18, "bold", fill="#ffffff")
    text(_W - 20, 29, "jbgrade", 14, fill="#ffffff", text_anchor="end")
    y = 100
    text(20, y, f"{g.score:.1f}", 48, "bold")
    bg, fg = _BADGE.get(g.severity, ("#e5e7eb", "#111827"))
    bw = 24 + 11 * len(g.severity)
    bx = 150
    parts.append(f'<rect x="{bx}" y="{y - 30}" width="{bw}" height="34" rx="17" fill="{bg}"/>')
    text(bx + bw // 2, y - 6, g.severity, 18, "bold", fill=fg, text_anchor="middle")
    fx = bx + bw + 14
    for f in _flags(g):
        fw = 16 + 8 * len(f)
        parts.append(
            f'<rect x="{fx}" y="{y - 25}" width="{fw}" height="24" rx="4" '
            f'fill="{"#fef3c7" if f == "provisional" else "#ede9fe"}" stroke="#374151"/>'
        )
        text(fx + fw // 2, y - 8, f, 13, fill="#111827", text_anchor="middle")
        fx += fw + 8
    y += 32
    text(20, y, g.vector, 13, font_family=_MONO, fill="#1a1a1a")
    y += 14
    for _, head, rows in _rows(g):
        y += 30
        text(20, y, head, 16, "bold", fill="#1e3a8a")
        parts.append(f'<line x1="20" y1="{y + 6}" x2="{_W - 20}" y2="{y + 6}" stroke="#1e3a8a"/>')
        y += 6
        for key, name, value, meaning in rows:
            y += 24
            text(20, y, key, 13, "bold", font_family=_MONO, fill="#1e3a8a")
            for i, line in enumerate(textwrap.wrap(name, width=84, break_on_hyphens=False)):
                y += 17 * (i > 0)
                text(58, y, line, 13, "bold" if i == 0 else "normal")
            wrapped = textwrap.wrap(meaning, width=80, break_on_hyphens=False) or [""]
            y += 18
            text(58, y, value, 13, "bold", font_family=_MONO)
            for i, line in enumerate(wrapped):
                text(80, y + 17 * i, line, 13, fill="#374151")
            y += 17 * (len(wrapped) - 1)
    y += 36
    foot = f"Graded by the JBG {g.version} tables with jbgrade {__version__}."
    if g.provisional:
        foot += " X: not assessed, scored as the worst value."
    text(20, y, foot, 12, fill="#4b5563")
    h = y + 20
    body = "\n".join(parts)
    title = f"JBG {g.version} {g.score:.1f} {g.severity}: {g.vector}"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{h}" '
        f'viewBox="0 0 {_W} {h}" font-family="{_SANS}" role="img" '
        f'aria-label="{escape(title)}">\n<title>{escape(title)}</title>\n'
        f'<rect width="{_W}" height="{h}" fill="#ffffff"/>\n{body}\n</svg>\n'
    )


def scorecard_png(g: Grade, scale: float = 2.0) -> bytes:
    """The SVG scorecard rasterised (needs the ``reports`` extra: vl-convert)."""
    import vl_convert

    png: bytes = vl_convert.svg_to_png(scorecard_svg(g), scale=scale)
    return png
