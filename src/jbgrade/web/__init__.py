"""The browser UI: server-rendered pages (Jinja2, autoescaped) with vendored htmx.

``create_app(settings)`` serves the JSON API and the pages together; it is
what ``jbgrade serve`` runs.
"""

from jbgrade.web._app import create_app
from jbgrade.web._assets import HTMX_SHA256, HTMX_VERSION

__all__ = ["HTMX_SHA256", "HTMX_VERSION", "create_app"]
