"""Property-based API test (schemathesis) against the app in process, as a super-
administrator: every operation of the OpenAPI document, bounded examples each.
Zero 5xx, every response conforms to its declared schema and content type, and a
405 names the methods that exist (``Allow``)."""

from __future__ import annotations

import secrets
import tempfile
from pathlib import Path

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    allow_header_conformance,
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from jbgrade.api import Settings  # noqa: E402
from jbgrade.registry import Keyring, Registry, make_engine, upgrade  # noqa: E402
from jbgrade.web import create_app  # noqa: E402

_DIR = Path(tempfile.mkdtemp(prefix="jbgrade-schemathesis-"))
_URL = f"sqlite:///{_DIR / 'r.db'}"
_KEY = secrets.token_bytes(32)


def _app_and_token() -> tuple[object, str]:
    eng = make_engine(_URL)
    upgrade(eng)
    reg = Registry(eng, Keyring.from_keys(_KEY))
    root, tok = reg.bootstrap("Operators", "root")
    lab = reg.create_org(root, "Lab", kind="lab")
    assessor = Registry.actor_of(reg.create_user(root, lab.id, "assessor", "assessor"))
    reg.report_case(assessor, title="A case", payload="CANARY-SCHEMA-1")
    eng.dispose()
    app = create_app(Settings(db_url=_URL, payload_keys=(_KEY,), rate_burst=1_000_000))
    return app, tok.token.get_secret_value()


APP, TOKEN = _app_and_token()
schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", APP)


@schema.parametrize()
@settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms(case: schemathesis.Case) -> None:
    case.call_and_validate(
        headers={"authorization": f"Bearer {TOKEN}"},
        checks=[
            not_a_server_error,
            response_schema_conformance,
            content_type_conformance,
            status_code_conformance,
            allow_header_conformance,
        ],
    )
