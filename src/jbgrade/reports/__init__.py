"""Reports: JSON, self-contained HTML and PDF, with charts rendered offline.

HTML and PDF need the ``reports`` extra (altair, vl-convert-python, weasyprint,
jinja2); they are imported only when a report is rendered.
"""

from jbgrade.reports._charts import (
    Chart,
    criterion_levels_chart,
    dispute_actions_chart,
    evidence_charts,
    render_svg,
    success_by_domain_chart,
    transfer_chart,
)
from jbgrade.reports._html import (
    action_label,
    assessment_charts,
    render_assessment_html,
    render_comparison_html,
    render_dispute_html,
)
from jbgrade.reports._pdf import html_to_pdf
from jbgrade.reports._write import (
    Written,
    reports_available,
    write_assessment_reports,
    write_dispute_reports,
)

__all__ = [
    "Chart",
    "Written",
    "action_label",
    "assessment_charts",
    "criterion_levels_chart",
    "dispute_actions_chart",
    "evidence_charts",
    "html_to_pdf",
    "render_assessment_html",
    "render_comparison_html",
    "render_dispute_html",
    "render_svg",
    "reports_available",
    "success_by_domain_chart",
    "transfer_chart",
    "write_assessment_reports",
    "write_dispute_reports",
]
