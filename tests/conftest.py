"""Shared fixtures. Services the CI provides are required there, skipped elsewhere."""

from __future__ import annotations

import os

import pytest


def require_or_skip(flag: str, reason: str) -> None:
    """Skip locally when a service is absent; fail when CI says it must be present."""
    if os.environ.get(flag) == "1":
        pytest.fail(f"{reason} (required here: {flag}=1)")
    pytest.skip(reason)
