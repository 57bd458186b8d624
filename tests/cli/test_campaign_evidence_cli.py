"""Acceptance: `jbgrade target serve` + the bundled HTTP example campaign, end to end over
real HTTP, then `jbgrade campaign evidence` prints derived metrics with provenance."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT / "src"), "COLUMNS": "200"}


@pytest.fixture
def served() -> Iterator[str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jbgrade",
            "target",
            "serve",
            "--port",
            "0",
            "--config",
            str(ROOT / "examples/campaigns/reference-target.yaml"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("serving "), line + (proc.stderr.read() if proc.stderr else "")
        yield line.rsplit(" on ", 1)[1].strip()
    finally:
        proc.terminate()
        proc.communicate(timeout=10)  # also closes the pipes


def test_example_campaign_over_http_then_evidence(served: str, tmp_path: Path) -> None:
    env = _env() | {"JBGRADE_REF_URL": served}
    out = tmp_path / "camp"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "jbgrade",
            "campaign",
            "run",
            str(ROOT / "examples/campaigns/reference-http.yaml"),
            "--out",
            str(out),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    ev = subprocess.run(
        [sys.executable, "-m", "jbgrade", "campaign", "evidence", str(out)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert ev.returncode == 0, ev.stderr
    for text in (
        "Derived JBG metrics",
        "M-RL",
        "M-HD",
        "M-LY",
        "M-UP",
        "Partial vector",
        "Wilson 95%",
    ):
        assert text in ev.stdout
    data = json.loads(
        subprocess.run(
            [sys.executable, "-m", "jbgrade", "campaign", "evidence", str(out), "--json"],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        ).stdout
    )
    metrics = data["attacks"][0]["metrics"]
    assert metrics["UP"]["value"] is not None  # the rubric judge answered over HTTP
    assert metrics["LY"]["value"] is not None  # the target declared its layers
    assert data["counts"]["errors"] == 0
