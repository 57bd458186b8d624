"""Fixtures: real local HTTP servers (the reference target, a fault injector)."""

from __future__ import annotations

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
