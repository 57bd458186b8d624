"""Issue 14, point 3: a hostile file never crashes the process. A 60 KB YAML file
nested 30,000 levels, and each explicit tag the value does not fit, give exit 2 and
one line everywhere a file is read."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.test_rubric_cli import assert_one_line_error, run

VECTOR = "JBG:1.0/LY:F/UN:U/RL:H/TR:M/HD:C/UP:F/AG:A/AC:L/AU:Y/EX:O/ST:A"

FILES = {
    "deep-flow": "a: " + "[" * 30_000 + "]" * 30_000 + "\n",
    "deep-block": "- " * 30_000 + "x\n",
    "int": "a: !!int ''\n",
    "float": "a: !!float ''\n",
    "timestamp": "a: !!timestamp foo\n",
    "bool": "a: !!bool maybe\n",
}

COMMANDS = {
    "decide --context": ["decide", VECTOR, "--profile", "lab-frontier", "--context", "{f}"],
    "assess": ["assess", "{f}", "--out", "{out}"],
    "campaign run": ["campaign", "run", "{f}", "--out", "{out}", "--quiet"],
    "policy check": ["policy", "check", "{f}"],
    "target serve --config": ["target", "serve", "--config", "{f}", "--port", "0"],
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_hostile_yaml_gives_exit_2_and_one_line(command: str, tmp_path: Path) -> None:
    for name, text in FILES.items():
        f = tmp_path / f"{name}.yaml"
        f.write_text(text)
        args = [a.format(f=f, out=tmp_path / "out") for a in COMMANDS[command]]
        p = run(*args)
        assert_one_line_error(p, str(f))


def test_oversized_payload_file_is_refused_before_reading(tmp_path: Path) -> None:
    from jbgrade.assess._case import MAX_PAYLOAD_BYTES
    from tests.assess.demo import copy_demo

    cases = copy_demo(tmp_path / "cases")
    with (cases / "payload.txt").open("wb") as fh:
        fh.truncate(MAX_PAYLOAD_BYTES + 1)  # sparse: nothing written
    p = run("assess", str(cases / "lab.yaml"), "--out", str(tmp_path / "out"), "--no-pdf")
    assert_one_line_error(p, "payload file larger than")
