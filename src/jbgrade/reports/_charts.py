"""Charts for reports: Vega-Lite specs built with altair, rendered offline to SVG.

altair builds the spec (no pandas: data are inline ``alt.Data(values=...)``),
vl-convert renders it in-process with its bundled engine and fonts, so nothing
is fetched. Each chart comes with a plain-text alternative for screen readers
and for the PDF's accessibility.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from jbgrade._vocab import ACTIONS
from jbgrade.assess import EvidenceView, ProfileComparison, view_of_evidence
from jbgrade.evidence import Evidence
from jbgrade.records import DOMAINS

__all__ = [
    "Chart",
    "criterion_levels_chart",
    "dispute_actions_chart",
    "evidence_charts",
    "render_svg",
    "success_by_domain_chart",
    "transfer_chart",
]

LEVEL_NAMES = ("minimal", "limited", "moderate", "significant", "severe")
ARM_COLOURS = {"attack": "#c0392b", "baseline": "#7f8c8d"}
# DejaVu Sans first: the font WeasyPrint embeds in PDFs (fontconfig's default here), with
# every glyph the labels use (arrows, dashes, accents); browsers fall back to Helvetica.
_FONT = "DejaVu Sans, Helvetica, Arial, sans-serif"


@dataclass(frozen=True, slots=True)
class Chart:
    """A rendered chart: inline SVG plus a text alternative."""

    id: str
    title: str
    svg: str
    alt: str


def _config(chart: Any) -> Any:
    # Left padding: browsers may render axis labels wider than vl-convert measured them
    # (font fallback), and right-aligned labels would then be clipped at the SVG's edge.
    if chart.padding is alt_undefined():
        chart = chart.properties(padding={"left": 28, "top": 5, "right": 5, "bottom": 5})
    return (
        chart.configure(font=_FONT)
        .configure_view(stroke=None)
        .configure_axis(labelFontSize=11, titleFontSize=11, grid=True, gridColor="#eeeeee")
        .configure_legend(labelFontSize=11, titleFontSize=11, orient="top")
        .configure_title(fontSize=13, anchor="start")
    )


def alt_undefined() -> Any:
    import altair as alt

    return alt.Undefined


def render_svg(spec: dict[str, Any]) -> str:
    """Render a Vega-Lite spec to an SVG string (offline)."""
    import vl_convert as vlc

    svg: str = vlc.vegalite_to_svg(spec)
    # Inline use: drop the XML prologue and make it scale with its container.
    svg = re.sub(r"^<\?xml[^>]*>\s*", "", svg)
    return svg.replace("<svg ", '<svg role="img" preserveAspectRatio="xMinYMin meet" ', 1)


def criterion_levels_chart(grade: dict[str, Any]) -> Chart:
    """The three criterion levels (0-4) as horizontal bars."""
    import altair as alt

    crit = grade["criteria"]
    rows = [
        {
            "criterion": f"{k} {crit[k].get('name', k)}",
            "level": crit[k]["level"],
            "label": f"{crit[k]['level']} {LEVEL_NAMES[crit[k]['level']]}",
        }
        for k in ("BP", "EC", "RI")
    ]
    data = alt.Data(values=rows)
    base = alt.Chart(data).encode(
        y=alt.Y("criterion:N", sort=None, title=None, axis=alt.Axis(labelLimit=220)),
    )
    bars = base.mark_bar(color="#34495e", height=18).encode(
        x=alt.X(
            "level:Q",
            scale=alt.Scale(domain=[0, 4]),
            axis=alt.Axis(values=[0, 1, 2, 3, 4], title="level (0 minimal - 4 severe)"),
        )
    )
    text = base.mark_text(align="left", dx=4, color="#222").encode(x="level:Q", text="label:N")
    chart = _config((bars + text).properties(width=360, height=100))
    alt_text = "; ".join(f"{r['criterion']}: level {r['label']}" for r in rows)
    return Chart("criteria", "Criterion levels", render_svg(chart.to_dict()), alt_text)


def _domain_rates(ev: EvidenceView) -> list[dict[str, Any]]:
    """Per target x domain x arm rates with their Wilson intervals (judged arms only)."""
    rows: list[dict[str, Any]] = []
    for t in ev.attack.targets:
        for d in t.domains:
            for arm, r in (("attack", d.attack), ("baseline", d.baseline)):
                if r.n == 0 or r.rate is None:
                    continue
                rows.append(
                    {
                        "target": t.target,
                        "domain": d.domain,
                        "arm": arm,
                        "rate": r.rate,
                        "low": r.low if r.low is not None else 0.0,
                        "high": r.high if r.high is not None else 1.0,
                        "n": r.n,
                        "successes": r.successes,
                    }
                )
    return rows


def success_by_domain_chart(ev: EvidenceView) -> Chart | None:
    """Success rate per domain with Wilson 95% intervals, attack vs baseline, per target."""
    import altair as alt

    rows = _domain_rates(ev)
    if not rows:
        return None
    data = alt.Data(values=rows)
    domains = [d for d in DOMAINS if any(r["domain"] == d for r in rows)]
    colour = alt.Color(
        "arm:N",
        scale=alt.Scale(domain=list(ARM_COLOURS), range=list(ARM_COLOURS.values())),
        title="arm",
    )
    x = alt.X("domain:N", sort=domains, title=None, axis=alt.Axis(labelAngle=0))
    y = alt.Y(
        "rate:Q", scale=alt.Scale(domain=[0, 1]), title="success rate", axis=alt.Axis(format="%")
    )
    base = alt.Chart().encode(x=x, xOffset=alt.XOffset("arm:N", sort=list(ARM_COLOURS)))
    bars = base.mark_bar(opacity=0.85).encode(
        y=y,
        color=colour,
        tooltip=["target:N", "domain:N", "arm:N", "successes:Q", "n:Q"],
    )
    err = base.mark_rule(color="#111", strokeWidth=1.5).encode(y="low:Q", y2="high:Q")
    ticks_lo = base.mark_tick(color="#111", width=8, thickness=1.5).encode(y="low:Q")
    ticks_hi = base.mark_tick(color="#111", width=8, thickness=1.5).encode(y="high:Q")
    layered = alt.layer(bars, err, ticks_lo, ticks_hi, data=data).properties(width=190, height=170)
    targets = sorted({r["target"] for r in rows})
    chart = layered.facet(
        column=alt.Column(
            "target:N", title=None, sort=targets, header=alt.Header(labelFontSize=12)
        ),
        columns=3,
    )
    chart = _config(chart)
    parts = []
    for t in targets:
        for d in DOMAINS:
            a = next(
                (r for r in rows if r["target"] == t and r["domain"] == d and r["arm"] == "attack"),
                None,
            )
            b = next(
                (
                    r
                    for r in rows
                    if r["target"] == t and r["domain"] == d and r["arm"] == "baseline"
                ),
                None,
            )
            if a is None:
                continue
            s = f"{t} {d}: attack {a['rate']:.0%} [{a['low']:.0%}-{a['high']:.0%}] (n={a['n']})"
            if b is not None:
                s += f", baseline {b['rate']:.0%} [{b['low']:.0%}-{b['high']:.0%}]"
            parts.append(s)
    return Chart(
        "success",
        "Success rate per hazard domain (G general, S societal, W serious, C catastrophic), "
        "attack vs baseline, with Wilson 95% intervals",
        render_svg(chart.to_dict()),
        "; ".join(parts),
    )


def transfer_chart(ev: EvidenceView) -> Chart | None:
    """Transfer matrix: of the behaviours broken on one target, the share broken on another."""
    import altair as alt

    cells = [c for c in ev.attack.transfer.matrix if c.source != c.dest]
    if not cells:
        return None
    vendor = {t.target: t.vendor for t in ev.attack.targets}
    order = [t.target for t in ev.attack.targets]

    def name(t: str) -> str:
        return f"{t} ({vendor.get(t, '?')})"

    rows = [
        {
            "source": name(c.source),
            "dest": name(c.dest),
            "share": c.share if c.share is not None else 0.0,
            "label": "n/a"
            if c.share is None
            else f"{c.share:.0%} ({c.broken_both}/{c.tested_both})",
        }
        for c in cells
    ]
    names = [name(t) for t in order]
    data = alt.Data(values=rows)
    base = alt.Chart(data).encode(
        # No gridlines: on a band scale they run through the middle of each cell, that
        # is through its label; the cells' own borders separate them.
        x=alt.X(
            "dest:N",
            sort=names,
            title=None,
            axis=alt.Axis(labelAngle=0, orient="top", labelLimit=0, grid=False, ticks=False),
        ),
        y=alt.Y(
            "source:N",
            sort=names,
            title=None,
            axis=alt.Axis(labelLimit=0, grid=False, ticks=False),
        ),
    )
    heat = base.mark_rect(stroke="#ffffff", strokeWidth=2).encode(
        color=alt.Color(
            "share:Q",
            scale=alt.Scale(domain=[0, 1], scheme="orangered"),
            title="share",
            legend=alt.Legend(format="%", orient="right"),
        )
    )
    text = base.mark_text(fontSize=11).encode(
        text="label:N",
        color=alt.condition(alt.datum.share > 0.55, alt.value("white"), alt.value("#222")),
    )
    chart = _config(
        (heat + text).properties(width=150 * max(len(names), 2), height=34 * len(names))
    )
    alt_text = "; ".join(f"{r['source']} -> {r['dest']}: {r['label']}" for r in rows)
    return Chart(
        "transfer",
        "Transfer: of the behaviours broken on a target (row), the share also broken on "
        "another (column)",
        render_svg(chart.to_dict()),
        alt_text,
    )


def dispute_actions_chart(
    comparisons: Sequence[ProfileComparison], party_a: str, party_b: str
) -> Chart | None:
    """Each side's action under each profile, on the ordered action scale."""
    import altair as alt

    if not comparisons:
        return None
    rows = []
    for c in comparisons:
        rows.append({"profile": c.profile, "party": f"A: {party_a}", "action": c.action_a})
        rows.append({"profile": c.profile, "party": f"B: {party_b}", "action": c.action_b})
    data = alt.Data(values=rows)
    base = alt.Chart(data).encode(
        y=alt.Y(
            "profile:N",
            title=None,
            sort=[c.profile for c in comparisons],
            axis=alt.Axis(labelLimit=200, labelPadding=6),
        ),
        x=alt.X(
            "action:N",
            sort=list(ACTIONS),
            scale=alt.Scale(domain=list(ACTIONS)),
            title="action (weakest to strongest)",
            axis=alt.Axis(labelAngle=0),
        ),
    )
    rule = (
        alt.Chart(data)
        .mark_line(color="#bbb")
        .encode(
            y=alt.Y("profile:N", sort=[c.profile for c in comparisons]),
            x=alt.X("action:N", sort=list(ACTIONS)),
            detail="profile:N",
        )
    )
    # The legend below the plot, one party per line, never truncated: party names are
    # organisation names of any length (the top legend cut them).
    legend = alt.Legend(orient="bottom", direction="vertical", labelLimit=0, title=None)
    pts = base.mark_point(size=160, filled=True, opacity=0.9).encode(
        color=alt.Color(
            "party:N", scale=alt.Scale(range=["#2c7fb8", "#d95f0e"]), title=None, legend=legend
        ),
        shape=alt.Shape("party:N", title=None, legend=legend),
        yOffset=alt.YOffset("party:N"),
    )
    chart = _config(
        (rule + pts).properties(width=620, height=40 * len(comparisons), padding={"left": 12})
    )
    alt_text = "; ".join(f"{c.profile}: A {c.action_a}, B {c.action_b}" for c in comparisons)
    return Chart(
        "actions",
        "Action under each profile, as each side assessed",
        render_svg(chart.to_dict()),
        alt_text,
    )


def evidence_charts(
    evidence: Evidence | Mapping[str, Any] | EvidenceView, attack: str | None = None
) -> list[Chart]:
    """Success per domain (attack vs baseline, with intervals) and the transfer matrix.

    Takes an :class:`~jbgrade.evidence.Evidence` record or its JSON (as the registry
    stores it), or a report's evidence view; ``attack`` picks one attack when the
    evidence holds several. For pages that show a case's evidence (the web UI).
    """
    if isinstance(evidence, EvidenceView):
        view: EvidenceView | None = evidence
    else:
        ev = evidence if isinstance(evidence, Evidence) else Evidence.model_validate(evidence)
        view = view_of_evidence(ev, attack)
    if view is None:
        return []
    return [c for c in (success_by_domain_chart(view), transfer_chart(view)) if c is not None]
