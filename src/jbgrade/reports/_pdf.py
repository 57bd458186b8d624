"""PDF rendering with WeasyPrint, from the same self-contained HTML."""

from __future__ import annotations

from typing import Any

from jbgrade._errors import JbgradeError

__all__ = ["html_to_pdf"]


def _refuse(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    # Reports are self-contained; any fetch would be a bug (or a leak), so refuse it.
    raise JbgradeError(f"report tried to fetch {url!r}; reports must be self-contained")


def html_to_pdf(html: str) -> bytes:
    """Render HTML to PDF bytes; nothing is fetched (print CSS applies)."""
    import logging

    import weasyprint

    # WeasyPrint logs CSS it ignores at WARNING on its own logger; keep the CLI quiet.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    pdf: bytes = weasyprint.HTML(string=html, url_fetcher=_refuse).write_pdf()
    return pdf
