"""Browser-test fixtures: the real server (``jbgrade serve`` under uvicorn).

Chromium itself is the ``browser`` fixture of tests/conftest.py.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx2
import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Server:
    """A running ``jbgrade serve`` process."""

    base_url: str
    proc: subprocess.Popen[str]
    output: list[str] = field(default_factory=list)
    admin_token: str | None = None
    admin_user: str | None = None
    admin_password: str | None = None

    def text(self) -> str:
        return "".join(self.output)


def start_server(data_dir: Path, *extra: str) -> Server:
    port = free_port()
    # An explicit PYTHONPATH (e.g. a checkout under test) wins over this tree's src/.
    env = {**os.environ, "PYTHONPATH": os.environ.get("PYTHONPATH") or str(ROOT / "src")}
    for var in ("JBGRADE_DATABASE_URL", "JBGRADE_KEY", "JBGRADE_KEY_FILE", "JBGRADE_DATA_DIR"):
        env.pop(var, None)
    # Each server its own key directory, apart from its data directory (design 0201).
    env["JBGRADE_KEY_DIR"] = str(data_dir.with_name(data_dir.name + "-keys"))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jbgrade",
            "serve",
            "--port",
            str(port),
            "--data-dir",
            str(data_dir),
            "--no-access-log",
            "--log-level",
            "warning",
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    server = Server(f"http://127.0.0.1:{port}", proc)

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            server.output.append(line)

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            time.sleep(0.2)
            raise RuntimeError(f"jbgrade serve exited {proc.returncode}: {server.text()}")
        try:
            if httpx2.get(server.base_url + "/api/v1/health", timeout=1).status_code == 200:
                break
        except httpx2.HTTPError:
            time.sleep(0.1)
    else:
        proc.kill()
        raise RuntimeError("jbgrade serve did not answer within 30 s")
    text = server.text()
    for attr, label in (
        ("admin_user", "username"),
        ("admin_password", "password"),
        ("admin_token", "API token"),
    ):
        m = re.search(rf"^  {label}:\s+(\S+)$", text, re.M)
        if m:
            setattr(server, attr, m.group(1))
    return server


def stop_server(server: Server) -> str:
    server.proc.terminate()
    try:
        server.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.proc.kill()
        server.proc.wait()
    if server.proc.stdout is not None:
        server.proc.stdout.close()
    return server.text()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server(tmp_path_factory.mktemp("serve"))
    yield srv
    stop_server(srv)


@dataclass
class Watch:
    """What a page did that it must not: leave 127.0.0.1, log console errors."""

    external: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    allowed: list[str] = field(default_factory=list)

    def expect_console(self, fragment: str) -> None:
        """A console error the test provokes on purpose (e.g. a 422 it asserts on)."""
        self.allowed.append(fragment)

    def assert_clean(self) -> None:
        assert not self.external, f"requests left 127.0.0.1: {self.external}"
        errors = [e for e in self.console_errors if not any(a in e for a in self.allowed)]
        assert not errors, f"console errors: {errors}"
        assert not self.failed, f"failed requests: {self.failed}"


@pytest.fixture
def page(browser: Any, server: Server, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1366, "height": 900}, base_url=server.base_url)
    pg = context.new_page()
    watch = Watch()

    def on_request(req: Any) -> None:
        host = urlsplit(req.url).hostname
        if req.url.startswith(("data:", "blob:", "about:")):
            return
        if host != "127.0.0.1":
            watch.external.append(req.url)

    def on_console(msg: Any) -> None:
        if msg.type == "error":
            watch.console_errors.append(msg.text)

    def on_failed(req: Any) -> None:
        watch.failed.append(f"{req.url} ({req.failure})")

    pg.on("request", on_request)
    pg.on("console", on_console)
    pg.on("pageerror", lambda exc: watch.console_errors.append(str(exc)))
    pg.on("requestfailed", on_failed)
    pg.watch = watch
    yield pg
    context.close()
    watch.assert_clean()


def shot(page: Any, name: str) -> Path:
    """Save a full-page screenshot under test-artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / (re.sub(r"[^A-Za-z0-9_.-]", "_", name) + ".png")
    # caret="initial": hiding the caret injects a style element, which our CSP blocks.
    page.screenshot(path=str(path), full_page=True, caret="initial")
    return path


@pytest.fixture
def client() -> Iterator[Any]:
    from starlette.testclient import TestClient

    from jbgrade.api import Settings
    from jbgrade.web import create_app

    with TestClient(create_app(Settings())) as c:
        yield c
