"""Shared fixtures. Services the CI provides are required there, skipped elsewhere."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def require_or_skip(flag: str, reason: str) -> None:
    """Skip locally when a service is absent; fail when CI says it must be present."""
    if os.environ.get(flag) == "1":
        pytest.fail(f"{reason} (required here: {flag}=1)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (the web UI and report tests)."""
    if not Path(CHROMIUM).exists():
        require_or_skip("JBGRADE_REQUIRE_BROWSER", f"{CHROMIUM} is not installed")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require_or_skip("JBGRADE_REQUIRE_BROWSER", "playwright is not installed")
        raise
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()
