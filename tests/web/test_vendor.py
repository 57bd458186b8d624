"""The vendored htmx is the exact recorded release, with its licence, served locally."""

from __future__ import annotations

import hashlib

from starlette.testclient import TestClient

from jbgrade.api import Settings
from jbgrade.web import HTMX_SHA256, HTMX_VERSION, create_app
from jbgrade.web._assets import HTMX_FILE, static_dir


def test_vendored_file_matches_record() -> None:
    data = (static_dir() / HTMX_FILE).read_bytes()
    assert hashlib.sha256(data).hexdigest() == HTMX_SHA256
    assert f'version:"{HTMX_VERSION}"' in data.decode()
    record = (static_dir() / "vendor" / "VENDOR.md").read_text()
    assert HTMX_SHA256 in record and HTMX_VERSION in record
    assert "Zero-Clause BSD" in (static_dir() / "vendor" / "htmx-LICENSE.txt").read_text()


def test_pages_reference_only_local_assets() -> None:
    with TestClient(create_app(Settings())) as c:
        html = c.get("/calculator").text
        assert f'src="/static/{HTMX_FILE}"' in html
        assert "http://" not in html and "https://" not in html and "//cdn" not in html
        assert c.get(f"/static/{HTMX_FILE}").status_code == 200
