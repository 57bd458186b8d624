"""Fixtures: real local HTTP servers (the reference target, a fault injector)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from jbgrade.harness import ReferenceServer, load_reference_configs

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "campaigns"


@pytest.fixture
def example_config_path() -> Path:
    return EXAMPLES / "reference-target.yaml"


@pytest.fixture
async def ref_server(example_config_path: Path) -> AsyncIterator[tuple[ReferenceServer, str]]:
    server = ReferenceServer(load_reference_configs(example_config_path))
    http = await server.start()
    try:
        yield server, http.base_url + "/v1"
    finally:
        await server.close()


def campaign_run(spec: Path, out: Path) -> subprocess.CompletedProcess[str]:
    """``python -m jbgrade campaign run SPEC --out OUT`` in a fresh process."""
    return subprocess.run(
        [sys.executable, "-m", "jbgrade", "campaign", "run", str(spec), "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )


def bad_input_line(p: subprocess.CompletedProcess[str]) -> str:
    """The one line of a bad-input exit (code 2, no traceback)."""
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    assert "Traceback" not in p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    return lines[0]
