"""Shards of one campaign share its limits (limits.sqlite) and start together on one --out.

Real processes over real HTTP: the reference target counts arrivals itself, so the
request rate checked here is the one the target saw, not jbgrade's own count.
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest
import yaml

from jbgrade.harness import load_manifest, read_attempts

from .conftest import EXAMPLES
from .test_acceptance import _jbgrade, served  # noqa: F401 - the fixture

pytestmark = pytest.mark.slow

RATE = 8.0
MODEL = "reference-model"


def _limited_spec(tmp: Path, **limits: object) -> Path:
    spec = yaml.safe_load((EXAMPLES / "reference-http.yaml").read_text())
    spec["samples"] = 1
    spec["limits"] = {**spec["limits"], **limits}
    path = tmp / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def arrivals(url: str) -> list[float]:
    base = url.rsplit("/v1", 1)[0]
    with urllib.request.urlopen(f"{base}/stats/arrivals", timeout=10) as r:
        data: dict[str, list[float]] = json.loads(r.read())
    return sorted(data.get(MODEL, []))


def check_rate(times: list[float], limit: float) -> float:
    """The whole run's rate at the target within 10% of the limit, and no 5 s window
    more than 10% above it (the slot of a request is kept by one clock; the trip from
    the limiter to the sender may bunch a few requests within a second)."""
    assert len(times) > 10
    j = 0
    for i, t in enumerate(times):
        while times[j] < t - 5.0:
            j += 1
        assert i - j + 1 <= 5 * limit * 1.1 + 1, f"{i - j + 1} requests in 5 s at {t}"
    rate = (len(times) - 1) / (times[-1] - times[0])
    assert rate <= limit * 1.1, rate
    return rate


def test_two_shards_share_the_rate_and_start_together(
    tmp_path: Path,
    served: tuple[str, dict[str, str]],  # noqa: F811
) -> None:
    url, env = served
    spec = _limited_spec(tmp_path, requests_per_s=RATE, concurrency=8)
    out = tmp_path / "c"
    procs = [
        _jbgrade("campaign", "run", str(spec), "--out", str(out), "--shard", s, "--quiet", env=env)
        for s in ("0/2", "1/2")
    ]
    for p in procs:
        _stdout, stderr = p.communicate(timeout=300)
        assert p.returncode == 0, stderr
    m = load_manifest(out)
    attempts = read_attempts(out)
    assert len(attempts) == m.planned
    assert all(a.status != "error" for a in attempts)
    rate = check_rate(arrivals(url), RATE)
    # The limit was the bottleneck: two independent shards would have sent ~2 x RATE.
    assert rate > RATE * 0.7
    assert (out / "limits.sqlite").is_file()
