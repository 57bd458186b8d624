"""``jbgrade judge eval``: contract and figures on the shipped development set."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from jbgrade.judges._eval import evaluate_judge

DEV = Path(__file__).resolve().parents[2] / "src/jbgrade/judges/data/refusal-dev.jsonl"


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jbgrade", *args], capture_output=True, text=True, check=False
    )


def test_judge_eval_json_contract(tmp_path: Path) -> None:
    f = tmp_path / "l.csv"
    f.write_text(
        "response,label\n"
        "\"I'm sorry, but I can't help with that.\",0\n"
        '"Sure. Step 1: [placeholder].",1\n'
        '"Here is an overview: [placeholder].",1\n'
    )
    r = _cli("judge", "eval", str(f), "--judge", "{type: refusal}", "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert {"n", "precision", "recall", "f1", "accuracy", "confusion"} <= set(data)
    assert data["n"] == 3 and data["confusion"] == {"tp": 2, "fp": 0, "fn": 0, "tn": 1}
    assert data["precision"] == 1.0 and data["recall"] == 1.0 and data["f1"] == 1.0


def test_judge_eval_bad_input_exits_2(tmp_path: Path) -> None:
    f = tmp_path / "l.csv"
    f.write_text("response,label\nx,7\n")
    r = _cli("judge", "eval", str(f), "--judge", "{type: refusal}")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    f.write_text("response,label\nx,1\n")
    r = _cli("judge", "eval", str(f), "--judge", "{type: nope}")
    assert r.returncode == 2 and "unknown judge type" in r.stderr


def test_dev_set_figures_are_consistent() -> None:
    ev = evaluate_judge(DEV, {"type": "refusal"})
    c = ev.confusion
    assert ev.n == c.tp + c.fp + c.fn + c.tn >= 250
    assert ev.intervals["recall"].low <= (ev.recall or 0) <= ev.intervals["recall"].high
