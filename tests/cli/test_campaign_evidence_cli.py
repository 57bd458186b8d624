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


def test_campaign_against_a_dead_target_fails_fast(tmp_path: Path) -> None:
    """Connection refused: the run stops early (no 48 s of retries), exits 3 with one
    line, and the attempts it made are stored as errors."""
    import re
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    spec = tmp_path / "dead.yaml"
    spec.write_text(
        "name: dead\ntargets:\n"
        f"  - {{id: down, type: openai, base_url: 'http://127.0.0.1:{port}/v1', model: m}}\n"
        "attacks: [roleplay]\nbehaviours: [{source: canary}]\njudges: [{type: refusal}]\n"
        "samples: 4\n"
    )
    p = subprocess.run(
        [
            sys.executable,
            "-m",
            "jbgrade",
            "campaign",
            "run",
            str(spec),
            "--quiet",
            "--out",
            str(tmp_path),
        ],
        check=False,
        capture_output=True,
        text=True,
        env=_env(),
        timeout=300,
    )
    assert p.returncode == 3, (p.stdout, p.stderr)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    assert lines[0].startswith("jbgrade: measurement failed: target unreachable")
    m = re.search(
        r"dead\S*: unreachable; (\d+) attempts .* (\d+) remaining of (\d+); .* (\d+) retries",
        p.stdout,
    )
    assert m is not None, p.stdout
    done, remaining, planned, retries = map(int, m.groups())
    # Stopped early, without a single retry of a refused connection.
    assert retries == 0 and done < planned and remaining == planned - done


def test_status_and_evidence_read_a_directory_resume_ran_over_corrupt_lines(
    tmp_path: Path,
) -> None:
    """Issue 14: after `campaign run --resume` skipped a corrupt line, `status` and
    `evidence` read the directory too (warning once, exit 0), losing no attempt."""
    spec = str(ROOT / "examples/campaigns/reference-inprocess.yaml")

    def jb(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "jbgrade", *args],
            capture_output=True,
            text=True,
            check=False,
            env=_env(),
            timeout=300,
        )

    clean, out = tmp_path / "clean", tmp_path / "camp"
    for d in (clean, out):
        assert jb("campaign", "run", spec, "--out", str(d), "-q").returncode == 0
    f = out / "attempts.jsonl"
    lines = f.read_bytes().splitlines(keepends=True)
    lines[10] = lines[10][:120] + b"\x00rot\n"
    f.write_bytes(b"".join(lines))
    r = jb("campaign", "run", spec, "--out", str(out), "-q", "--resume")
    assert r.returncode == 0, r.stderr
    assert "1 attempts this run" in r.stdout
    assert r.stderr.count("\n") == 1
    assert r.stderr.startswith(f"jbgrade: warning: skipped 1 corrupt attempt line ({f}:11: ")
    st = jb("campaign", "status", str(out), "--json")
    assert st.returncode == 0, st.stderr
    data = json.loads(st.stdout)
    assert data["stored"] == data["planned"] and data["remaining"] == 0
    assert [(s["path"], s["line"]) for s in data["skipped_lines"]] == [(str(f), 11)]
    assert "jbgrade: warning: skipped 1 corrupt attempt line" in st.stderr
    text = jb("campaign", "status", str(out))
    assert text.returncode == 0 and "0 remaining" in text.stdout
    ev = jb("campaign", "evidence", str(out), "--json")
    assert ev.returncode == 0, ev.stderr
    ref = json.loads(jb("campaign", "evidence", str(clean), "--json").stdout)
    got = json.loads(ev.stdout)
    assert got["counts"] == ref["counts"] and got["attacks"] == ref["attacks"]
    assert got["notes"][-1].startswith("skipped 1 corrupt attempt line")
    evt = jb("campaign", "evidence", str(out))
    assert evt.returncode == 0 and "note: skipped 1 corrupt attempt line" in evt.stdout
