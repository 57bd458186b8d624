"""Evidence charts as inline SVG, drawn on the server (no script, no external request).

The numbers come from the evidence model, read the way reports read them: the
stored body is a :class:`jbgrade.evidence.Evidence` record (the registry validates
it on attach), whose per-target, per-domain rates carry their Wilson intervals.
Only the drawing is the web UI's own (a small SVG, so the server needs neither
the reports extra nor a browser-side library).
Every chart comes with the same numbers as a table for screen readers.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

from jbgrade.evidence import Evidence, Rate

__all__ = ["DOMAIN_NAMES", "DomainBar", "domain_bars", "domain_chart_svg"]

#: Hazard domain letter -> the name people read.
DOMAIN_NAMES = {"G": "General", "S": "Societal", "W": "Serious", "C": "Catastrophic"}


@dataclass(frozen=True, slots=True)
class DomainBar:
    """One domain's attack and baseline success rates with their intervals."""

    group: str  # "attack on model"
    domain: str
    attack: Rate | None  # None: no judged attempt in this arm
    baseline: Rate | None


def _judged(r: Rate) -> Rate | None:
    return r if r.n > 0 and r.rate is not None else None


def domain_bars(evidence: Evidence) -> list[DomainBar]:
    """Per attack x target x domain rates, read from the evidence record's fields."""
    out: list[DomainBar] = []
    for atk in evidence.attacks:
        for t in atk.targets:
            for d in t.domains:
                a, b = _judged(d.attack), _judged(d.baseline)
                if a is not None or b is not None:
                    out.append(DomainBar(f"{atk.attack} on {t.model}", d.domain, a, b))
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
        for arm, r, fill, dy in (
            ("attack", b.attack, "#1e3a8a", 0),
            ("baseline", b.baseline, "#93a3c4", row_h),
        ):
            yy = y + dy + 5
            rate = r.rate if r is not None else None
            if r is not None and r.rate is not None:
                lo = x(r.low if r.low is not None else 0.0)
                hi = x(r.high if r.high is not None else 1.0)
                parts.append(
                    f'<rect x="{left}" y="{yy}" width="{max(1.0, x(r.rate) - left):.1f}" '
                    f'height="14" fill="{fill}"><title>{arm}: {_pct(r.rate)} '
                    f"({r.successes}/{r.n})</title></rect>"
                )
                cy = yy + 7
                parts.append(
                    f'<line x1="{lo:.1f}" y1="{cy}" x2="{hi:.1f}" y2="{cy}" '
                    'stroke="#111827" stroke-width="2"/>'
                    f'<line x1="{lo:.1f}" y1="{cy - 5}" x2="{lo:.1f}" y2="{cy + 5}" '
                    'stroke="#111827" stroke-width="2"/>'
                    f'<line x1="{hi:.1f}" y1="{cy - 5}" x2="{hi:.1f}" y2="{cy + 5}" '
                    'stroke="#111827" stroke-width="2"/>'
                )
            parts.append(
                f'<text x="{left + width + 6}" y="{yy + 12}">{arm[0].upper()} {_pct(rate)}</text>'
            )
        y += row_h * 2
    parts.append("</svg>")
    # Every interpolated string above went through escape(); the rest is our markup.
    return Markup("".join(parts))
