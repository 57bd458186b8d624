"""`campaign run --executor/--address`: bad combinations exit 2 with one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "examples/campaigns/reference-http.yaml"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--address", "127.0.0.1:1"], "--address needs --executor ray"),
        (["--executor", "ray", "--shard", "0/2"], "do not combine"),
        (["--executor", "dask"], "dask"),
    ],
)
def test_bad_executor_options(tmp_path: Path, args: list[str], needle: str) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "jbgrade", "campaign", "run", str(SPEC), "--out",
         str(tmp_path / "c"), *args],
        capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"}, check=False,
    )  # fmt: skip
    assert r.returncode == 2, r.stderr
    assert needle in r.stderr
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "c").exists()
