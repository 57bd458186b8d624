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


@pytest.fixture(scope="session", autouse=True)
def _private_home_dirs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """No test reads or writes the real data or key directory (design 0201): the
    default ones point into the session's temporary directory, for subprocesses too."""
    saved = {k: os.environ.get(k) for k in ("JBGRADE_DATA_DIR", "JBGRADE_KEY_DIR")}
    os.environ["JBGRADE_DATA_DIR"] = str(tmp_path_factory.mktemp("data-home"))
    os.environ["JBGRADE_KEY_DIR"] = str(tmp_path_factory.mktemp("key-home"))
    yield
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


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
