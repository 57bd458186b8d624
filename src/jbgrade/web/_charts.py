"""Evidence charts as inline SVG, drawn on the server (no script, no external request).

Reads the evidence JSON stored on a case (``jbgrade.evidence`` format) by key,
tolerating absent fields, so older or partial evidence still draws what it has.
Every chart comes with the same numbers as a table for screen readers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

__all__ = ["DOMAIN_NAMES", "DomainBar", "domain_bars", "domain_chart_svg"]

#: Hazard domain letter -> the name people read.
DOMAIN_NAMES = {"G": "General", "S": "Societal", "W": "Serious", "C": "Catastrophic"}


@dataclass(frozen=True, slots=True)
class DomainBar:
    """One domain's attack and baseline success rates with their intervals."""

    group: str  # "attack on target"
    domain: str
    attack: tuple[float | None, float | None, float | None, int, int]  # rate, low, high, k, n
    baseline: tuple[float | None, float | None, float | None, int, int]


def _rate(raw: Any) -> tuple[float | None, float | None, float | None, int, int]:
    if not isinstance(raw, dict):
        return (None, None, None, 0, 0)

    def num(k: str) -> float | None:
        v = raw.get(k)
        return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None

    k = raw.get("successes", 0)
    n = raw.get("n", 0)
    return (
        num("rate"),
        num("low"),
        num("high"),
        k if isinstance(k, int) else 0,
        n if isinstance(n, int) else 0,
    )


def domain_bars(evidence: dict[str, Any]) -> list[DomainBar]:
    """Per attack x target x domain rates from an evidence body."""
    out: list[DomainBar] = []
    attacks = evidence.get("attacks")
    if not isinstance(attacks, list):
        return out
    for atk in attacks:
        if not isinstance(atk, dict):
            continue
        for tgt in atk.get("targets") or []:
            if not isinstance(tgt, dict):
                continue
            group = f"{atk.get('attack', '?')} on {tgt.get('model') or tgt.get('target', '?')}"
            for dom in tgt.get("domains") or []:
                if not isinstance(dom, dict):
                    continue
                out.append(
                    DomainBar(
                        group,
                        str(dom.get("domain", "?")),
                        _rate(dom.get("attack")),
                        _rate(dom.get("baseline")),
                    )
                )
    return out


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.0f}%"


def domain_chart_svg(bars: list[DomainBar], *, title: str, chart_id: str = "chart") -> Markup:
    """Horizontal bars (attack dark, baseline light) with Wilson-interval whiskers."""
    row_h, left, width, top = 26, 190, 360, 28
    height = top + row_h * len(bars) * 2 + 34

    def x(v: float) -> float:
        return left + width * max(0.0, min(1.0, v))

    parts = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{left + width + 70}" '
        f'height="{height}" role="img" aria-labelledby="{escape(chart_id)}-t">',
        f'<title id="{escape(chart_id)}-t">{escape(title)}</title>',
    ]
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        parts.append(
            f'<line x1="{x(tick):.1f}" y1="{top - 6}" x2="{x(tick):.1f}" y2="{height - 30}" '
            'stroke="#d1d5db"/>'
            f'<text x="{x(tick):.1f}" y="{height - 14}" text-anchor="middle">{tick:.0%}</text>'
        )
    y = top
    for b in bars:
        name = DOMAIN_NAMES.get(b.domain, b.domain)
        parts.append(
            f'<text x="4" y="{y + 17}">{escape(name)} ({escape(b.domain)})</text>'
            f'<text x="4" y="{y + row_h + 15}" fill="#4b5563">{escape(b.group[:28])}</text>'
        )
        for arm, (rate, low, high, k, n), fill, dy in (
            ("attack", b.attack, "#1e3a8a", 0),
            ("baseline", b.baseline, "#93a3c4", row_h),
        ):
            yy = y + dy + 5
            if rate is not None:
                parts.append(
                    f'<rect x="{left}" y="{yy}" width="{max(1.0, x(rate) - left):.1f}" '
                    f'height="14" fill="{fill}"><title>{arm}: {_pct(rate)} ({k}/{n})</title></rect>'
                )
            if low is not None and high is not None:
                cy = yy + 7
                parts.append(
                    f'<line x1="{x(low):.1f}" y1="{cy}" x2="{x(high):.1f}" y2="{cy}" '
                    'stroke="#111827" stroke-width="2"/>'
                    f'<line x1="{x(low):.1f}" y1="{cy - 5}" x2="{x(low):.1f}" y2="{cy + 5}" '
                    'stroke="#111827" stroke-width="2"/>'
                    f'<line x1="{x(high):.1f}" y1="{cy - 5}" x2="{x(high):.1f}" y2="{cy + 5}" '
                    'stroke="#111827" stroke-width="2"/>'
                )
            parts.append(
                f'<text x="{left + width + 6}" y="{yy + 12}">{arm[0].upper()} {_pct(rate)}</text>'
            )
        y += row_h * 2
    parts.append("</svg>")
    # Every interpolated string above went through escape(); the rest is our markup.
    return Markup("".join(parts))
