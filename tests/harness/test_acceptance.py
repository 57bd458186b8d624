"""Acceptance, end to end over real HTTP with real processes:

- ``jbgrade target serve`` + the bundled example campaign, then ``campaign evidence``;
- SIGKILL a campaign mid-run, ``--resume`` it: same attempts and evidence as an
  uninterrupted run with the same seed, and the server saw no more repeated
  requests than the concurrency limit.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from jbgrade.evidence import load_campaign_evidence
from jbgrade.harness import iter_attempt_records, read_attempts

from .conftest import EXAMPLES

pytestmark = pytest.mark.slow

SPEC = EXAMPLES / "reference-http.yaml"
CONCURRENCY = 16  # limits.concurrency in the example


def _jbgrade(*args: str, env: dict[str, str], **kw: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "jbgrade", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,  # type: ignore[call-overload]
    )


@pytest.fixture
def served() -> Iterator[tuple[str, dict[str, str]]]:
    env = dict(os.environ)
    # 20 ms per completion so the campaign is still running when it is killed.
    p = _jbgrade(
        "target",
        "serve",
        "--port",
        "0",
        "--config",
        str(EXAMPLES / "reference-target.yaml"),
        "--latency-ms",
        "20",
        env=env,
    )
    assert p.stdout is not None
    line = p.stdout.readline()
    assert " on http://127.0.0.1:" in line, line + (p.stderr.read() if p.stderr else "")
    url = line.strip().rsplit(" on ", 1)[1]
    env["JBGRADE_REF_URL"] = url
    try:
        yield url, env
    finally:
        p.send_signal(signal.SIGINT)
        try:
            p.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()


def _get(url: str, method: str = "GET") -> dict[str, int]:
    req = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    with urllib.request.urlopen(req, timeout=10) as r:
        data: dict[str, int] = json.loads(r.read())
    return data


def _facts(d: Path) -> dict[str, tuple[object, ...]]:
    return {
        a.key: (
            a.status,
            a.success,
            a.response,
            a.stopped_by,
            tuple(a.layers_passed),
            a.detected,
            tuple(
                (v.judge, v.success, v.value, tuple(sorted(v.scores.items()))) for v in a.verdicts
            ),
        )
        for a in read_attempts(d)
    }


def _evidence(d: Path) -> dict[str, object]:
    data = load_campaign_evidence(d).model_dump(mode="json")
    data.pop("generated_at", None)
    return data


def test_serve_run_evidence_and_kill_resume(
    served: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    url, env = served
    stats_url = url.removesuffix("/v1") + "/stats"
    whole = tmp_path / "whole"
    p = _jbgrade("campaign", "run", str(SPEC), "--out", str(whole), "--quiet", env=env)
    out, err = p.communicate(timeout=300)
    assert p.returncode == 0, err
    assert "completed" in out
    planned = 48 * 3 * 2  # canary behaviours x (baseline + 2 attacks) x samples
    assert len(read_attempts(whole)) == planned
    stats = _get(stats_url)
    assert stats["target_requests"] == planned  # single-turn, no retries
    assert stats["judge_requests"] > 0

    ev = _jbgrade("campaign", "evidence", str(whole), env=env)
    out, err = ev.communicate(timeout=120)
    assert ev.returncode == 0, err
    assert "Derived JBG metrics" in out
    assert "M-RL" in out
    assert "JBG:1.0/" in out
    ev = _jbgrade("campaign", "evidence", str(whole), "--json", env=env)
    out, _ = ev.communicate(timeout=120)
    assert json.loads(out)

    # Kill -9 mid-run, then resume.
    _get(url.removesuffix("/v1") + "/stats/reset", "POST")
    killed = tmp_path / "killed"
    p = _jbgrade("campaign", "run", str(SPEC), "--out", str(killed), "--quiet", env=env)
    f = killed / "attempts.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if f.exists() and f.read_bytes().count(b"\n") >= 60:
            break
        time.sleep(0.005)
    os.kill(p.pid, signal.SIGKILL)
    p.communicate(timeout=30)
    assert p.returncode == -signal.SIGKILL
    stored_at_kill = f.read_bytes().count(b"\n")
    assert 60 <= stored_at_kill < planned, "the campaign was not killed mid-run"

    r = _jbgrade("campaign", "run", str(SPEC), "--out", str(killed), "--resume", "--quiet", env=env)
    out, err = r.communicate(timeout=300)
    assert r.returncode == 0, err
    assert "completed" in out

    records = list(iter_attempt_records(killed))
    assert len(records) == planned
    assert len({a.key for a in records}) == planned
    assert _facts(killed) == _facts(whole)
    assert _evidence(killed) == _evidence(whole)
    stats = _get(stats_url)
    print(f"killed at {stored_at_kill}/{planned} stored; server after resume: {stats}")
    # Only attempts in flight at the kill were sent twice.
    assert stats["repeated_target"] <= CONCURRENCY, stats
    assert stats["target_requests"] <= planned + CONCURRENCY
    status = _jbgrade("campaign", "status", str(killed), "--json", env=env)
    out, _ = status.communicate(timeout=60)
    data = json.loads(out)
    assert data["stored"] == planned
    assert data["remaining"] == 0
