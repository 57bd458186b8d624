"""The CLI through a real subprocess: exit codes and one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.policy.conftest import LOWEST, SHIPPED, WORST

SRC = str(Path(__file__).resolve().parents[2] / "src")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": SRC, "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "jbgrade", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def test_decide_json() -> None:
    p = run("decide", WORST, "--profile", "lab-frontier", "--aware-on", "2026-06-12", "--json")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["action"] == "block_deployment"
    assert list(out) == [
        "action",
        "obligations",
        "fired_rules",
        "near_misses",
        "provisional",
        "profile",
        "profile_version",
        "bundle_sha256",
    ]


def test_decide_with_context_file_and_text_output(tmp_path: Path) -> None:
    ctx = tmp_path / "ctx.yaml"
    ctx.write_text("weights: open\ntraining_compute_flop: 3.0e+26\n")
    p = run(
        "decide", WORST, "--profile", "us-export", "--context", str(ctx), "--aware-on", "2026-06-12"
    )
    assert p.returncode == 0, p.stderr
    assert "none" in p.stdout and "does not apply" in p.stdout


def test_unknown_profile_exit_2_lists_available() -> None:
    p = run("decide", WORST, "--profile", "nope")
    assert p.returncode == 2
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1
    for name in SHIPPED:
        assert name in lines[0]


def test_bad_inputs_exit_2_one_line(tmp_path: Path) -> None:
    bad_ctx = tmp_path / "ctx.json"
    bad_ctx.write_text("{not json")
    cases = [
        ("decide", "JBG:1.0/LY:F", "--profile", "g7-baseline"),
        ("decide", LOWEST, "--profile", "g7-baseline", "--aware-on", "tomorrow"),
        ("decide", LOWEST, "--profile", "us-export", "--context", str(bad_ctx)),
        ("decide", LOWEST, "--profile", "us-export", "--context", str(tmp_path / "none.yaml")),
        ("policy", "show", "nope"),
    ]
    for args in cases:
        p = run(*args)
        assert p.returncode == 2, (args, p.stdout, p.stderr)
        assert len(p.stderr.strip().splitlines()) == 1, (args, p.stderr)
        assert "Traceback" not in p.stderr


def test_malformed_profile_file_exit_2_names_file_line(tmp_path: Path) -> None:
    f = tmp_path / "broken.yaml"
    f.write_text(
        "format: jbgrade-policy/1\nid: broken\ntitle: x\nversion: 1.0.0\n"
        "status: active\neffective_from: 2026-01-01\nrules:\n"
        "  - id: a\n    title: a\n    citation: illustrative\n"
        "    when: {HD: {in: [Z]}}\n    action: none\n"
    )
    p = run("decide", LOWEST, "--profile", str(f))
    assert p.returncode == 2
    assert f"{f}:11:" in p.stderr


def test_policy_list_and_show() -> None:
    p = run("policy", "list", "--json")
    assert p.returncode == 0
    assert [x["id"] for x in json.loads(p.stdout)] == sorted(SHIPPED)
    p = run("policy", "show", "eu-ai-act-gpai")
    assert p.returncode == 0
    assert "incident-2d" in p.stdout
    p = run("schema", "show", "policy-profile")
    assert p.returncode == 0 and json.loads(p.stdout)["title"].startswith("jbgrade policy")
