"""The CLI: exit codes and one-line errors through a real subprocess; output in-process."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

from jbgrade.cli import main
from tests.policy.conftest import LOWEST, PUBLISHED_DECISION_KEYS, SHIPPED, WORST

SRC = str(Path(__file__).resolve().parents[2] / "src")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """A real process (exit codes and stderr exactly as users see them)."""
    env = {**os.environ, "PYTHONPATH": SRC, "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "jbgrade", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The same entry point in-process (fast; for output checks)."""
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(args))
        except SystemExit as exc:
            code = int(exc.code or 0)
    return subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())


def test_decide_json() -> None:
    p = cli("decide", WORST, "--profile", "lab-frontier", "--aware-on", "2026-06-12", "--json")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["action"] == "block_deployment"
    assert list(out) == PUBLISHED_DECISION_KEYS


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
    p = run("decide", LOWEST, "--profile", "us-export", "--context", str(bad_ctx))
    assert p.returncode == 2, (p.stdout, p.stderr)
    assert len(p.stderr.strip().splitlines()) == 1 and str(bad_ctx) in p.stderr
    cases = [
        ("decide", "JBG:1.0/LY:F", "--profile", "g7-baseline"),
        ("decide", LOWEST, "--profile", "g7-baseline", "--aware-on", "tomorrow"),
        ("decide", LOWEST, "--profile", "us-export", "--context", str(tmp_path / "none.yaml")),
        ("decide", LOWEST, "--profile", "lab-frontier", "--context", str(bad_ctx)),
        ("policy", "show", "nope"),
        ("policy", "diff", "g7-baseline", str(tmp_path / "none.yaml")),
    ]
    for args in cases:
        p = cli(*args)
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
    p = cli("policy", "list", "--json")
    assert p.returncode == 0
    assert [x["id"] for x in json.loads(p.stdout)] == sorted(SHIPPED)
    p = cli("policy", "show", "eu-ai-act-gpai", "--json")
    assert p.returncode == 0
    assert "incident-2d" in json.loads(p.stdout)["document"]["obligations"]
    p = cli("policy", "show", "eu-ai-act-gpai")
    assert p.returncode == 0 and "Rules" in p.stdout
    p = cli("policy", "list")
    assert p.returncode == 0 and "us-export" in p.stdout
    p = cli("schema", "show", "policy-profile")
    assert p.returncode == 0 and json.loads(p.stdout)["title"].startswith("jbgrade policy")


def test_context_file_yes_no_stay_strings(tmp_path: Path) -> None:
    ctx = tmp_path / "ctx.yaml"
    ctx.write_text("placed_on_eu_market: no\ndesignated: yes\n")
    p = cli(
        "decide",
        WORST,
        "--profile",
        "eu-ai-act-gpai",
        "--context",
        str(ctx),
        "--aware-on",
        "2026-06-12",
        "--json",
    )
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["action"] == "none"  # not placed on the EU market: the AI Act does not apply
    gate = out["fired_rules"][0]
    assert gate["id"] == "applies_when"
    assert {"on": "context.placed_on_eu_market", "actual": "no"}.items() <= gate["conditions"][
        0
    ].items()
