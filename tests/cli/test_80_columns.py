"""Issue 14: the main commands' text output fits 80 columns, and nothing is cut short.

Each command runs as a user would at an 80-column terminal (COLUMNS=80): no line is
wider than 80 cells, and no table cell ends in an ellipsis (long words fold)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.cells import cell_len

ROOT = Path(__file__).resolve().parents[2]
V11 = "JBG:1.1/LY:F/UN:D/RL:H/TR:F/HD:W/UP:F/CG:S/AG:T/AC:L/AU:Y/EX:P/RE:W/ST:P"
V10 = "JBG:1.0/LY:F/UN:U/RL:H/TR:M/HD:C/UP:F/AG:A/AC:L/AU:Y/EX:O/ST:A"


def _run(*args: str, cwd: Path | None = None) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "COLUMNS": "80"}
    env.pop("JBGRADE_DEBUG", None)
    p = subprocess.run(
        [sys.executable, "-m", "jbgrade", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=300,
        check=False,
    )
    assert p.returncode == 0, (args, p.stderr)
    return p.stdout


def _fits(out: str, what: str) -> None:
    assert out.strip(), what
    wide = [line for line in out.splitlines() if cell_len(line) > 80]
    assert not wide, (what, wide[:3])
    assert "…" not in out, (what, [line for line in out.splitlines() if "…" in line][:3])


@pytest.fixture(scope="module")
def campaign(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("c80") / "camp"
    out = _run(
        "campaign",
        "run",
        str(ROOT / "examples/campaigns/reference-inprocess.yaml"),
        "--out",
        str(d),
        "-q",
    )
    _fits(out, "campaign run")
    return d


@pytest.mark.parametrize(
    "args",
    [
        ("score", V11),
        ("score", V10),
        ("explain", V11),
        ("explain", V10),
        ("decide", V11, "--profile", "lab-frontier"),
        ("decide", V11, "--profile", "us-export"),
        ("migrate", V10),
        ("policy", "list"),
        ("policy", "show", "lab-frontier"),
        ("rubric", "show"),
        ("rubric", "check"),
        ("schema", "list"),
        ("target", "types"),
        ("--help",),
        ("campaign", "run", "--help"),
    ],
    ids=lambda a: " ".join(a)[:40],
)
def test_command_fits_80_columns(args: tuple[str, ...]) -> None:
    _fits(_run(*args), " ".join(args))


def test_campaign_commands_fit_80_columns(campaign: Path) -> None:
    _fits(_run("campaign", "status", str(campaign)), "campaign status")
    _fits(_run("campaign", "evidence", str(campaign)), "campaign evidence")
