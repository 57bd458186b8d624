"""Static assets: where they live and which vendored versions are served."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["HTMX_FILE", "HTMX_SHA256", "HTMX_VERSION", "static_dir", "templates_dir"]

#: The exact htmx release vendored from the npm registry (see static/vendor/VENDOR.md).
HTMX_VERSION = "2.0.11"
HTMX_FILE = f"vendor/htmx-{HTMX_VERSION}.min.js"
HTMX_SHA256 = "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717"


def static_dir() -> Path:
    return Path(str(resources.files("jbgrade.web").joinpath("static")))


def templates_dir() -> Path:
    return Path(str(resources.files("jbgrade.web").joinpath("templates")))
