from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from jbgrade.api import Settings
from jbgrade.web import create_app


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(create_app(Settings())) as c:
        yield c
